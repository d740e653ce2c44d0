#!/usr/bin/env bash
# make check-layout: the architecture, checked on the sources (comments removed by the C
# preprocessor, so prose may name anything).
#
#   1. Includes between folders point one way only:
#        loader/core  -> core                  (the format-neutral core knows no format)
#        loader/elf   -> core, elf             (a front end knows the core and itself)
#        loader/macho -> core, macho
#        loader/formats.c -> core, elf, macho  (the one file that names the front ends)
#        tools        -> core, elf, macho      (the CLI asks the readers; nothing includes tools)
#      and arch/ and include/ from anywhere. With these edges the folder graph has no cycle.
#   2. No core file names anything of a format: no elf_/macho_ function, no Elf64_ type, no
#      ELF constant (DT_, PT_, SHT_, STT_, ELF64_), no <elf.h>, <gelf.h>, <libelf.h>, <link.h>.
#   3. tools/ parses no format: no libelf, no <elf.h>-level reading of its own.
# Prints every violation and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
bad() { echo "check-layout: $*"; fail=1; }

allowed_for() {
  case "$1" in
    loader/core/*)     echo "core" ;;
    loader/elf/*)      echo "core elf" ;;
    loader/macho/*)    echo "core macho" ;;
    loader/formats.c)  echo "core elf macho" ;;
    tools/*)           echo "core elf macho" ;;
    tests/*|fuzz/*|bench/*) echo "core elf macho" ;;
    *)                 echo "" ;;
  esac
}

# 1. includes of "core/...", "elf/...", "macho/..."
for f in loader/*.c loader/*/*.[ch] tools/*.[ch] tests/*.[ch] tests/*/*.c fuzz/*.c bench/*.c arch/*.[ch] arch/*/*.c; do
  [ -f "$f" ] || continue
  allowed=$(allowed_for "$f")
  while IFS= read -r inc; do
    dir=${inc%%/*}
    case " $allowed " in
      *" $dir "*) ;;
      *) bad "$f includes \"$inc\" (allowed folders: ${allowed:-none})" ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(\(core\|elf\|macho\)\/[^"]*\)".*/\1/p' "$f")
done

# 2. the core names no format
strip() { gcc -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null; }
for f in loader/core/*.[ch]; do
  hits=$(strip "$f" | grep -nE '\b(elf|macho|gelf)_[a-z_0-9]+|\bElf(64|32)?_[A-Za-z]+|\b(DT|PT|SHT|STT|STB|ELF64|ELFCLASS|EM)_[A-Z0-9_]+|#include <(elf|gelf|libelf|link)\.h>|\bmacho\b' || true)
  [ -z "$hits" ] || bad "$f names a format:"$'\n'"$hits"
done

# 3. the CLI prints; it reads nothing itself
for f in tools/*.[ch]; do
  hits=$(strip "$f" | grep -nE '#include <(gelf|libelf)\.h>|\b(gelf|elf)_(begin|getdata|getshdr|nextscn|strptr|getphdr|getehdr)\b|\b(pread|fread|read|mmap)[[:space:]]*\(' || true)
  [ -z "$hits" ] || bad "$f reads a file format itself:"$'\n'"$hits"
done

if [ $fail = 0 ]; then
  echo "check-layout: ok (core -> nothing; elf, macho -> core; formats.c, tools -> core, elf, macho)"
fi
exit $fail
