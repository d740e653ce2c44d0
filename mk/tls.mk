# Thread-local storage fixtures (ELF). Included by the Makefile after mk/tests.mk.
#
#   $(FIX)/tls/tls_default.so  tls_vars.c, the compiler's default TLS dialect for -fPIC
#   $(FIX)/tls/tls_desc.so     tls_vars.c with TLS descriptors
#   $(FIX)/tls/tls_trad.so     tls_vars.c with __tls_get_addr
#   $(FIX)/tls/tls_host_ie.so  errno of the C library, initial-exec
#   $(FIX)/tls/tls_host_gd.so  errno of the C library, general-dynamic
#   $(FIX)/tls/tls_ie_own.so   its own variable initial-exec, initial value 1 (refused)

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

# ---- initial-exec TLS of a plugin's own variables, served from the host's static TLS pool ----
#   $(TLS_DIR)/pool_ie.so     its own variables, initial-exec
#   $(TLS_DIR)/pool_gd.so     needs pool_ie.so; its variable through both dynamic dialects
#   $(TLS_DIR)/pool_late_ie.so  needs tls_default.so; initial-exec access to its variable
#   $(TLS_DIR)/pool_undef.so  initial-exec block, and an undefined function: never loads
#   $(TLS_DIR)/pool_big.so    a 4096-byte initial-exec block: more than the host's pool
#   $(TLS_DIR)/static_ie.so   -nostdlib, initial-exec: for tests/static_host.c's pool registered by hand
#   $(TLS_DIR)/pool_gomp.so   OpenMP (-fopenmp): needs libgomp.so.1, whose TLS is initial-exec
#   $(TLS_DIR)/golib.so       fixtures/go/golib.go, go build -buildmode=c-shared (Debian's golang-go)
#   $(BUILD)/tests/tls_pool_host   the host with PLUGIN_STATIC_TLS_POOL(256) that runs them
TLS_OTHER_DIALECT := $(if $(filter aarch64,$(ARCH)),-mtls-dialect=trad,-mtls-dialect=gnu2)

$(TLS_DIR)/pool_ie.so: fixtures/tls/pool_ie.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -ftls-model=initial-exec -Wl,-soname,pool_ie.so -o $@ $<
$(TLS_DIR)/pool_gd.so: fixtures/tls/pool_gd.c $(TLS_DIR)/pool_ie.so
	$(FIXTURE_CC) -fPIC -O1 -g $(FIXTURE_WARN) -DGD_ADDR=gd_addr -c -o $@.gd.o $<
	$(FIXTURE_CC) -fPIC -O1 -g $(FIXTURE_WARN) $(TLS_OTHER_DIALECT) -DGD_ADDR=alt_addr -c -o $@.alt.o $<
	$(FIXTURE_CC) -shared -o $@ $@.gd.o $@.alt.o -L$(TLS_DIR) -l:pool_ie.so -Wl,-rpath,'$$ORIGIN'
$(TLS_DIR)/pool_late_ie.so: fixtures/tls/pool_late_ie.c $(TLS_DIR)/tls_default.so
	$(TLS_CC) -ftls-model=initial-exec -o $@ $< -L$(TLS_DIR) -l:tls_default.so -Wl,-rpath,'$$ORIGIN'
$(TLS_DIR)/pool_undef.so $(TLS_DIR)/pool_big.so: $(TLS_DIR)/%.so: fixtures/tls/%.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -ftls-model=initial-exec -o $@ $<
$(TLS_DIR)/pool_gomp.so: fixtures/tls/pool_gomp.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -fopenmp -o $@ $<

# For the -static host: no C library at all (like hostcall.so).
$(TLS_DIR)/static_ie.so: fixtures/tls/static_ie.c mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(TLS_CC) -ftls-model=initial-exec -nostdlib -o $@ $<

# Go: offline (GO111MODULE=off, a single-file main package), its cache inside build/ (shared by
# the lanes) so that nothing is written to $HOME; cross-built for arm64 with the cross gcc.
GO_ARCH := $(if $(filter aarch64,$(ARCH)),arm64,amd64)
GO_ENV   = GO111MODULE=off GOFLAGS= GOENV=off GOTOOLCHAIN=local GOCACHE=$(abspath build/go-cache) \
           GOPATH=$(abspath build/go-path) GOARCH=$(GO_ARCH) CGO_ENABLED=1 CC=$(FIXTURE_CC)
$(TLS_DIR)/golib.so: fixtures/go/golib.go mk/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(GO_ENV) go build -buildmode=c-shared -o $@ fixtures/go/golib.go
	@rm -f $(TLS_DIR)/golib.h

# The host links the library as a program would (sanitized with SANITIZE, like cxx_host).
$(BUILD)/tests/tls_pool_host: tests/tls_pool_host.c include/plugin.h $(BUILD)/libplugin.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)

POOL_FIXTURES := $(addprefix $(TLS_DIR)/,pool_ie.so pool_gd.so pool_late_ie.so pool_undef.so pool_big.so pool_gomp.so golib.so static_ie.so)
fixtures: $(POOL_FIXTURES)
$(TEST_BIN): | $(POOL_FIXTURES) $(BUILD)/tests/tls_pool_host
