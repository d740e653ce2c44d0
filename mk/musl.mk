# A static musl host (issue 12): the library built with musl-gcc, a -static host linked with it,
# and plugins built with musl-gcc -shared -fPIC. Included by the Makefile after mk/tests.mk.
# x86-64 lane only (musl-tools is installed for the native x86-64 build; the aarch64 lane
# cross-builds with glibc's toolchain and has no musl one: tests/core/test_musl.c skips there).
#
#   build/src/{elfutils,zlib}    Debian's source packages, fetched by scripts/deps.sh (network)
#   build/musl/prefix            libelf.a, libz.a and their headers for musl (scripts/musl-libelf.sh)
#   build/musl/libplugin.a       the loader, compiled by musl-gcc with the library's flags
#   build/musl/tests/musl_host   tests/musl_host.c, musl-gcc -static (never sanitized)
#   build/musl/fixtures/*.so     fixtures/musl/*.c, musl-gcc -shared -fPIC
#
# Shared by every BUILD of the native lane (plain and sanitized): none of it is sanitized, as
# the glibc static host is not (the sanitizer runtimes need a dynamic glibc executable).

ifeq ($(ARCH),x86_64)
MUSL_CC     := musl-gcc
MUSL        := build/musl
MUSL_SRC    := build/src
MUSL_PREFIX := $(MUSL)/prefix
MUSL_LIBELF := $(MUSL_PREFIX)/.complete
MUSL_HOST   := $(MUSL)/tests/musl_host
MUSL_FIX    := $(MUSL)/fixtures
MUSL_FIXTURES := $(patsubst fixtures/musl/%.c,$(MUSL_FIX)/%.so,$(wildcard fixtures/musl/*.c))
MUSL_OBJS   := $(patsubst %.c,$(MUSL)/obj/%.o,$(LIB_SRCS))
MUSL_HDRS   := $(wildcard include/*.h loader/*/*.h arch/*.h arch/*/*.h)

# The sources are fetched by scripts/deps.sh (the one step that uses the network): a checkout
# whose package stamp predates this file gets them the first time it is needed.
$(MUSL_SRC)/.complete: | $(DEPS_STAMP)
	@bash scripts/deps.sh

$(MUSL_LIBELF): scripts/musl-libelf.sh $(MUSL_SRC)/.complete
	@echo "building libelf and zlib for musl into $(MUSL_PREFIX) (once)"
	@bash scripts/musl-libelf.sh $(MUSL_SRC) $(MUSL_PREFIX)

# The library's own flags (LIBCFLAGS less the sanitizers); libelf.h and gelf.h from the prefix
# (musl-gcc searches no glibc header directory).
$(MUSL)/obj/%.o: %.c $(MUSL_HDRS) $(MUSL_LIBELF)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(CPPFLAGS) -I$(MUSL_PREFIX)/include $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden \
	  -fno-plt -c $< -o $@

$(MUSL)/libplugin.a: $(MUSL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(MUSL_HOST): tests/musl_host.c include/plugin.h $(MUSL)/libplugin.a
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(MUSL)/libplugin.a \
	  -L$(MUSL_PREFIX)/lib -lelf -lz -lpthread

$(MUSL_FIX)/%.so: fixtures/musl/%.c mk/musl.mk | $(MUSL_SRC)/.complete
	@mkdir -p $(dir $@)
	$(MUSL_CC) -shared -fPIC -O1 -g $(FIXTURE_WARN) -o $@ $<

.PHONY: musl
musl: $(MUSL_HOST) $(MUSL_FIXTURES)
fixtures: $(MUSL_FIXTURES)
$(TEST_BIN): | $(MUSL_HOST) $(MUSL_FIXTURES)
TEST_DEFS += -DMUSL_DIR=\"$(abspath $(MUSL))\"
endif
