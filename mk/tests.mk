# Fixtures, the test binary and the static host. Included by the Makefile, which defines
# BUILD, CC, CPPFLAGS, WARN, CFLAGS, SANFLAGS, ELF_LIBS, LIB_SRCS and DEPS_STAMP.
#
#   make test                    build everything, then run every Criterion test (one binary)
#   make fixtures                only the fixture plugins, in $(BUILD)/fixtures
#
# Fixtures are plugins that the tests load. Every fixtures/*.c becomes $(BUILD)/fixtures/<name>.so,
# built like an ordinary plugin (gcc -shared -fPIC -O1 -g) and never sanitized: they stand for
# third-party code. A fixture that needs particular flags gets them through FIXTURE_CFLAGS /
# FIXTURE_LDFLAGS below, or an explicit rule.

FIXTURE_CC   := $(CROSS)gcc
FIXTURE_WARN := -std=gnu11 -Wall -Wextra -Werror
FIXTURE_BASE := -shared -fPIC -O1 -g
FIX          := $(BUILD)/fixtures

FIXTURE_SRCS := $(wildcard fixtures/*.c)
FIXTURES     := $(patsubst fixtures/%.c,$(FIX)/%.so,$(FIXTURE_SRCS)) \
                $(FIX)/origin/libsib.so $(FIX)/origin/origin_plugin.so

$(FIX)/%.so: fixtures/%.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) $(FIXTURE_CFLAGS) -o $@ $< $(FIXTURE_LDFLAGS)

# DT_INIT: -init names the function the linker puts in DT_INIT (it runs before DT_INIT_ARRAY).
$(FIX)/initorder.so: FIXTURE_LDFLAGS := -Wl,-init,initorder_dt_init
# Link with lld instead of GNU ld. -B: where gcc (the cross one too) finds ld.lld; expanded when a
# rule runs, after scripts/deps.sh installed lld.
USE_LLD = -B$(dir $(realpath $(shell command -v ld.lld))) -fuse-ld=lld
# DT_RELR: relative relocations packed as a bitmap. GNU ld >= 2.38 does it for x86-64; for aarch64
# GNU ld 2.40 ignores -z pack-relative-relocs, so that lane links relr.so with lld.
ifeq ($(ARCH),aarch64)
$(FIX)/relr.so: FIXTURE_LDFLAGS = $(USE_LLD) -Wl,--pack-dyn-relocs=relr
else
$(FIX)/relr.so: FIXTURE_LDFLAGS := -Wl,-z,pack-relative-relocs
endif
# Segments aligned for 64 KiB pages (GNU ld's default for aarch64 anyway; 4 KiB for x86-64).
$(FIX)/page64k.so: FIXTURE_LDFLAGS := -Wl,-z,max-page-size=65536
# PT_GNU_RELRO with every relocation bound at load time. relro_lld.so: the same linked by lld, which
# lays RELRO out differently (its p_memsz runs to the end of the page, past its PT_LOAD's).
$(FIX)/relro.so: FIXTURE_LDFLAGS := -Wl,-z,relro,-z,now
FIXTURES += $(FIX)/relro_lld.so
$(FIX)/relro_lld.so: fixtures/relro.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $< $(USE_LLD) -Wl,-z,relro,-z,now
# Text relocations: a pointer stored in .text (see fixtures/textrel.c) and a linker told to allow
# the relocation that fills it (-z notext), which then sets DT_TEXTREL. Same on both CPUs.
$(FIX)/textrel.so: FIXTURE_LDFLAGS := -Wl,-z,notext
# An executable stack: PT_GNU_STACK with PF_X (refused: loader/core/policy.c, rule 3).
$(FIX)/execstack.so: FIXTURE_LDFLAGS := -Wl,-z,execstack
# A plugin for a -static host: no C library at all, everything it uses comes from resolve.
$(FIX)/hostcall.so: FIXTURE_CFLAGS := -fno-stack-protector -fno-builtin
$(FIX)/hostcall.so: FIXTURE_LDFLAGS := -nostdlib
# An ordinary glibc plugin for a -static host without a callback: its imports come from the
# executable's .symtab. -fno-builtin keeps strlen, memcpy and strchr real calls (IFUNCs in glibc).
$(FIX)/static_libc.so: FIXTURE_CFLAGS := -fno-stack-protector -fno-builtin

# A valid shared object for the other CPU (PLUGIN_ERR_ARCH): aarch64 in the x86-64 lane and
# x86-64 in the aarch64 lane. clang + lld build it without any C library for that CPU.
FOREIGN_TARGET := $(if $(filter aarch64,$(ARCH)),x86_64,aarch64)-linux-gnu
$(FIX)/foreign.so: fixtures/foreign.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -target $(FOREIGN_TARGET) -nostdlib -shared -fPIC -O1 -fuse-ld=lld $(FIXTURE_WARN) -o $@ $<

# An ordinary plugin for the other CPU, with real relocations of that CPU (JUMP_SLOT, GLOB_DAT,
# RELATIVE, ABS64 / R_X86_64_64), for `plugin info` across CPUs: built by that CPU's gcc on an
# x86-64 host (both are installed there), else by clang + lld without a C library.
OTHER_ARCH    := $(if $(filter aarch64,$(ARCH)),x86_64,aarch64)
CROSS_FIX     := $(FIX)/cross_$(OTHER_ARCH).so
ifeq ($(HOST_ARCH),x86_64)
CROSS_FIX_CC  := $(if $(CROSS),gcc,aarch64-linux-gnu-gcc)
else
CROSS_FIX_CC  := clang -target $(FOREIGN_TARGET) -nostdlib -fuse-ld=lld
endif
FIXTURES      += $(CROSS_FIX)
$(CROSS_FIX): fixtures/cross/relocs.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS_FIX_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $<

# $ORIGIN: origin_plugin.so needs libsib.so (DT_NEEDED) and finds it next to itself through
# DT_RUNPATH=$ORIGIN. Neither is anywhere the system would look.
$(FIX)/origin/libsib.so: fixtures/origin/sib.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,-soname,libsib.so -o $@ $<
$(FIX)/origin/origin_plugin.so: fixtures/origin/plugin.c $(FIX)/origin/libsib.so
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $< -L$(FIX)/origin -lsib \
	  -Wl,-rpath,'$$ORIGIN' -Wl,--enable-new-dtags

# ---- secure mode (issue 11): fixtures/secure/README lists them; tests/core/test_secure.c ----
# origin_late.so: $ORIGIN in the middle of its DT_RUNPATH element ('/$ORIGIN'). relneed.so: a
# DT_NEEDED relative path, "sub/librel.so" (linked from inside $(FIX)/secure so that the name
# the linker records is that relative one; librel.so has no soname). secure_host: the child that
# the test runs plainly and set-user-ID; its DT_RPATH '$ORIGIN/../fixtures/deps/elsewhere' is
# the executable's $ORIGIN outside the system directories. Never sanitized, like static_host (a
# set-user-ID run under the sanitizer runtimes tests them, not us): built from the sources.
SECURE_FIX := $(FIX)/secure
FIXTURES   += $(FIX)/origin/origin_late.so $(SECURE_FIX)/relneed.so $(FIX)/execstack.so
$(FIX)/origin/origin_late.so: fixtures/origin/plugin.c $(FIX)/origin/libsib.so
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $< -L$(FIX)/origin -lsib \
	  -Wl,-rpath,'/$$ORIGIN' -Wl,--enable-new-dtags
$(SECURE_FIX)/sub/librel.so: fixtures/deps/dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -DDEP_NAME=rel_value -DDEP_VALUE=3 -o $@ $<
$(SECURE_FIX)/relneed.so: fixtures/deps/user.c $(SECURE_FIX)/sub/librel.so
	cd $(SECURE_FIX) && $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,--no-as-needed \
	  -DUSER_NAME=relneed_value -DUSER_DEP1=rel_value -o relneed.so $(abspath $<) sub/librel.so
$(BUILD)/tests/secure_host: tests/secure_host.c $(LIB_SRCS) $(wildcard include/*.h loader/*/*.h arch/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(LIB_SRCS) $(ELF_LIBS) \
	  -Wl,--disable-new-dtags,-rpath,'$$ORIGIN/../fixtures/deps/elsewhere'

# ---- dependency search and symbol versions (issue 5): fixtures/deps/ -> $(FIX)/deps/ ----
# Used by tests/elf/test_deps.c and tests/elf/test_versions.c. Every library is linked --no-as-needed so
# that each DT_NEEDED named here is really in the file.
#   cycle/libcyc_{a,b,c}.so  A needs B, B needs C, C needs A; DT_RUNPATH '${ORIGIN}' (braced form).
#                            C is linked against stub/libcyc_a.so (A without its need of B).
#   lonely.so                needs liblonely_dep.so, which lives in elsewhere/ only: found through
#                            LD_LIBRARY_PATH, search_paths or a cache entry, nothing else.
#   dst_rpath.so             DT_RPATH '$ORIGIN/$LIB:${ORIGIN}/plat/$PLATFORM': needs libdst_lib.so
#                            (in lib/<multiarch>/) and libdst_plat.so (in plat/<cpu>/); libdst_lib.so
#                            needs libdst_chain.so (plat/<cpu>/), reachable only through the RPATH of
#                            the object that loaded it.
#   dst_runpath.so           the same with DT_RUNPATH '${ORIGIN}/${LIB}:$ORIGIN/plat/${PLATFORM}':
#                            RUNPATH serves direct dependencies only, so libdst_chain.so is not found.
#   libver.so                versions V1, V2 (ver.map, .symver in ver.c).
#   v{new,old,none}/libvprov.so  VPROV_1+VPROV_2 / VPROV_1 only / no DT_VERDEF; vuser.so and
#                            vuser_weak.so are linked against vnew/ and find one through search_paths.
DEPS_FIX := $(FIX)/deps
DEPS_CC   = $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,--no-as-needed
FIXTURES += $(DEPS_FIX)/cycle/libcyc_a.so $(DEPS_FIX)/cycle/libcyc_b.so $(DEPS_FIX)/cycle/libcyc_c.so \
            $(DEPS_FIX)/lonely.so $(DEPS_FIX)/dst_rpath.so $(DEPS_FIX)/dst_runpath.so \
            $(DEPS_FIX)/libver.so $(DEPS_FIX)/vold/libvprov.so $(DEPS_FIX)/vnone/libvprov.so \
            $(DEPS_FIX)/vuser.so $(DEPS_FIX)/vuser_weak.so

$(DEPS_FIX)/stub/libcyc_a.so: fixtures/deps/cyc.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) "-DCYC_SELF='A'" -DCYC_STUB -Wl,-soname,libcyc_a.so -o $@ $<
$(DEPS_FIX)/cycle/libcyc_c.so: fixtures/deps/cyc.c $(DEPS_FIX)/stub/libcyc_a.so
	@mkdir -p $(dir $@)
	$(DEPS_CC) "-DCYC_SELF='C'" -Wl,-soname,libcyc_c.so -o $@ $< -L$(DEPS_FIX)/stub -lcyc_a \
	  -Wl,--enable-new-dtags,-rpath,'$${ORIGIN}'
$(DEPS_FIX)/cycle/libcyc_b.so: fixtures/deps/cyc.c $(DEPS_FIX)/cycle/libcyc_c.so
	$(DEPS_CC) "-DCYC_SELF='B'" -Wl,-soname,libcyc_b.so -o $@ $< -L$(DEPS_FIX)/cycle -lcyc_c \
	  -Wl,-rpath-link,$(DEPS_FIX)/stub -Wl,--enable-new-dtags,-rpath,'$${ORIGIN}'
$(DEPS_FIX)/cycle/libcyc_a.so: fixtures/deps/cyc.c $(DEPS_FIX)/cycle/libcyc_b.so
	$(DEPS_CC) "-DCYC_SELF='A'" -Wl,-soname,libcyc_a.so -o $@ $< -L$(DEPS_FIX)/cycle -lcyc_b \
	  -Wl,--enable-new-dtags,-rpath,'$${ORIGIN}'

$(DEPS_FIX)/elsewhere/liblonely_dep.so: fixtures/deps/dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -DDEP_NAME=lonely_dep -DDEP_VALUE=42 -Wl,-soname,liblonely_dep.so -o $@ $<
$(DEPS_FIX)/lonely.so: fixtures/deps/user.c $(DEPS_FIX)/elsewhere/liblonely_dep.so
	$(DEPS_CC) -DUSER_NAME=lonely -DUSER_DEP1=lonely_dep -o $@ $< -L$(DEPS_FIX)/elsewhere -llonely_dep

DST_LIBDIR  := $(DEPS_FIX)/lib/$(MULTIARCH)
DST_PLATDIR := $(DEPS_FIX)/plat/$(ARCH)
$(DST_PLATDIR)/libdst_chain.so: fixtures/deps/dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -DDEP_NAME=dst_chain -DDEP_VALUE=100 -Wl,-soname,libdst_chain.so -o $@ $<
$(DST_PLATDIR)/libdst_plat.so: fixtures/deps/dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -DDEP_NAME=dst_plat -DDEP_VALUE=7 -Wl,-soname,libdst_plat.so -o $@ $<
$(DST_LIBDIR)/libdst_lib.so: fixtures/deps/dep.c $(DST_PLATDIR)/libdst_chain.so
	@mkdir -p $(dir $@)
	$(DEPS_CC) -DDEP_NAME=dst_lib -DDEP_VALUE=5 -DDEP_NEXT=dst_chain -Wl,-soname,libdst_lib.so -o $@ $< \
	  -L$(DST_PLATDIR) -ldst_chain
DST_LINK = -L$(DST_LIBDIR) -L$(DST_PLATDIR) -ldst_lib -ldst_plat -Wl,-rpath-link,$(DST_PLATDIR)
$(DEPS_FIX)/dst_rpath.so: fixtures/deps/user.c $(DST_LIBDIR)/libdst_lib.so $(DST_PLATDIR)/libdst_plat.so
	$(DEPS_CC) -DUSER_NAME=dst_user -DUSER_DEP1=dst_lib -DUSER_DEP2=dst_plat -o $@ $< $(DST_LINK) \
	  -Wl,--disable-new-dtags,-rpath,'$$ORIGIN/$$LIB:$${ORIGIN}/plat/$$PLATFORM'
$(DEPS_FIX)/dst_runpath.so: fixtures/deps/user.c $(DST_LIBDIR)/libdst_lib.so $(DST_PLATDIR)/libdst_plat.so
	$(DEPS_CC) -DUSER_NAME=dst_user -DUSER_DEP1=dst_lib -DUSER_DEP2=dst_plat -o $@ $< $(DST_LINK) \
	  -Wl,--enable-new-dtags,-rpath,'$${ORIGIN}/$${LIB}:$$ORIGIN/plat/$${PLATFORM}'

$(DEPS_FIX)/libver.so: fixtures/deps/ver.c fixtures/deps/ver.map mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -Wl,-soname,libver.so -Wl,--version-script,fixtures/deps/ver.map -o $@ $<

$(DEPS_FIX)/vnew/libvprov.so: fixtures/deps/vprov.c fixtures/deps/vprov_new.map mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -Wl,-soname,libvprov.so -Wl,--version-script,fixtures/deps/vprov_new.map -o $@ $<
$(DEPS_FIX)/vold/libvprov.so: fixtures/deps/vprov.c fixtures/deps/vprov_old.map mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -DVPROV_OLD -Wl,-soname,libvprov.so -Wl,--version-script,fixtures/deps/vprov_old.map -o $@ $<
$(DEPS_FIX)/vnone/libvprov.so: fixtures/deps/vprov.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEPS_CC) -Wl,-soname,libvprov.so -o $@ $<
$(DEPS_FIX)/vuser.so: fixtures/deps/vuser.c $(DEPS_FIX)/vnew/libvprov.so
	$(DEPS_CC) -o $@ $< -L$(DEPS_FIX)/vnew -lvprov
$(DEPS_FIX)/vuser_weak.so: fixtures/deps/vuser.c $(DEPS_FIX)/vnew/libvprov.so
	$(DEPS_CC) -DVUSER_WEAK -o $@ $< -L$(DEPS_FIX)/vnew -lvprov
# ---- end of issue 5 dependency/version fixtures ----

# ---- initializer and finalizer order (issue 10): generated graphs -> $(FIX)/initgraph/ ----
# fixtures/initgraph/gen.c (built for the build machine, run with a fixed seed) writes the rules
# of IG_COUNT random graphs plus its hand-made ones: one object per node (fixtures/initgraph/
# node.c, built by the lane's compiler), linked against soname-only stubs so that cycles link.
# tests/elf/test_initorder.c runs each graph's plan under glibc's dlopen and under plugin_open
# ($(BUILD)/tests/initgraph_host) and compares the constructor and destructor lines.
IG       := $(FIX)/initgraph
IG_SEED  := 0x1d0
IG_COUNT := 40
FIXTURES += $(IG)/.built
$(IG)/gen: fixtures/initgraph/gen.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc -std=c11 -Wall -Wextra -Werror -O1 -o $@ $<
$(IG)/nodes.mk: $(IG)/gen
	$(IG)/gen $(IG_SEED) $(IG_COUNT) $(IG)
$(IG)/empty.o: mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) -fPIC -c -x c /dev/null -o $@
$(IG)/.built: $(IG)/nodes.mk $(IG)/empty.o fixtures/initgraph/node.c
	@echo "building the initializer-order graphs ($(IG_COUNT) random, seed $(IG_SEED)) in $(IG)"
	+@$(MAKE) -s --no-print-directory -f $(IG)/nodes.mk D=$(IG) IG_SRC=fixtures/initgraph/node.c \
	  IG_CC="$(FIXTURE_CC) -shared -fPIC -O1 $(FIXTURE_WARN)" \
	  IG_STUB="$(FIXTURE_CC) -shared -nostdlib $(IG)/empty.o"
	@touch $@

# The child of that test: glibc's dlopen (the oracle) or plugin_open, by its first argument.
$(BUILD)/tests/initgraph_host: tests/initgraph_host.c $(BUILD)/libplugin.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS) -ldl

# ---- global scope and unique symbols (issue 10): fixtures/scope/ -> $(FIX)/scope/ ----
# Used by tests/elf/test_scope.c.
#   libuniqdep.so            defines the unique symbol uniq_counter (STB_GNU_UNIQUE)
#   uniq_a.so, uniq_b.so     uniq_user.c twice: define uniq_counter too, need libuniqdep.so
#   libscopehelp.so          defines scope_probe; the test host dlopen's it RTLD_LOCAL
#   scope_weak.so            a weak reference to scope_probe, no DT_NEEDED on libscopehelp.so
#   scope_needer.so          needs libscopehelp.so and references scope_probe
#   vdso_user.so             -nostdlib: unversioned clock_gettime, weak vDSO-only names
SCOPE_FIX := $(FIX)/scope
SCOPE_CC   = $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,--no-as-needed
FIXTURES  += $(SCOPE_FIX)/libuniqdep.so $(SCOPE_FIX)/uniq_a.so $(SCOPE_FIX)/uniq_b.so \
             $(SCOPE_FIX)/libscopehelp.so $(SCOPE_FIX)/scope_weak.so $(SCOPE_FIX)/scope_needer.so \
             $(SCOPE_FIX)/vdso_user.so

$(SCOPE_FIX)/libuniqdep.so: fixtures/scope/uniq_dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SCOPE_CC) -Wl,-soname,libuniqdep.so -o $@ $<
$(SCOPE_FIX)/libscopehelp.so: fixtures/scope/scope_help.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SCOPE_CC) -Wl,-soname,libscopehelp.so -o $@ $<
$(SCOPE_FIX)/uniq_%.so: fixtures/scope/uniq_user.c $(SCOPE_FIX)/libuniqdep.so
	$(SCOPE_CC) -DUNIQ_WHO=$* -o $@ $< -L$(SCOPE_FIX) -luniqdep -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'
$(SCOPE_FIX)/scope_weak.so: fixtures/scope/scope_weak.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SCOPE_CC) -o $@ $<
$(SCOPE_FIX)/scope_needer.so: fixtures/scope/scope_needer.c $(SCOPE_FIX)/libscopehelp.so
	$(SCOPE_CC) -o $@ $< -L$(SCOPE_FIX) -lscopehelp -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'
$(SCOPE_FIX)/vdso_user.so: fixtures/scope/vdso_user.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SCOPE_CC) -nostdlib -fno-stack-protector -o $@ $<
# ---- end of issue 10 fixtures ----

# ---- PLUGIN_NO_RUN (tests/core/test_norun.c): fixtures/norun/ -> $(FIX)/norun/ ----
#   libnorun_dep.so   logs initializer runs, prints when finalized
#   norun_plugin.so   needs libnorun_dep.so (DT_RUNPATH $ORIGIN); an IFUNC nothing inside uses
NORUN_FIX := $(FIX)/norun
FIXTURES  += $(NORUN_FIX)/libnorun_dep.so $(NORUN_FIX)/norun_plugin.so
$(NORUN_FIX)/libnorun_dep.so: fixtures/norun/dep.c mk/tests.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,-soname,libnorun_dep.so -o $@ $<
$(NORUN_FIX)/norun_plugin.so: fixtures/norun/plugin.c $(NORUN_FIX)/libnorun_dep.so
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $< -L$(NORUN_FIX) -lnorun_dep \
	  -Wl,-rpath,'$$ORIGIN' -Wl,--enable-new-dtags

.PHONY: fixtures
fixtures: $(FIXTURES)

# ---- the test binary: one Criterion executable from every tests/*/test_*.c ----
# The folders follow the code: tests/core (the API and what every format shares), tests/elf,
# tests/macho, tests/arch (the pure relocation tables of both CPUs), tests/cli (the command-line
# tool and the debugger script, end to end).

TEST_SRCS := $(wildcard tests/*/test_*.c) tests/helpers.c
TEST_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/obj/%.o,$(TEST_SRCS))
TEST_BIN  := $(BUILD)/tests/test_plugin
TEST_DEFS := -DFIXTURE_DIR=\"$(abspath $(FIX))\" -DPLUGIN_CLI=\"$(abspath $(BUILD)/plugin)\" \
             -DBUILD_DIR=\"$(abspath $(BUILD))\" -DSOURCE_DIR=\"$(abspath .)\" $(if $(CROSS),-DUNDER_QEMU=1)
TEST_HDRS := $(wildcard tests/*.h include/*.h arch/*.h loader/*/*.h)

$(BUILD)/tests/obj/%.o: tests/%.c $(TEST_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(WARN) $(CFLAGS) $(SANFLAGS) $(TEST_DEFS) -c $< -o $@

# The list of test sources, rewritten only when it changes: a test file that was deleted must
# leave the binary too (its stale object would otherwise stay linked in).
# Criterion: the system's for a native build; for aarch64 on an x86-64 host, the private
# sysroot that scripts/deps.sh unpacks (it does not co-install by multiarch). The RPATH (not
# RUNPATH) also serves Criterion's own dependencies.
ifeq ($(CROSS),)
CRITERION_LIBS := -lcriterion
else
CRIT_LIBDIR    := $(abspath build/sysroot-$(subst aarch64,arm64,$(ARCH)))/usr/lib/$(MULTIARCH)
CRITERION_LIBS := -L$(CRIT_LIBDIR) -lcriterion -Wl,-rpath-link,$(CRIT_LIBDIR) \
                  -Wl,--disable-new-dtags,-rpath,$(CRIT_LIBDIR)
endif

TEST_LIST := $(BUILD)/tests/sources.list
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(shell mkdir -p $(BUILD)/tests && echo '$(TEST_SRCS)' | cmp -s - $(TEST_LIST) || \
        echo '$(TEST_SRCS)' > $(TEST_LIST))
endif

$(TEST_BIN): $(TEST_OBJS) $(BUILD)/libplugin.a $(TEST_LIST) | $(FIXTURES) $(BUILD)/plugin \
             $(BUILD)/tests/static_host $(BUILD)/tests/static_host_stripped $(BUILD)/tests/static_pie_host \
             $(BUILD)/tests/initgraph_host \
             $(BUILD)/tests/secure_host
	$(CC) $(SANFLAGS) -o $@ $(TEST_OBJS) $(BUILD)/libplugin.a $(ELF_LIBS) $(CRITERION_LIBS)

# ---- a fully static host (glibc -static) that loads hostcall.so ----
# Never sanitized (the sanitizer runtimes need a dynamic executable): built straight from the
# library sources with the plain flags.
$(BUILD)/tests/static_host: tests/static_host.c $(LIB_SRCS) $(TEST_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -static $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/static_host.c $(LIB_SRCS) \
	  -lelf -lz -lpthread
# The same as a static PIE (relocated at startup: the symbol table's addresses get the load bias;
# the linker makes every hidden symbol local there: malloc, __errno_location).
$(BUILD)/tests/static_pie_host: tests/static_host.c $(LIB_SRCS) $(TEST_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -static-pie -fPIE $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/static_host.c $(LIB_SRCS) \
	  -lelf -lz -lpthread
# The same, stripped (no .symtab): its plugins' imports come only from its registered exports.
$(BUILD)/tests/static_host_stripped: $(BUILD)/tests/static_host
	$(CROSS)strip -o $@ $<

# ---- running ----
ifneq ($(SANITIZE),)
TEST_ENV := ASAN_OPTIONS=handle_segv=0:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
endif

.PHONY: test
test: $(DEPS_STAMP) check-layout all $(TEST_BIN)
	@echo "== $(ARCH) lane$(if $(CROSS), (under qemu-user),)$(if $(SANITIZE), (SANITIZE=$(SANITIZE)),)"
	$(TEST_ENV) $(TEST_BIN) --jobs 2
ifeq ($(CROSS)$(HOST_ARCH),x86_64)
ifeq ($(SANITIZE),)
	@$(MAKE) --no-print-directory ARCH=aarch64 test
else
	@echo "== aarch64 lane: not run with SANITIZE (ASan under qemu-user crashes); run make test for it"
endif
endif


# interpose.so calls its own abs() through the PLT (libc's must win): no builtin folding it away.
$(FIX)/interpose.so: FIXTURE_CFLAGS := -fno-builtin

# ---- a host in a seccomp jail (issue 11): tests/jail_host.c, run by tests/core/test_jail.c ----
# Built like the other hosts, sanitized with the suite (the sanitizers read what they need at
# startup, before the jail).
$(BUILD)/tests/jail_host: tests/jail_host.c $(BUILD)/libplugin.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)
$(TEST_BIN): | $(BUILD)/tests/jail_host

# tests/cli/test_package.c reads the shared library and the pkg-config file of the build.
$(TEST_BIN): | $(BUILD)/libplugin.so $(BUILD)/plugin.pc
# ---- the guided tour (docs/tour.md): its quoted outputs, regenerated (issue 12) ----
# `make tour` reruns every command the tour quotes and rewrites the quotes whose output changed
# (scripts/tour.py --update: unchanged quotes are left alone, "[...]" elisions are kept); review
# the diff before committing it. tests/cli/test_tour.c runs the same script in check mode.
.PHONY: tour
tour: all $(FIXTURES) $(BUILD)/tests/initgraph_host
	python3 scripts/tour.py --update --build $(BUILD)
