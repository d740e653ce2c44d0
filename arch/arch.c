/*
 * arch.c — the architecture-independent half of the arch modules: finding an architecture by
 * ELF machine, finding a relocation type in an architecture's table, and computing and storing
 * a relocation's value. Pure: no memory mapping, no symbol lookup, so it is unit-tested on any
 * host for every architecture.
 */
#include "arch.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

const struct arch *arch_native(void)
{
#if defined(__x86_64__)
    return &arch_x86_64;
#elif defined(__aarch64__)
    return &arch_aarch64;
#else
#error "unsupported host CPU: plugin supports x86-64 and aarch64"
#endif
}

const struct arch *arch_for_elf_machine(uint16_t machine)
{
    if (machine == arch_x86_64.elf_machine)
        return &arch_x86_64;
    if (machine == arch_aarch64.elf_machine)
        return &arch_aarch64;
    return NULL;
}

const char *arch_machine_name(uint16_t machine, char *buf, size_t bufsz)
{
    switch (machine) {
    case EM_X86_64:  return "x86-64";
    case EM_AARCH64: return "aarch64";
    case EM_386:     return "i386";
    case EM_ARM:     return "arm";
    case EM_RISCV:   return "riscv";
    case EM_PPC64:   return "ppc64";
    case EM_S390:    return "s390";
    default:
        snprintf(buf, bufsz, "EM_%u", (unsigned)machine);
        return buf;
    }
}

uint32_t arch_relative_type(const struct arch *a)
{
    for (size_t i = 0; a && i < a->ntypes; i++)
        if (a->types[i].kind == RK_RELATIVE)
            return a->types[i].type;
    return ARCH_NO_RELATIVE;
}

const struct reloc_type *arch_reloc_type(const struct arch *a, uint32_t type)
{
    size_t lo = 0, hi = a->ntypes;
    while (lo < hi) {                       /* the tables are sorted by type */
        size_t mid = lo + (hi - lo) / 2;
        if (a->types[mid].type == type)
            return &a->types[mid];
        if (a->types[mid].type < type)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int arch_reloc_apply(const struct reloc_type *rt, void *where,
                     uint64_t S, int64_t A, uint64_t B, uint64_t P)
{
    uint64_t v;
    switch (rt->calc) {
    case RC_B_A:      v = B + (uint64_t)A; break;
    case RC_S:        v = S; break;
    case RC_S_A:      v = S + (uint64_t)A; break;
    case RC_S_A_P:    v = S + (uint64_t)A - P; break;
    case RC_RESOLVER: v = S; break;
    default:          return -1;
    }
    if (rt->width == 8) {
        memcpy(where, &v, 8);
        return 0;
    }
    if (rt->width == 4) {
        int64_t sv = (int64_t)v;
        if (rt->is_signed ? (sv < INT32_MIN || sv > INT32_MAX) : (v > UINT32_MAX))
            return -1;
        uint32_t w = (uint32_t)v;
        memcpy(where, &w, 4);
        return 0;
    }
    return -1;
}
