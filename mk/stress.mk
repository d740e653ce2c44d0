# The thread stress test (tests/stress.c). Included by the Makefile after mk/tests.mk.
#
#   make SANITIZE=thread test-stress    built into build/tsan, run under ThreadSanitizer
#   make test-stress                    the same program without a sanitizer (build/)
#
# Not part of `make test`: it runs for STRESS_SECONDS (20 by default) of rounds, each a child
# process with 16 threads opening, looking up and calling into the fixtures at once.
# ThreadSanitizer is for the native lane only (the aarch64 lane runs under qemu-user, where the
# sanitizer runtimes do not work; SANITIZE with ARCH=aarch64 is refused by the Makefile).
#
#   $(FIX)/stress/nested.so   its initializer calls plugin_open and plugin_open_memory, which it
#                             finds in the stress executable (linked -rdynamic)

STRESS_SECONDS ?= 20
STRESS_BIN     := $(BUILD)/tests/stress
STRESS_FIX     := $(FIX)/stress/nested.so
STRESS_MACHO   := $(if $(filter aarch64,$(ARCH)),arm64,x86_64)
# The fixtures tests/stress.c opens (only these are built for it).
STRESS_USES    := $(addprefix $(FIX)/,basic.so counter.so relr.so libc_user.so relro.so weak.so \
                  initorder.so undef.so origin/origin_plugin.so deps/cycle/libcyc_a.so \
                  tls/tls_default.so tls/tls_desc.so tls/pool_ie.so ifunc.so scope/uniq_a.so \
                  scope/uniq_b.so macho/libfix.chained.$(STRESS_MACHO).dylib \
                  macho/libtlv.$(STRESS_MACHO).dylib) $(STRESS_FIX)

$(STRESS_FIX): fixtures/stress/nested.c include/plugin.h mk/stress.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Iinclude -o $@ $<

$(STRESS_BIN): tests/stress.c include/plugin.h $(BUILD)/libplugin.a mk/stress.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -DFIXTURE_DIR=\"$(abspath $(FIX))\" -rdynamic \
	  -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)

# ThreadSanitizer needs the address-space layout it was built for: on kernels that randomize
# mmap with more bits than it expects (vm.mmap_rnd_bits above 28 on x86-64, some arm64
# kernels) it stops with "unexpected memory mapping"; setarch -R turns randomization off for the
# run, where the personality call is allowed (a container's seccomp profile may refuse it:
# then the program runs as it is). halt_on_error: the first report ends the round, which fails.
ifneq ($(filter thread,$(subst $(comma), ,$(SANITIZE))),)
NO_ASLR    := $(shell setarch $(HOST_ARCH) -R true 2>/dev/null && echo setarch $(HOST_ARCH) -R)
STRESS_RUN := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $(TSAN_OPTIONS)" $(NO_ASLR)
endif

.PHONY: test-stress
test-stress: $(DEPS_STAMP) $(STRESS_BIN) $(STRESS_USES)
	@echo "== stress: 16 threads, $(STRESS_SECONDS) s$(if $(SANITIZE), (SANITIZE=$(SANITIZE)),)"
	$(STRESS_RUN) $(STRESS_BIN) $(STRESS_SECONDS)
