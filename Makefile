# plugin — build, demo and tests.
#
#   make                 build/libplugin.a, build/libplugin.so, build/plugin
#   make demo            load the example plugins and call into them
#   make test            every Criterion suite (fixtures are built from fixtures/*.c)
#   make SANITIZE=address,undefined test    the same, sanitized (separate build directory)
#   make SANITIZE=thread test-stress        16 threads opening, looking up, calling, under
#                        ThreadSanitizer (build/tsan; about 20 s; tests/stress.c)
#   make ARCH=aarch64 [test]    cross-build everything into build/aarch64 (and run it under qemu)
#   make check-layout    the include graph between loader/core, elf, macho, tools (no cycle)
#   make tour            rerun the commands docs/tour.md quotes and refresh the quotes that changed
#   make install PREFIX=/usr/local DESTDIR=  header, libraries, CLI, pkg-config file
#
# On an x86-64 host, `make test` runs the native suite, then the same suite built for aarch64
# under qemu-user. Every target that needs packages runs scripts/deps.sh first (quick when
# nothing is missing).

PREFIX   ?= /usr/local
DESTDIR  ?=
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

.PHONY: all deps demo test install clean check-layout
all: $(BUILD)/libplugin.a $(BUILD)/libplugin.so $(BUILD)/plugin

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

$(BUILD)/libplugin.so: $(LIB_OBJS)
	$(CC) -shared $(SANFLAGS) -Wl,-soname,libplugin.so.0 -Wl,-z,relro,-z,now -o $@ $^ $(ELF_LIBS)

$(BUILD)/plugin: $(wildcard tools/*.c tools/*.h) $(BUILD)/libplugin.a
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.c,$^) $(BUILD)/libplugin.a \
	  $(ELF_LIBS)

# pkg-config file for the PREFIX it is installed under (written by make install).
define plugin_pc
prefix=$(PREFIX)
libdir=$${prefix}/lib
includedir=$${prefix}/include

Name: plugin
Description: load ELF and Mach-O plugins without libdl
Version: 0.1.0
Cflags: -I$${includedir}
Libs: -L$${libdir} -lplugin
Libs.private: -lelf -lz -lpthread
Requires.private: libelf
endef
export plugin_pc

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/plugin.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libplugin.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libplugin.so $(DESTDIR)$(PREFIX)/lib/libplugin.so.0
	ln -sf libplugin.so.0 $(DESTDIR)$(PREFIX)/lib/libplugin.so
	printf '%s\n' "$$plugin_pc" > $(DESTDIR)$(PREFIX)/lib/pkgconfig/plugin.pc
	install -m 755 $(BUILD)/plugin $(DESTDIR)$(PREFIX)/bin/

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
# mk/malformed.mk (the demo is above).
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
