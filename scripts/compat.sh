#!/usr/bin/env bash
# compat.sh — `plugin load` over every shared library of a directory, against glibc's dlopen.
# Run by `make compat` (mk/compat.mk); usable alone:
#
#   scripts/compat.sh --plugin build/plugin --oracle build/compat/compat_dlopen \
#                     [--dir /usr/lib/x86_64-linux-gnu] [--timeout 10] [--jobs 4] [--out DIR]
#
# Every regular file named *.so* in the directory (symlinks skipped: they name the same files) is
# loaded by `plugin load FILE` in its own process, bounded by `timeout`, then by the oracle
# (dlopen RTLD_NOW | RTLD_LOCAL) the same way. Each outcome is one of:
#   loaded    exit 0
#   refused   exit 1 with a reason (the loader's one line; paths, addresses and numbers normalized
#             so that equal causes group together)
#   crashed   killed by a signal, out of time, or any other exit status
# Prints the counts for both, the refusals grouped by reason, every crash, and the files that
# glibc loads and we refuse. Exits 1 when anything crashed under plugin load.
#
# Initializer order, for the files both load: ours from `plugin load --trace` ("init order k/n:
# PATH" lines), glibc's from LD_DEBUG=files ("calling init: PATH" lines after "transferring
# control", written to a file by LD_DEBUG_OUTPUT so that stderr keeps only dlerror()). glibc
# lists only objects that have DT_INIT or DT_INIT_ARRAY; our list is cut down to the objects
# glibc names (by file name) and must then be glibc's list, in the same order. The oracle is
# linked against the CLI's libraries (libelf, libz), so both processes start with the same
# objects and each initializes the same new ones.
set -euo pipefail

PLUGIN= ORACLE= DIR= TIMEOUT=10 JOBS=4 OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --plugin) PLUGIN=$2; shift 2 ;;
    --oracle) ORACLE=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --one) shift; break ;;                  # internal: one file (run by xargs below)
    *) echo "compat.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Normalize a reason: no "plugin: FILE: " prefix, no paths (FILE for the file itself), addresses.
normalize() {
  local file=$1
  sed -e 's/^plugin: //' -e "s|^$file: ||" -e "s|$file|FILE|g" -e 's|/[^ :"(),]*|PATH|g' \
      -e 's/^PATH: //' -e 's/0x[0-9a-fA-F]\+/0x…/g' -e 's/\t/ /g'
}

# One run: "status<TAB>reason" for one program on one file (its stdout to $STDOUT_TO, if set).
classify() {
  local file=$1; shift
  local err rc=0
  err=$(timeout -k 2 "$TIMEOUT" "$@" "$file" 2>&1 >"${STDOUT_TO:-/dev/null}" </dev/null) || rc=$?
  case $rc in
    0) printf 'loaded\t\n' ;;
    1) local line
       line=$(printf '%s\n' "$err" | grep -m1 -v '^$' || true)
       printf 'refused\t%s\n' "$(printf '%s' "${line:-no message}" | normalize "$file")" ;;
    124) printf 'crashed\tout of time (%ss)\n' "$TIMEOUT" ;;
    137) printf 'crashed\tkilled (SIGKILL, out of time)\n' ;;
    *) if [ "$rc" -gt 128 ]; then
         printf 'crashed\tsignal %s (%s)\n' $((rc - 128)) "$(kill -l $((rc - 128)) 2>/dev/null || echo '?')"
       else
         printf 'crashed\texit status %s: %s\n' "$rc" "$(printf '%s' "$err" | tail -n1 | normalize "$file")"
       fi ;;
  esac
}

# The initializer order of both runs (files in $1): "same", "different: OURS | GLIBC" (file
# names, comma-separated), or "-" when one of them did not load.
compare_order() {
  local dir=$1 ours glibc
  ours=$(sed -n 's|^trace: \[ *[0-9.]* ms\] init order [0-9]*/[0-9]*: .*/||p' "$dir/ours" 2>/dev/null || true)
  glibc=$(cat "$dir"/glibc.* 2>/dev/null |
          awk '/transferring control/ { go = 1 } go && /calling init: / { sub(/.*calling init: /, ""); print }' |
          sed 's|.*/||')
  ours=$(printf '%s\n' "$ours" | awk -v want="$(printf '%s\n' "$glibc" | tr '\n' ' ')" \
         'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) keep[w[i]] = 1 } $0 in keep')
  if [ "$ours" = "$glibc" ]; then
    echo same
  else
    printf 'different: %s | %s\n' "$(printf '%s' "$ours" | paste -sd, -)" "$(printf '%s' "$glibc" | paste -sd, -)"
  fi
}

if [ -n "${COMPAT_ONE:-}" ]; then              # the worker: one file, one result line
  file=$1
  tmp=$(mktemp -d)
  ours=$(STDOUT_TO=$tmp/ours classify "$file" "$PLUGIN" load --trace)
  glibc=$(classify "$file" env LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/glibc" "$ORACLE")
  order=-
  if [ "${ours%%$'\t'*}" = loaded ] && [ "${glibc%%$'\t'*}" = loaded ]; then
    order=$(compare_order "$tmp")
  fi
  rm -rf "$tmp"
  printf '%s\t%s\t%s\t%s\n' "$file" "$ours" "$glibc" "$order"
  exit 0
fi

[ -n "$PLUGIN" ] && [ -x "$PLUGIN" ] || { echo "compat.sh: --plugin must name the plugin CLI" >&2; exit 2; }
[ -n "$ORACLE" ] && [ -x "$ORACLE" ] || { echo "compat.sh: --oracle must name the dlopen oracle" >&2; exit 2; }
if [ -z "$DIR" ]; then
  DIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")
fi
[ -d "$DIR" ] || { echo "compat.sh: no directory $DIR" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PLUGIN=$(realpath "$PLUGIN") ORACLE=$(realpath "$ORACLE")
export PLUGIN ORACLE TIMEOUT

results=$OUT/results.tsv
find "$DIR" -maxdepth 1 -type f -name '*.so*' -print0 | sort -z |
  COMPAT_ONE=1 xargs -0 -r -n1 -P "$JOBS" bash "$(realpath "$0")" --plugin "$PLUGIN" --oracle "$ORACLE" \
    --timeout "$TIMEOUT" --one > "$results.tmp"
sort "$results.tmp" > "$results" && rm -f "$results.tmp"
# results.tsv: file, ours (status, reason), glibc's (status, reason), initializer order

total=$(wc -l < "$results")
count() { awk -F'\t' -v c="$1" -v s="$2" '$c == s' "$results" | wc -l; }
ours_loaded=$(count 2 loaded) ours_refused=$(count 2 refused) ours_crashed=$(count 2 crashed)
glibc_loaded=$(count 4 loaded) glibc_refused=$(count 4 refused) glibc_crashed=$(count 4 crashed)

echo "== make compat: $total shared libraries in $DIR (regular files; symlinks skipped), ${TIMEOUT}s each"
printf '%-22s %8s %8s %8s\n' "" loaded refused crashed
printf '%-22s %8d %8d %8d\n' "plugin load" "$ours_loaded" "$ours_refused" "$ours_crashed"
printf '%-22s %8d %8d %8d\n' "glibc dlopen (oracle)" "$glibc_loaded" "$glibc_refused" "$glibc_crashed"
same_order=$(awk -F'\t' '$6 == "same"' "$results" | wc -l)
diff_order=$(awk -F'\t' '$6 ~ /^different/' "$results" | wc -l)
echo "initializer order: glibc's for $same_order of the $((same_order + diff_order)) loaded by both ($diff_order differ, listed below)"
echo
echo "-- plugin load: refusals by reason"
awk -F'\t' '$2 == "refused" { print $3 }' "$results" | sort | uniq -c | sort -rn
if [ "$ours_crashed" -gt 0 ]; then
  echo
  echo "-- plugin load: CRASHED"
  awk -F'\t' '$2 == "crashed" { print "  " $1 ": " $3 " (glibc: " $4 ")" }' "$results"
fi
echo
echo "-- glibc dlopen: refusals by reason"
awk -F'\t' '$4 == "refused" { print $5 }' "$results" | sort | uniq -c | sort -rn
if [ "$glibc_crashed" -gt 0 ]; then
  echo "-- glibc dlopen: crashed"
  awk -F'\t' '$4 == "crashed" { print "  " $1 ": " $5 }' "$results"
fi
both=$(awk -F'\t' '$2 == "loaded" && $4 == "loaded"' "$results" | wc -l)
only_glibc=$(awk -F'\t' '$2 != "loaded" && $4 == "loaded"' "$results" | wc -l)
only_ours=$(awk -F'\t' '$2 == "loaded" && $4 != "loaded"' "$results" | wc -l)
echo
echo "-- loaded by both: $both; by glibc only: $only_glibc; by plugin load only: $only_ours"
awk -F'\t' '$2 != "loaded" && $4 == "loaded" { print "   glibc only: " $1 ": " $3 }' "$results"
awk -F'\t' '$2 == "loaded" && $4 != "loaded" { print "   plugin load only: " $1 " (glibc: " $5 ")" }' "$results"
echo
echo "-- initializer order (loaded by both): same as glibc: $same_order; different: $diff_order"
awk -F'\t' '$6 ~ /^different/ && ++n <= 40 { print "   " $1 ": " substr($6, 12) " (ours | glibc)" }' "$results"
echo "   per-file results: $results"
[ "$ours_crashed" -eq 0 ]
