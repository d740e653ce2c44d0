#!/usr/bin/env bash
# scripts/musl-libelf.sh SRC PREFIX: build libelf.a and libz.a for musl (musl-gcc) into PREFIX
# (PREFIX/include: libelf.h gelf.h zlib.h zconf.h; PREFIX/lib: libelf.a libz.a), from the Debian
# source packages elfutils and zlib that scripts/deps.sh fetched and unpacked into SRC
# (SRC/elfutils, SRC/zlib). Run by make (mk/musl.mk) for the static musl host; offline, no root.
#
# Why by hand: Debian packages no libelf for musl, and elfutils' configure refuses to run without
# argp, fts and obstack, which musl lacks (they are needed by elfutils' tools, not by libelf). So
# this script compiles exactly the sources of libelf.a that libelf/Makefile.am lists, with the
# config.h below in place of configure's, and zlib's library sources (its configure only adds
# -D_LARGEFILE64_SOURCE and -DHAVE_HIDDEN on Linux, given here). No source file is patched.
# Compression: zlib only (libelf's zstd support is off: USE_ZSTD undefined).
#
# Idempotent: PREFIX/.complete records what was built; when it is there and newer than this
# script, nothing is done.
set -euo pipefail

SRC=${1:?usage: $0 SRC PREFIX}
PREFIX=${2:?usage: $0 SRC PREFIX}
CC=${MUSL_CC:-musl-gcc}
STAMP=$PREFIX/.complete
if [ -f "$STAMP" ] && [ "$STAMP" -nt "$0" ]; then exit 0; fi

for d in "$SRC/elfutils/libelf" "$SRC/zlib"; do
  [ -d "$d" ] || { echo "musl-libelf: $d missing: run scripts/deps.sh (it fetches the sources)" >&2; exit 1; }
done
command -v "$CC" >/dev/null || { echo "musl-libelf: $CC not found: run scripts/deps.sh" >&2; exit 1; }

WORK=$PREFIX/work
rm -rf "$PREFIX"
mkdir -p "$WORK/zlib" "$WORK/libelf" "$PREFIX/include" "$PREFIX/lib"
# -O2 as Debian builds both; -fPIC is not needed for a static host, but keeps the archives
# usable by a musl shared library too.
CFLAGS=(-O2 -g -fPIC)

# ---- zlib: every library source of the package (contrib/ and examples are not the library) ----
ZLIB_SRCS=(adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate
           inftrees trees uncompr zutil)
for s in "${ZLIB_SRCS[@]}"; do
  "$CC" "${CFLAGS[@]}" -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -I"$SRC/zlib" \
    -c "$SRC/zlib/$s.c" -o "$WORK/zlib/$s.o"
done
ar rcs "$PREFIX/lib/libz.a" "$WORK"/zlib/*.o
cp "$SRC/zlib/zlib.h" "$SRC/zlib/zconf.h" "$PREFIX/include/"

# ---- libelf: config.h for musl 1.2.3 (each value checked against musl's headers) ----
cat > "$WORK/libelf/config.h" <<'EOF'
/* Written by scripts/musl-libelf.sh in place of elfutils' configure, for musl-gcc. */
#define PACKAGE_NAME "elfutils"
#define PACKAGE_VERSION "0.188"
#define PACKAGE_URL "http://elfutils.org/"
#define PACKAGE_BUGREPORT "https://sourceware.org/bugzilla"
#define HAVE_VISIBILITY 1        /* gcc: internal functions hidden, as in Debian's build */
#define HAVE_GCC_STRUCT 1
#define HAVE_FALLTHROUGH 1       /* gcc >= 7 knows __attribute__ ((fallthrough)) */
#define HAVE_ERR_H 1             /* musl has err.h, not glibc's error.h (libelf calls neither) */
#define HAVE_DECL_MEMPCPY 1      /* musl's string.h, _GNU_SOURCE */
#define HAVE_DECL_MEMRCHR 1
#define HAVE_DECL_RAWMEMCHR 0    /* not in musl: elf_getarsym.c uses memchr instead */
#define HAVE_DECL_POWEROF2 1     /* musl's sys/param.h */
#define HAVE_DECL_REALLOCARRAY 1 /* musl >= 1.2.2 */
#define HAVE_MREMAP 1
#define HAVE_STDATOMIC_H 1
#define USE_ZLIB 1               /* compressed sections (SHF_COMPRESSED, .zdebug) */
/* USE_ZSTD, USE_BZLIB, USE_LZMA: off. USE_LOCKS: off, as in Debian's build. ENABLE_NLS: off. */
#include <eu-config.h>           /* what configure's config.h ends with (AH_BOTTOM) */
EOF

# The sources of libelf.a, read from libelf/Makefile.am (libelf_a_SOURCES), so that the list
# follows the package's version.
mapfile -t LIBELF_SRCS < <(sed -n '/^libelf_a_SOURCES/,/^$/p' "$SRC/elfutils/libelf/Makefile.am" |
                           tr ' \t\\' '\n\n\n' | grep '\.c$')
[ ${#LIBELF_SRCS[@]} -gt 50 ] || { echo "musl-libelf: cannot read libelf_a_SOURCES" >&2; exit 1; }
for s in "${LIBELF_SRCS[@]}"; do
  "$CC" "${CFLAGS[@]}" -std=gnu99 -D_GNU_SOURCE -DHAVE_CONFIG_H -I"$WORK/libelf" \
    -I"$SRC/elfutils/libelf" -I"$SRC/elfutils/lib" -I"$PREFIX/include" \
    -c "$SRC/elfutils/libelf/$s" -o "$WORK/libelf/${s%.c}.o"
done
ar rcs "$PREFIX/lib/libelf.a" "$WORK"/libelf/*.o
cp "$SRC/elfutils/libelf/libelf.h" "$SRC/elfutils/libelf/gelf.h" "$PREFIX/include/"

rm -rf "$WORK"
echo "elfutils libelf $(sed -n 's/^elfutils (\([^)]*\)).*/\1/p;q' "$SRC/elfutils/debian/changelog")," \
     "zlib $(sed -n 's/^zlib (\([^)]*\)).*/\1/p;q' "$SRC/zlib/debian/changelog"), built by $CC" > "$STAMP"
cat "$STAMP"
