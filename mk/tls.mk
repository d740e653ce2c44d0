# Thread-local storage fixtures (ELF). Included by the Makefile after mk/tests.mk.
#
#   $(FIX)/tls/tls_default.so  tls_vars.c, the compiler's default TLS dialect for -fPIC
#   $(FIX)/tls/tls_desc.so     tls_vars.c with TLS descriptors
#   $(FIX)/tls/tls_trad.so     tls_vars.c with __tls_get_addr
#   $(FIX)/tls/tls_host_ie.so  errno of the C library, initial-exec
#   $(FIX)/tls/tls_host_gd.so  errno of the C library, general-dynamic
#   $(FIX)/tls/tls_ie_own.so   its own variable initial-exec (refused)

TLS_DIR     := $(FIX)/tls
TLS_CC       = $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN)
TLS_DESC    := $(if $(filter aarch64,$(ARCH)),,-mtls-dialect=gnu2)
TLS_TRAD    := $(if $(filter aarch64,$(ARCH)),-mtls-dialect=trad,)

$(TLS_DIR)/tls_default.so: fixtures/tls/tls_vars.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -o $@ $<
$(TLS_DIR)/tls_desc.so: fixtures/tls/tls_vars.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) $(TLS_DESC) -o $@ $<
$(TLS_DIR)/tls_trad.so: fixtures/tls/tls_vars.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) $(TLS_TRAD) -o $@ $<
$(TLS_DIR)/tls_host_ie.so: fixtures/tls/tls_host.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -ftls-model=initial-exec -o $@ $<
$(TLS_DIR)/tls_host_gd.so: fixtures/tls/tls_host.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) $(TLS_TRAD) -o $@ $<
$(TLS_DIR)/tls_ie_own.so: fixtures/tls/tls_ie_own.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -ftls-model=initial-exec -o $@ $<

TLS_FIXTURES := $(addprefix $(TLS_DIR)/,tls_default.so tls_desc.so tls_trad.so tls_host_ie.so tls_host_gd.so tls_ie_own.so)
fixtures: $(TLS_FIXTURES)
$(TEST_BIN): | $(TLS_FIXTURES)
