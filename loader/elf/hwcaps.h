/*
 * hwcaps.h — glibc-hwcaps: the subdirectories (glibc-hwcaps/<name>/) of every search directory
 * that ld.so tries before the directory itself, best first, and the ISA levels that ld.so.cache
 * entries for them are checked against. The per-CPU facts come from arch/<cpu>/hwcaps.c.
 */
#ifndef PLUGIN_HWCAPS_H
#define PLUGIN_HWCAPS_H

#include "arch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_hwcaps {
    size_t n;                               /* how many subdirectories */
    const char *names[ARCH_HWCAPS_MAX];     /* best first: "x86-64-v4", ... */
    uint32_t isa;                           /* arch_isa_levels() */
};

/* This CPU's, asked once (thread-safe). */
const struct elf_hwcaps *elf_hwcaps(void);

/* The preference of a subdirectory name: 1 for the best, 2 for the next, ...; 0 when this CPU
 * does not use it (unknown name, or a level the CPU lacks). */
unsigned elf_hwcaps_priority(const char *name);

/* Whether an ld.so.cache entry of ISA level level (the 10-bit field of its hwcap) fits this CPU. */
bool elf_hwcaps_isa_ok(uint32_t level);

#endif
