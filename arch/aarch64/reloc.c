/*
 * aarch64/reloc.c — the AArch64 relocation table (ELF for the Arm 64-bit Architecture) and how
 * glibc's ld.so calls IFUNC resolvers on aarch64: resolver(AT_HWCAP | _IFUNC_ARG_HWCAP, &arg),
 * where arg carries its own size and the AT_HWCAP* words.
 */
#include "arch.h"

#include <elf.h>
#include <sys/auxv.h>

#ifndef R_AARCH64_TLS_DTPMOD
#define R_AARCH64_TLS_DTPMOD 1028
#define R_AARCH64_TLS_DTPREL 1029
#define R_AARCH64_TLS_TPREL  1030
#endif
/* musl's <elf.h> (1.2.3) has no name for the IFUNC relocation; its number, from the AArch64 ELF
 * ABI, for the musl build of the library (mk/musl.mk). */
#ifndef R_AARCH64_IRELATIVE
#define R_AARCH64_IRELATIVE 1032
#endif

static const struct reloc_type aarch64_types[] = {
    { 0,                      "R_AARCH64_NONE",       RK_NONE,        RC_NONE,     0, 0 },
    { 256,                    "R_AARCH64_NONE",       RK_NONE,        RC_NONE,     0, 0 },
    { R_AARCH64_ABS64,        "R_AARCH64_ABS64",      RK_SYMBOLIC,    RC_S_A,      8, 0 },
    { R_AARCH64_ABS32,        "R_AARCH64_ABS32",      RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_AARCH64_ABS16,        "R_AARCH64_ABS16",      RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_AARCH64_PREL64,       "R_AARCH64_PREL64",     RK_SYMBOLIC,    RC_S_A_P,    8, 0 },
    { R_AARCH64_PREL32,       "R_AARCH64_PREL32",     RK_SYMBOLIC,    RC_S_A_P,    4, 1 },
    { R_AARCH64_PREL16,       "R_AARCH64_PREL16",     RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_AARCH64_COPY,         "R_AARCH64_COPY",       RK_COPY,        RC_NONE,     0, 0 },
    { R_AARCH64_GLOB_DAT,     "R_AARCH64_GLOB_DAT",   RK_GLOB_DAT,    RC_S_A,      8, 0 },
    { R_AARCH64_JUMP_SLOT,    "R_AARCH64_JUMP_SLOT",  RK_JUMP_SLOT,   RC_S_A,      8, 0 },
    { R_AARCH64_RELATIVE,     "R_AARCH64_RELATIVE",   RK_RELATIVE,    RC_B_A,      8, 0 },
    { R_AARCH64_TLS_DTPMOD,   "R_AARCH64_TLS_DTPMOD", RK_TLS,         RC_NONE,     8, 0 },
    { R_AARCH64_TLS_DTPREL,   "R_AARCH64_TLS_DTPREL", RK_TLS,         RC_NONE,     8, 0 },
    { R_AARCH64_TLS_TPREL,    "R_AARCH64_TLS_TPREL",  RK_TLS,         RC_NONE,     8, 0 },
    { R_AARCH64_TLSDESC,      "R_AARCH64_TLSDESC",    RK_TLS,         RC_NONE,    16, 0 },
    { R_AARCH64_IRELATIVE,    "R_AARCH64_IRELATIVE",  RK_IRELATIVE,   RC_RESOLVER, 8, 0 },
};

#define IFUNC_ARG_HWCAP (1ULL << 62)    /* tells the resolver that its second argument is valid */

struct ifunc_arg {                      /* glibc's __ifunc_arg_t (fields past _size may grow) */
    unsigned long size;
    unsigned long hwcap, hwcap2, hwcap3, hwcap4;
};

static uint64_t aarch64_call_ifunc(uint64_t resolver)
{
    struct ifunc_arg arg = {
        .size = sizeof arg,
        .hwcap = getauxval(AT_HWCAP),
        .hwcap2 = getauxval(AT_HWCAP2),
        .hwcap3 = getauxval(29),        /* AT_HWCAP3, 0 where the kernel has none */
        .hwcap4 = getauxval(30),        /* AT_HWCAP4 */
    };
    uint64_t (*fn)(uint64_t, const struct ifunc_arg *) =
        (uint64_t (*)(uint64_t, const struct ifunc_arg *))(uintptr_t)resolver;
    return fn(arg.hwcap | IFUNC_ARG_HWCAP, &arg);
}

static void aarch64_flush_icache(void *start, size_t len)
{
    __builtin___clear_cache((char *)start, (char *)start + len);
}

const struct arch arch_aarch64 = {
    .name = "aarch64",
    .elf_machine = EM_AARCH64,
    .macho_cputype = 0x0100000c,            /* CPU_TYPE_ARM64 */
    .types = aarch64_types,
    .ntypes = sizeof aarch64_types / sizeof aarch64_types[0],
    .call_ifunc = aarch64_call_ifunc,
    .flush_icache = aarch64_flush_icache,
    .tls = { R_AARCH64_TLS_DTPMOD, R_AARCH64_TLS_DTPREL, R_AARCH64_TLS_TPREL, R_AARCH64_TLSDESC },
};
