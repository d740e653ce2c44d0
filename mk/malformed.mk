# The malformed corpus (issue 11, "hostile input"). Included by the Makefile after mk/tests.mk
# and mk/macho.mk (it uses FIX, FIXTURE_CC, FIXTURE_WARN, LLVM19_BIN, MACHO_CFLAGS, TEST_BIN).
#
#   make malformed     the corpus only: $(BUILD)/malformed/cases.tsv and one file per case
#
# Two base objects that load cleanly (fixtures/malformed/): an ELF one for the lane's CPU and a
# Mach-O one in both fixup styles, for both CPUs (the other CPU's is a slice of the fat cases).
# tests/malformed/gen_malformed.py plants one defect in a copy of a base per case and writes the
# manifest: name, file, expected plugin_errc, a substring the message must contain.
# tests/malformed/test_malformed.c walks it. The ELF cases are cut from this lane's base, so the
# aarch64 lane gets aarch64 inputs; the Mach-O cases from this lane's CPU's slice.

MAL_FIX   := $(FIX)/malformed
MAL_OUT   := $(BUILD)/malformed
MAL_CPU   := $(if $(filter aarch64,$(ARCH)),arm64,x86_64)
MAL_OTHER := $(if $(filter aarch64,$(ARCH)),x86_64,arm64)

# The ELF base: every table the loader reads (see base.c), SysV hash too.
$(MAL_FIX)/base.so: fixtures/malformed/base.c fixtures/malformed/base.map mk/malformed.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) -shared -fPIC -O1 -fno-builtin $(FIXTURE_WARN) -o $@ $< -Wl,--hash-style=both \
	  -Wl,-soname,libmbase.so -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' \
	  -Wl,--version-script,fixtures/malformed/base.map

# The Mach-O base, per CPU ($(1)): opcode style and chained style.
define mal_macho_cpu
$(MAL_FIX)/base_macho.$(1).o: fixtures/malformed/base_macho.c mk/malformed.mk | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$(LLVM19_BIN)/clang -target $(1)-apple-macos11 $(MACHO_CFLAGS) -c $$< -o $$@
$(MAL_FIX)/base.info.$(1).dylib: $(MAL_FIX)/base_macho.$(1).o
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup $$< -o $$@
$(MAL_FIX)/base.chained.$(1).dylib: $(MAL_FIX)/base_macho.$(1).o
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup -fixup_chains $$< -o $$@
endef
$(foreach cpu,x86_64 arm64,$(eval $(call mal_macho_cpu,$(cpu))))

MAL_BASES := $(MAL_FIX)/base.so \
             $(foreach cpu,x86_64 arm64,$(MAL_FIX)/base.info.$(cpu).dylib $(MAL_FIX)/base.chained.$(cpu).dylib)

# The corpus, written again whenever a base or the generator changes. python3: scripts/deps.sh.
$(MAL_OUT)/cases.tsv: tests/malformed/gen_malformed.py $(MAL_BASES)
	@rm -rf $(MAL_OUT) && mkdir -p $(MAL_OUT)
	python3 tests/malformed/gen_malformed.py --fixtures $(MAL_FIX) --cpu $(MAL_CPU) --other $(MAL_OTHER) \
	  --out $(MAL_OUT)

.PHONY: malformed
malformed fixtures: $(MAL_OUT)/cases.tsv
$(TEST_BIN): | $(MAL_OUT)/cases.tsv
