# plugin — build, demo and tests.
#
#   make                 build/libplugin.a, build/libplugin.so, build/plugin
#   make demo            load the example plugins and call into them
#   make test            every Criterion suite (fixtures are built from fixtures/*.c)
#   make SANITIZE=address,undefined test    the same, sanitized (separate build directory)
#   make SANITIZE=thread test-stress        16 threads opening, looking up, calling, under
#                        ThreadSanitizer (build/tsan; about 20 s; tests/stress.c)
#   make ARCH=aarch64 [test]    cross-build everything into build/aarch64 (and run it under qemu)
#   make musl            the static musl host and its plugins (build/musl; x86-64; in make test)
#   make check-layout    the include graph between loader/core, elf, macho, tools (no cycle)
#   make install PREFIX=/usr/local DESTDIR=  headers, libraries, CLI, pkg-config file, man pages,
#                        gdb script (directories: PREFIX, BINDIR, LIBDIR, INCLUDEDIR, DATADIR,
#                        MANDIR, as GNU's bindir, libdir, ...); make uninstall removes them again
#   make install-check   install into a temporary DESTDIR, build examples/outside against it
#                        (pkg-config, shared and -static), run both, uninstall (scripts/install-check.sh)
#   make tour            rerun the commands docs/tour.md quotes and refresh the quotes that changed
#
# On an x86-64 host, `make test` runs the native suite, then the same suite built for aarch64
# under qemu-user. Every target that needs packages runs scripts/deps.sh first (quick when
# nothing is missing).

# Installation directories, named as the GNU coding standards name them (in capitals, as PREFIX
# was): DESTDIR is prepended to each when installing (staged installs, packages).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DESTDIR    ?=

# The version, from its one source: the PLUGIN_VERSION_MAJOR/MINOR/PATCH lines of plugin.h.
# The shared library is built as libplugin.so with the soname libplugin.so.MAJOR, and installed
# as distributions lay it out: libplugin.so.MAJOR.MINOR.PATCH, the file; libplugin.so.MAJOR,
# the link the dynamic loader opens (the soname); libplugin.so, the link `-lplugin` finds.
version_part = $(shell sed -n 's/^\#define PLUGIN_VERSION_$(1) *\([0-9][0-9]*\)$$/\1/p' include/plugin.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION       := $(VERSION_MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SONAME        := libplugin.so.$(VERSION_MAJOR)
SANITIZE ?=
comma    := ,

HOST_ARCH := $(shell uname -m)
ARCH      ?= $(HOST_ARCH)
ifeq ($(ARCH),$(HOST_ARCH))
CROSS     :=
else ifeq ($(ARCH),aarch64)
CROSS     := aarch64-linux-gnu-
else
$(error ARCH=$(ARCH) is not supported: use x86_64 or aarch64)
endif
CC        := $(CROSS)gcc
MULTIARCH := $(ARCH)-linux-gnu

ifneq ($(CROSS),)
ifneq ($(SANITIZE),)
$(error SANITIZE runs natively only (ASan under qemu-user crashes inside the sanitizer))
endif
BUILD    ?= build/$(ARCH)
SANFLAGS :=
else ifeq ($(SANITIZE),)
BUILD    ?= build
SANFLAGS :=
else ifneq ($(filter thread,$(subst $(comma), ,$(SANITIZE))),)
# ThreadSanitizer cannot be combined with AddressSanitizer: its own directory, so that
# SANITIZE=address,undefined and SANITIZE=thread builds never mix objects.
BUILD    ?= build/tsan
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
else
BUILD    ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Iloader -Iarch
CFLAGS   ?= -O2 -g
# -fno-plt: the library's calls into libc go through GOT entries the system loader fills when the
# host starts (as ld.so's own code is bound before main), not through lazily bound PLT stubs whose
# first call each costs a symbol lookup inside the first plugin_open (about 20k instructions).
LIBCFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -fPIC -fvisibility=hidden -fno-plt
ELF_LIBS := -lelf -lz -lpthread

LIB_SRCS := $(wildcard loader/*.c loader/*/*.c) $(wildcard arch/*.c) $(wildcard arch/*/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))

# Packages (scripts/deps.sh): the library, the CLI and the demo wait only on the demo's
# (DEMO_STAMP; a cross build also needs the cross compiler: all of them); fixtures and tests on
# every package (DEPS_STAMP, after the demo's).
DEMO_STAMP := $(BUILD)/.deps-demo-ok
DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all deps demo test install uninstall install-check clean check-layout
all: $(BUILD)/libplugin.a $(BUILD)/libplugin.so $(BUILD)/plugin $(BUILD)/plugin.pc

$(DEMO_STAMP):
	@bash scripts/deps.sh $(if $(CROSS),test,demo)
	@mkdir -p $(BUILD) && touch $@

deps $(DEPS_STAMP): | $(DEMO_STAMP)
	@bash scripts/deps.sh
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h loader/*/*.h arch/*.h arch/*/*.h) | $(DEMO_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIBCFLAGS) -c $< -o $@

$(BUILD)/libplugin.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The exported symbols are exactly those of loader/libplugin.map (the public API and the debugger
# hook, symbol version PLUGIN_0); a name listed there that no object defines is an error.
LIB_MAP := loader/libplugin.map
$(BUILD)/libplugin.so: $(LIB_OBJS) $(LIB_MAP)
	$(CC) -shared $(SANFLAGS) -Wl,-soname,$(SONAME) -Wl,-z,relro,-z,now \
	  -Wl,--version-script,$(LIB_MAP) -Wl,--no-undefined-version -o $@ $(LIB_OBJS) $(ELF_LIBS)

$(BUILD)/plugin: $(wildcard tools/*.c tools/*.h) $(BUILD)/libplugin.a
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.c,$^) $(BUILD)/libplugin.a \
	  $(ELF_LIBS)

# ---- installation ----
# plugin.pc, for the directories of this make invocation: written when its text changes (as the
# test list in mk/tests.mk), so that `make install PREFIX=/usr` after a plain `make` installs a
# file that names /usr. Directories under PREFIX are written relative to ${prefix}, as pkg-config
# files usually are. Libs.private / Requires.private are what a -static link needs besides
# libplugin.a: libelf (whose libelf.pc requires zlib: libelf.a calls deflate and inflate, and
# nothing else outside the C library), and -lpthread for C libraries that still keep threads
# apart (glibc >= 2.34 has them in libc).
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
define plugin_pc
prefix=$(PREFIX)
libdir=$(call pc_dir,$(LIBDIR))
includedir=$(call pc_dir,$(INCLUDEDIR))

Name: plugin
Description: load ELF and Mach-O plugins without libdl
Version: $(VERSION)
Cflags: -I$${includedir}
Libs: -L$${libdir} -lplugin
Libs.private: -lpthread
Requires.private: libelf
endef
export plugin_pc

$(BUILD)/plugin.pc: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' "$$plugin_pc" | cmp -s - $@ || printf '%s\n' "$$plugin_pc" > $@

.PHONY: FORCE
FORCE:

# What is installed, every path relative to DESTDIR: the public headers, the static library, the
# shared library (file and two links), plugin.pc, the CLI, the gdb script (DATADIR/plugin: gdb
# users `source` it, README "Debugging plugins"), the man pages and, for every name listed on a
# `.\" links:` line of a man/*.3 page, a page that includes it (`.so man3/PAGE.3`), so that
# `man plugin_lookup` shows plugin_open(3). uninstall removes exactly these files, and
# DATADIR/plugin, which is ours, once empty; the standard directories stay.
HEADERS     := $(wildcard include/*.h)
MAN1        := $(wildcard man/*.1)
MAN3        := $(wildcard man/*.3)
LIB_FILE    := libplugin.so.$(VERSION)
GDB_SCRIPT  := plugin-gdb.py
D_BIN       := $(DESTDIR)$(BINDIR)
D_LIB       := $(DESTDIR)$(LIBDIR)
D_INC       := $(DESTDIR)$(INCLUDEDIR)
D_SHARE     := $(DESTDIR)$(DATADIR)/plugin
D_MAN       := $(DESTDIR)$(MANDIR)
MAN_LINKS    = bash scripts/man-links.sh $(MAN3)

install: all
	install -d $(D_INC) $(D_LIB)/pkgconfig $(D_BIN) $(D_SHARE) $(D_MAN)/man1 $(D_MAN)/man3
	install -m 644 $(HEADERS) $(D_INC)/
	install -m 644 $(BUILD)/libplugin.a $(D_LIB)/
	install -m 755 $(BUILD)/libplugin.so $(D_LIB)/$(LIB_FILE)
	ln -sf $(LIB_FILE) $(D_LIB)/$(SONAME)
	ln -sf $(SONAME) $(D_LIB)/libplugin.so
	install -m 644 $(BUILD)/plugin.pc $(D_LIB)/pkgconfig/plugin.pc
	install -m 755 $(BUILD)/plugin $(D_BIN)/
	install -m 644 tools/$(GDB_SCRIPT) $(D_SHARE)/
	install -m 644 $(MAN1) $(D_MAN)/man1/
	install -m 644 $(MAN3) $(D_MAN)/man3/
	links=$$($(MAN_LINKS)) && printf '%s\n' "$$links" | while read -r link page; do \
	  [ -z "$$link" ] || { printf '.so man3/%s\n' "$$page" > $(D_MAN)/man3/$$link && \
	                       chmod 644 $(D_MAN)/man3/$$link; } || exit 1; done

uninstall:
	rm -f $(addprefix $(D_INC)/,$(notdir $(HEADERS)))
	rm -f $(addprefix $(D_LIB)/,libplugin.a $(LIB_FILE) $(SONAME) libplugin.so pkgconfig/plugin.pc)
	rm -f $(D_BIN)/plugin $(D_SHARE)/$(GDB_SCRIPT)
	rm -f $(addprefix $(D_MAN)/man1/,$(notdir $(MAN1))) $(addprefix $(D_MAN)/man3/,$(notdir $(MAN3)))
	links=$$($(MAN_LINKS)) && printf '%s\n' "$$links" | while read -r link page; do \
	  [ -z "$$link" ] || rm -f $(D_MAN)/man3/$$link; done
	if [ -d $(D_SHARE) ]; then rmdir --ignore-fail-on-non-empty $(D_SHARE); fi

install-check: $(DEPS_STAMP) all
	bash scripts/install-check.sh

clean:
	rm -rf build

# The architecture, checked on the sources (scripts/check-layout.sh): core -> nothing, front
# ends -> core, formats.c and tools -> core and front ends; the core names no format.
check-layout:
	@bash scripts/check-layout.sh

# ---- make demo: example plugins loaded by a C host, then by the CLI ----
EX := $(BUILD)/examples

$(EX)/%.so: examples/%.c | $(DEMO_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC $(WARN) -O2 -g -o $@ $<

$(EX)/host: examples/host.c include/plugin.h $(BUILD)/libplugin.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)

demo: $(DEMO_STAMP) all $(EX)/greeter.so $(EX)/wordcount.so $(EX)/host
	@printf '\n== 1. A C program (examples/host.c) loads greeter.so, sets V = 7, calls F() ==\n'
	$(EX)/host $(EX)/greeter.so $(EX)/wordcount.so
	@printf '\n== 2. What is in wordcount.so (read from the file, nothing loaded) ==\n'
	$(BUILD)/plugin info $(EX)/wordcount.so
	@printf '\n== 3. What wordcount.so exports (what plugin_lookup can find) ==\n'
	$(BUILD)/plugin symbols $(EX)/wordcount.so
	@printf '\n== 4. Every step of loading wordcount.so ==\n'
	$(BUILD)/plugin load --trace $(EX)/wordcount.so
	@printf '\n== 5. Calling into it: digits(1234567) uses snprintf from the C library ==\n'
	$(BUILD)/plugin call $(EX)/wordcount.so digits 1234567

# Fixtures and tests: mk/tests.mk, Mach-O fixtures: mk/macho.mk, the malformed corpus:
# mk/malformed.mk, the static musl host: mk/musl.mk (the demo is above).
# Benchmarks and the fuzz target: mk/extra.mk.
include mk/tests.mk
include mk/macho.mk
include mk/malformed.mk
include mk/tls.mk
include mk/cxx.mk
include mk/libm.mk
include mk/extra.mk
include mk/compat.mk
include mk/ldso.mk
include mk/stress.mk
include mk/musl.mk
include mk/dlfcn.mk
