/*
 * x86_64/hwcaps.c — which x86-64 micro-architecture levels this CPU supports, for the
 * glibc-hwcaps subdirectories (glibc-hwcaps/x86-64-v4/, -v3/, -v2/) and the ISA level that
 * ld.so.cache entries of those subdirectories carry.
 *
 * A level is supported when every feature of it and of the levels below is usable: present in
 * CPUID and, for the AVX families, enabled by the operating system in XCR0 (the register state
 * the kernel saves). The feature sets are the x86-64 psABI's, as glibc 2.36's ld.so tests them
 * (sysdeps/x86/get-isa-level.h):
 *   baseline  CMOV CX8 FPU FXSR MMX SSE SSE2
 *   v2        CMPXCHG16B LAHF-SAHF POPCNT SSE3 SSSE3 SSE4.1 SSE4.2
 *   v3        AVX AVX2 BMI1 BMI2 F16C FMA LZCNT MOVBE          (XMM and YMM state enabled)
 *   v4        AVX512F AVX512BW AVX512CD AVX512DQ AVX512VL      (opmask and ZMM state too)
 * glibc can also mask features with GLIBC_TUNABLES=glibc.cpu.hwcaps=-...; that is not read here.
 */
#include "arch.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* The registers the features live in: CPUID.1:ECX/EDX, CPUID.(7,0):EBX, CPUID.80000001h:ECX,
 * and OS, bits we make from XCR0 (bit 0: YMM state usable, bit 1: AVX-512 state usable). */
enum reg { C1, D1, B7, CX, OS, NREGS };

struct feature {
    uint8_t reg, bit;
};

static const struct feature baseline[] = {
    { D1, 0 }, { D1, 8 }, { D1, 15 }, { D1, 23 }, { D1, 24 }, { D1, 25 }, { D1, 26 },
};
static const struct feature v2[] = {
    { C1, 13 }, { CX, 0 }, { C1, 23 }, { C1, 0 }, { C1, 9 }, { C1, 19 }, { C1, 20 },
};
static const struct feature v3[] = {
    { OS, 0 }, { C1, 28 }, { B7, 5 }, { B7, 3 }, { B7, 8 }, { C1, 29 }, { C1, 12 }, { CX, 5 }, { C1, 22 },
};
static const struct feature v4[] = {
    { OS, 1 }, { B7, 16 }, { B7, 30 }, { B7, 28 }, { B7, 17 }, { B7, 31 },
};

static const struct {
    const struct feature *f;
    size_t n;
} levels[] = {
    { baseline, sizeof baseline / sizeof *baseline },
    { v2, sizeof v2 / sizeof *v2 },
    { v3, sizeof v3 / sizeof *v3 },
    { v4, sizeof v4 / sizeof *v4 },
};

/* XCR0, the state components the OS enabled (only when CPUID says OSXSAVE). */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

static void read_regs(uint32_t r[NREGS])
{
    unsigned a, b, c, d;
    for (int i = 0; i < NREGS; i++)
        r[i] = 0;
    if (__get_cpuid(1, &a, &b, &c, &d))
        r[C1] = c, r[D1] = d;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        r[B7] = b;
    }
    if (__get_cpuid(0x80000001u, &a, &b, &c, &d))
        r[CX] = c;
    if (r[C1] & (1u << 27)) {                           /* OSXSAVE: XGETBV is allowed */
        uint64_t x = xcr0();
        r[OS] = ((x & 0x6) == 0x6 ? 1u : 0u) | ((x & 0xe6) == 0xe6 ? 2u : 0u);
    }
}

uint32_t arch_isa_levels(void)
{
    uint32_t r[NREGS], have = 0;
    read_regs(r);
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        for (size_t i = 0; i < levels[l].n; i++)
            if (!(r[levels[l].f[i].reg] & (1u << levels[l].f[i].bit)))
                return have;
        have |= 1u << l;                                /* levels are cumulative */
    }
    return have;
}

size_t arch_hwcaps_subdirs(const char *names[ARCH_HWCAPS_MAX])
{
    static const char *const by_level[] = { NULL, "x86-64-v2", "x86-64-v3", "x86-64-v4" };
    uint32_t have = arch_isa_levels();
    size_t n = 0;
    for (size_t l = 3; l >= 1; l--)
        if (have & (1u << l))
            names[n++] = by_level[l];
    return n;
}

#endif
