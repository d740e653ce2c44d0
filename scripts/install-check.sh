#!/usr/bin/env bash
# scripts/install-check.sh — `make install` works for a program outside this tree (make install-check).
#
# 1. make install into a temporary DESTDIR (PREFIX /usr/local), next to two files that are not
#    ours (they must survive); check every file we promise is there: headers, libplugin.a,
#    libplugin.so.X.Y.Z with its links, plugin.pc, the CLI, the gdb script, the man pages and
#    their link pages (`man plugin_lookup` must show plugin_open(3), read through man-db).
# 2. Copy examples/outside somewhere else and build it with pkg-config against the DESTDIR
#    (PKG_CONFIG_SYSROOT_DIR: the .pc says /usr/local, the files are under DESTDIR), dynamic and
#    -static; run both (the dynamic one with LD_LIBRARY_PATH into the DESTDIR, and checked to
#    use that library) and compare their output with what they must print.
# 3. make uninstall: no file of ours is left, the two foreign files are.
# Prints one line per step; exits 1 at the first failure, saying what failed.
set -euo pipefail
cd "$(dirname "$0")/.."

MAKE=${MAKE:-make}
PREFIX=/usr/local
tmp=$(mktemp -d /tmp/plugin-install-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
root=$dest$PREFIX

fail() { echo "install-check: FAILED: $*" >&2; exit 1; }
step() { echo "install-check: $*"; }

version=$(sed -n 's/^#define PLUGIN_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9][0-9]*\)$/\2/p' include/plugin.h |
          paste -sd.)
major=${version%%.*}

# ---- 1. install ----
mkdir -p "$root/lib" "$root/share/man/man3"
echo "not ours" > "$root/lib/foreign.txt"
echo "not ours" > "$root/share/man/man3/foreign.3"
"$MAKE" --no-print-directory install DESTDIR="$dest" PREFIX="$PREFIX" > "$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "make install"; }

expect_file() { [ -f "$root/$1" ] && [ ! -L "$root/$1" ] || fail "not installed: $PREFIX/$1"; }
expect_link() { [ "$(readlink "$root/$1")" = "$2" ] || fail "$PREFIX/$1 does not link to $2"; }
for h in include/*.h; do expect_file "$h"; done
expect_file lib/libplugin.a
expect_file "lib/libplugin.so.$version"
expect_link "lib/libplugin.so.$major" "libplugin.so.$version"
expect_link lib/libplugin.so "libplugin.so.$major"
expect_file lib/pkgconfig/plugin.pc
expect_file bin/plugin
expect_file share/plugin/plugin-gdb.py
for page in man/*.1; do expect_file "share/man/man1/${page#man/}"; done
for page in man/*.3; do expect_file "share/man/man3/${page#man/}"; done
bash scripts/man-links.sh man/*.3 > "$tmp/links"
while read -r link page; do
  [ "$(cat "$root/share/man/man3/$link")" = ".so man3/$page" ] || fail "link page man3/$link"
done < "$tmp/links"
[ -s "$tmp/links" ] || fail "no link pages listed by the man pages"
step "installed into DESTDIR: headers, libraries (libplugin.so.$version), plugin.pc, CLI, gdb script, man pages"

# Each page's first link, through man-db as a user would read it: the NAME line of the page it
# links to ("plugin_open, ..." for plugin_open.3).
for target in $(cut -d' ' -f2 "$tmp/links" | sort -u); do
  link=$(grep " $target\$" "$tmp/links" | head -1 | cut -d' ' -f1)
  MANPAGER=cat man -M "$root/share/man" -P cat 3 "${link%.3}" 2>&1 | grep -q "^ *${target%.3}," ||
    fail "man ${link%.3} does not show ${target%.3}(3), the page it links to"
  step "man ${link%.3} shows ${target%.3}(3)"
done

# ---- 2. the out-of-tree example ----
src=$tmp/outside
cp -r examples/outside "$src"
export PKG_CONFIG_PATH=$root/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
[ "$(pkg-config --modversion plugin)" = "$version" ] || fail "pkg-config --modversion plugin is not $version"
"$MAKE" --no-print-directory -C "$src" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "building examples/outside"; }
step "built examples/outside with pkg-config: $(pkg-config --libs plugin) / --static: $(pkg-config --static --libs plugin)"

readelf -d "$src/hello" | grep -q "NEEDED.*\[libplugin.so.$major\]" || fail "hello does not need libplugin.so.$major"
readelf -l "$src/hello-static" | grep -q INTERP && fail "hello-static is not static"
LD_LIBRARY_PATH=$root/lib LD_TRACE_LOADED_OBJECTS=1 "$src/hello" | grep -q "$root/lib/libplugin.so.$major" ||
  fail "hello does not load the DESTDIR's libplugin.so.$major"

expected="libplugin $version (header $version)
hello, world, from a plugin
greet_calls = 1"
for prog in hello hello-static; do
  out=$(cd "$src" && LD_LIBRARY_PATH=$root/lib "./$prog" ./greet.so world 2>&1) ||
    fail "$prog exited with $?: $out"
  [ "$out" = "$expected" ] || fail "$prog printed:
$out
instead of:
$expected"
  step "$prog ./greet.so world: prints what it must"
done
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# ---- 3. uninstall ----
"$MAKE" --no-print-directory uninstall DESTDIR="$dest" PREFIX="$PREFIX" > "$tmp/uninstall.log" 2>&1 ||
  { cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(cd "$dest" && find . \( -type f -o -type l \) | sort)
[ "$left" = "$(printf '%s\n' ".$PREFIX/lib/foreign.txt" ".$PREFIX/share/man/man3/foreign.3")" ] ||
  fail "after make uninstall, DESTDIR holds:
$left
(expected only the two foreign files)"
[ ! -e "$root/share/plugin" ] || fail "uninstall left $PREFIX/share/plugin"
step "uninstalled: no file of ours left, the foreign files kept"
echo "install-check: passed"
