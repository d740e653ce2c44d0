# Mach-O fixtures (built with clang-19 / lld-19, for x86_64 and arm64 in every lane). Included by
# the Makefile after mk/tests.mk. See ../shared/notes/macho-fixtures.md for the recipes.
#
# Every object depends on this file, so a change of flags or recipes rebuilds the fixtures.
# Building Mach-O needs no CPU and no macOS SDK: every fixture is freestanding C. Both CPUs are
# built in every lane; tests/macho/test_macho.c loads the one of the lane's CPU (x86_64 natively, arm64
# under qemu) and uses the other for PLUGIN_ERR_ARCH. Everything lands in $(FIX)/macho:
#
#   libfix.info.<cpu>.dylib      fixtures/macho/fix.c, LC_DYLD_INFO_ONLY (rebase/bind opcodes)
#   libfix.chained.<cpu>.dylib   the same, -fixup_chains (DYLD_CHAINED_PTR_64, IMPORT_ADDEND)
#   fix.<cpu>.bundle             the same, MH_BUNDLE (opcode style)
#   libaddend64.<cpu>.dylib      chained, a bind with an addend >= 2^32 (IMPORT_ADDEND64)
#   libprintf.<cpu>.dylib        chained, binds printf (variadic: refused on arm64)
#   libtlv.<cpu>.dylib           chained, an exported __thread variable
#   libtlvregs.<cpu>.dylib       chained, values live in registers across thread-local accesses
#   libclock.<cpu>.dylib         chained, imports clock_gettime (libc's, not the vDSO's)
#   twolevel.<cpu>/libhost.dylib      install name @rpath/libhost.dylib
#   twolevel.<cpu>/libtwolevel.dylib  links libhost (ordinal 1), LC_RPATH @loader_path/.
#   libterm.<cpu>.dylib          chained, finalizers in __mod_term_func
#   librawname.<cpu>.dylib       chained, exports whose names lack the leading underscore
#   reexport.<cpu>/libhost.dylib      host.c again, install name @rpath/libhost.dylib
#   reexport.<cpu>/librx.dylib        re-exports libhost (LC_REEXPORT_DYLIB), LC_RPATH @loader_path/.
#   reexport.<cpu>/librxclient.dylib  links librx only: libhost's symbols bound through librx's ordinal
#   weak.<cpu>/libwkdep.dylib         weak and non-weak definitions of wk_shared / wk_strong
#   weak.<cpu>/libwkroot.dylib        links libwkdep, weak definitions of both (chained: ordinal -3)
#   weak.<cpu>/libwkroot.info.dylib   the same, opcode style (the weak-bind stream)
#   exepath.<cpu>/libhost.dylib       host.c, install name @executable_path/$(EXE_TO_MACHO)/exepath.<cpu>/libhost.dylib
#   exepath.<cpu>/libexe_direct.dylib twolevel.c linking that libhost: LC_LOAD_DYLIB @executable_path/...
#   exepath.<cpu>/libexe_rpath.dylib  twolevel.c linking twolevel.<cpu>/libhost.dylib (@rpath) with
#                                     LC_RPATH @executable_path/$(EXE_TO_MACHO)/twolevel.<cpu>
#                                     ($(EXE_TO_MACHO): from the test binary's directory to $(MACHO_DIR))
#   fat.dylib, fat64.dylib       libfix.chained for both CPUs (cafebabe / cafebabf)
#   fat_only_<cpu>.dylib         a universal file with that one CPU's slice

LLVM19_BIN   := /usr/lib/llvm-19/bin
MACHO_DIR    := $(FIX)/macho
MACHO_CPUS   := x86_64 arm64
MACHO_CFLAGS := -O1 -std=gnu11 -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-stack-protector
MACHO_LD      = $(LLVM19_BIN)/ld64.lld -arch $(1) -platform_version macos 11.0 11.0
EXE_TO_MACHO := ../fixtures/macho

# One CPU's fixtures ($(1) = x86_64 or arm64).
define macho_cpu
$(MACHO_DIR)/obj/%.$(1).o: fixtures/macho/%.c mk/macho.mk | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$(LLVM19_BIN)/clang -target $(1)-apple-macos11 $(MACHO_CFLAGS) -c $$< -o $$@

$(MACHO_DIR)/libfix.info.$(1).dylib: $(MACHO_DIR)/obj/fix.$(1).o
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup $$< -o $$@
$(MACHO_DIR)/libfix.chained.$(1).dylib: $(MACHO_DIR)/obj/fix.$(1).o
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup -fixup_chains $$< -o $$@
$(MACHO_DIR)/fix.$(1).bundle: $(MACHO_DIR)/obj/fix.$(1).o
	$(call MACHO_LD,$(1)) -bundle -undefined dynamic_lookup $$< -o $$@
$(MACHO_DIR)/lib%.$(1).dylib: $(MACHO_DIR)/obj/%.$(1).o
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup -fixup_chains $$< -o $$@

$(MACHO_DIR)/twolevel.$(1)/libhost.dylib: $(MACHO_DIR)/obj/host.$(1).o
	@mkdir -p $$(dir $$@)
	$(call MACHO_LD,$(1)) -dylib -install_name @rpath/libhost.dylib $$< -o $$@
$(MACHO_DIR)/twolevel.$(1)/libtwolevel.dylib: $(MACHO_DIR)/obj/twolevel.$(1).o \
                                               $(MACHO_DIR)/twolevel.$(1)/libhost.dylib
	$(call MACHO_LD,$(1)) -dylib -rpath @loader_path/. -fixup_chains $$^ -o $$@

$(MACHO_DIR)/fat_only_$(1).dylib: $(MACHO_DIR)/libfix.chained.$(1).dylib
	$(LLVM19_BIN)/llvm-lipo -create $$< -output $$@

$(MACHO_DIR)/reexport.$(1)/libhost.dylib: $(MACHO_DIR)/obj/host.$(1).o
	@mkdir -p $$(dir $$@)
	$(call MACHO_LD,$(1)) -dylib -install_name @rpath/libhost.dylib $$< -o $$@
$(MACHO_DIR)/reexport.$(1)/librx.dylib: $(MACHO_DIR)/obj/rx.$(1).o $(MACHO_DIR)/reexport.$(1)/libhost.dylib
	$(call MACHO_LD,$(1)) -dylib -install_name @rpath/librx.dylib -rpath @loader_path/. -fixup_chains $$< \
	    -reexport_library $(MACHO_DIR)/reexport.$(1)/libhost.dylib -o $$@
$(MACHO_DIR)/reexport.$(1)/librxclient.dylib: $(MACHO_DIR)/obj/rxclient.$(1).o $(MACHO_DIR)/reexport.$(1)/librx.dylib
	$(call MACHO_LD,$(1)) -dylib -rpath @loader_path/. -fixup_chains $$^ -o $$@

$(MACHO_DIR)/weak.$(1)/libwkdep.dylib: $(MACHO_DIR)/obj/wkdep.$(1).o
	@mkdir -p $$(dir $$@)
	$(call MACHO_LD,$(1)) -dylib -install_name @rpath/libwkdep.dylib -fixup_chains $$< -o $$@
$(MACHO_DIR)/weak.$(1)/libwkroot.dylib: $(MACHO_DIR)/obj/wkroot.$(1).o $(MACHO_DIR)/weak.$(1)/libwkdep.dylib
	$(call MACHO_LD,$(1)) -dylib -rpath @loader_path/. -fixup_chains $$^ -o $$@
$(MACHO_DIR)/weak.$(1)/libwkroot.info.dylib: $(MACHO_DIR)/obj/wkroot.$(1).o $(MACHO_DIR)/weak.$(1)/libwkdep.dylib
	$(call MACHO_LD,$(1)) -dylib -undefined dynamic_lookup -rpath @loader_path/. $$^ -o $$@

$(MACHO_DIR)/exepath.$(1)/libhost.dylib: $(MACHO_DIR)/obj/host.$(1).o
	@mkdir -p $$(dir $$@)
	$(call MACHO_LD,$(1)) -dylib -install_name @executable_path/$(EXE_TO_MACHO)/exepath.$(1)/libhost.dylib $$< -o $$@
$(MACHO_DIR)/exepath.$(1)/libexe_direct.dylib: $(MACHO_DIR)/obj/twolevel.$(1).o $(MACHO_DIR)/exepath.$(1)/libhost.dylib
	$(call MACHO_LD,$(1)) -dylib -fixup_chains $$^ -o $$@
$(MACHO_DIR)/exepath.$(1)/libexe_rpath.dylib: $(MACHO_DIR)/obj/twolevel.$(1).o \
                                               $(MACHO_DIR)/twolevel.$(1)/libhost.dylib
	@mkdir -p $$(dir $$@)
	$(call MACHO_LD,$(1)) -dylib -rpath @executable_path/$(EXE_TO_MACHO)/twolevel.$(1) -fixup_chains $$^ -o $$@

MACHO_FIXTURES += $(addprefix $(MACHO_DIR)/,libfix.info.$(1).dylib libfix.chained.$(1).dylib \
                    fix.$(1).bundle libaddend64.$(1).dylib libprintf.$(1).dylib libtlv.$(1).dylib \
                    libtlvregs.$(1).dylib libclock.$(1).dylib \
                    twolevel.$(1)/libhost.dylib twolevel.$(1)/libtwolevel.dylib fat_only_$(1).dylib \
                    libterm.$(1).dylib librawname.$(1).dylib \
                    reexport.$(1)/libhost.dylib reexport.$(1)/librx.dylib reexport.$(1)/librxclient.dylib \
                    weak.$(1)/libwkdep.dylib weak.$(1)/libwkroot.dylib weak.$(1)/libwkroot.info.dylib \
                    exepath.$(1)/libhost.dylib exepath.$(1)/libexe_direct.dylib exepath.$(1)/libexe_rpath.dylib)
endef

MACHO_FIXTURES :=
$(foreach cpu,$(MACHO_CPUS),$(eval $(call macho_cpu,$(cpu))))

MACHO_FAT_IN := $(MACHO_DIR)/libfix.chained.x86_64.dylib $(MACHO_DIR)/libfix.chained.arm64.dylib
$(MACHO_DIR)/fat.dylib: $(MACHO_FAT_IN)
	$(LLVM19_BIN)/llvm-lipo -create $^ -output $@
$(MACHO_DIR)/fat64.dylib: $(MACHO_FAT_IN)
	$(LLVM19_BIN)/llvm-lipo -create -fat64 $^ -output $@
MACHO_FIXTURES += $(MACHO_DIR)/fat.dylib $(MACHO_DIR)/fat64.dylib

# Keep the objects (they are intermediates of pattern rules).
.SECONDARY: $(foreach cpu,$(MACHO_CPUS),$(patsubst fixtures/macho/%.c,$(MACHO_DIR)/obj/%.$(cpu).o,\
              $(wildcard fixtures/macho/*.c)))

.PHONY: macho-fixtures
macho-fixtures fixtures: $(MACHO_FIXTURES)
$(TEST_BIN): | $(MACHO_FIXTURES)

# ---- CLI fixtures ----
# For tests/cli/test_cli_macho.c (`plugin info` / `plugin symbols` on Mach-O, and plugin_lookup
# against the addresses they print), in $(FIX)/macho_cli:
#
#   <cpu>/libcli_dep.dylib       fixtures/macho_cli/dep.c, install name @rpath/libcli_dep.dylib
#   <cpu>/libcli_opcodes.dylib   fixtures/macho_cli/sample.c, LC_DYLD_INFO_ONLY; imports
#                                libcli_dep weakly (LC_LOAD_WEAK_DYLIB), LC_RPATH @loader_path/.
#   <cpu>/libcli_chained.dylib   the same, -fixup_chains
#   fat.dylib                    libcli_chained of both CPUs (FAT_MAGIC)

CLI_MACHO_DIR := $(FIX)/macho_cli
CLI_LLVM      := /usr/lib/llvm-19/bin
CLI_MACHO_LD   = $(CLI_LLVM)/ld64.lld -arch $(1) -platform_version macos 11.0 11.0
CLI_SAMPLE_LD  = -dylib -undefined dynamic_lookup -install_name @rpath/$(notdir $@) \
                 -rpath @loader_path/. -weak_library $(dir $@)libcli_dep.dylib

define cli_macho_cpu
$(CLI_MACHO_DIR)/$(1)/%.o: fixtures/macho_cli/%.c | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$(CLI_LLVM)/clang -target $(1)-apple-macos11 -O1 -std=gnu11 -Wall -Wextra -Werror -c $$< -o $$@
$(CLI_MACHO_DIR)/$(1)/libcli_dep.dylib: $(CLI_MACHO_DIR)/$(1)/dep.o
	$(call CLI_MACHO_LD,$(1)) -dylib -install_name @rpath/libcli_dep.dylib $$< -o $$@
$(CLI_MACHO_DIR)/$(1)/libcli_opcodes.dylib: $(CLI_MACHO_DIR)/$(1)/sample.o $(CLI_MACHO_DIR)/$(1)/libcli_dep.dylib
	$(call CLI_MACHO_LD,$(1)) $$(CLI_SAMPLE_LD) $$< -o $$@
$(CLI_MACHO_DIR)/$(1)/libcli_chained.dylib: $(CLI_MACHO_DIR)/$(1)/sample.o $(CLI_MACHO_DIR)/$(1)/libcli_dep.dylib
	$(call CLI_MACHO_LD,$(1)) $$(CLI_SAMPLE_LD) -fixup_chains $$< -o $$@
CLI_MACHO_FIXTURES += $(addprefix $(CLI_MACHO_DIR)/$(1)/,libcli_dep.dylib libcli_opcodes.dylib \
                        libcli_chained.dylib)
.SECONDARY: $(CLI_MACHO_DIR)/$(1)/sample.o $(CLI_MACHO_DIR)/$(1)/dep.o
endef

CLI_MACHO_FIXTURES :=
$(foreach cpu,x86_64 arm64,$(eval $(call cli_macho_cpu,$(cpu))))

$(CLI_MACHO_DIR)/fat.dylib: $(CLI_MACHO_DIR)/x86_64/libcli_chained.dylib $(CLI_MACHO_DIR)/arm64/libcli_chained.dylib
	$(CLI_LLVM)/llvm-lipo -create $^ -output $@
CLI_MACHO_FIXTURES += $(CLI_MACHO_DIR)/fat.dylib

fixtures: $(CLI_MACHO_FIXTURES)
$(TEST_BIN): | $(CLI_MACHO_FIXTURES)
