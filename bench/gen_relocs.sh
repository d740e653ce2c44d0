#!/bin/sh
# gen_relocs.sh RELATIVE SYMBOLIC — assembly for a shared object with that many relocations, for
# bench/bench.c (built by mk/extra.mk): RELATIVE pointers into a local (hidden) table, which every
# loader fixes up by adding the load address, and SYMBOLIC pointers to as many distinct exported
# variables, which every loader must look up by name. `bench_relocs` (exported) is the first table.
# Assembly rather than C so that a million entries assemble in a second.
set -eu
rel=$1 sym=$2
awk -v rel="$rel" -v sym="$sym" 'BEGIN {
    print "\t.bss\n\t.balign 8\nbench_target:\n\t.zero " (rel > 0 ? rel * 8 : 8)
    print "\t.data\n\t.balign 8\n\t.globl bench_relocs\n\t.type bench_relocs, @object"
    print "bench_relocs:"
    for (i = 0; i < rel; i++) printf "\t.quad bench_target+%d\n", i * 8
    if (rel == 0) print "\t.quad 0"
    for (i = 0; i < sym; i++) printf "\t.globl bench_sym%d\nbench_sym%d:\n\t.quad 0\n", i, i
    for (i = 0; i < sym; i++) printf "\t.quad bench_sym%d\n", i
    print "\t.section .note.GNU-stack,\"\",@progbits"
}'
