/*
 * aarch64/hwcaps.c — glibc-hwcaps on aarch64: glibc 2.36 defines no subdirectories for this CPU
 * (its list is empty, so ld.so searches no glibc-hwcaps/<name>/ directory), and ld.so.cache
 * entries carry no ISA level to check (glibc's generic check accepts every entry).
 */
#include "arch.h"

#if defined(__aarch64__)

uint32_t arch_isa_levels(void)
{
    return ARCH_ISA_ANY;
}

size_t arch_hwcaps_subdirs(const char *names[ARCH_HWCAPS_MAX])
{
    (void)names;
    return 0;
}

#endif
