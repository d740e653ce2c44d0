#!/usr/bin/env bash
# scripts/man-links.sh PAGE.3... — the link pages the man pages ask for, one "LINK PAGE" line each.
#
# A section-3 page that documents several functions names the others on a comment line near its
# top:
#     .\" links: plugin_open_with plugin_lookup ...
# and `make install` writes, for each name, man3/NAME.3 containing `.so man3/PAGE.3` (what
# distributions do, so that `man plugin_lookup` finds the page). `make uninstall` removes the
# same files, and tests/cli/test_man.c checks the lists against the headers: one list, here.
# Prints e.g. "plugin_lookup.3 plugin_open.3". A name listed twice, or a link that would
# overwrite a real page, is an error (exit 1).
set -euo pipefail
declare -A seen=()
for page in "$@"; do seen[$(basename "$page")]=page; done
for page in "$@"; do
  base=$(basename "$page")
  # Every word after "links:" on such lines; nothing when the page has none.
  for name in $(sed -n 's/^\.\\" links:\(.*\)$/\1/p' "$page"); do
    link=$name.3
    if [ -n "${seen[$link]:-}" ]; then
      echo "man-links: $page: $link is listed twice or is a page of its own" >&2
      exit 1
    fi
    seen[$link]=link
    echo "$link $base"
  done
done
