# Mach-O fixtures (built with clang-19 / lld-19, for x86_64 and arm64 in every lane). Included by
# the Makefile after mk/tests.mk. See ../shared/notes/macho-fixtures.md for the recipes.
