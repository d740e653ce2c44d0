/*
 * x86_64/reloc.c — the x86-64 relocation table (System V psABI, AMD64 supplement) and how
 * ld.so calls IFUNC resolvers on x86-64 (no arguments: glibc's resolvers read the CPU features
 * that the dynamic linker recorded).
 *
 * Only the types that can appear in the dynamic relocations of a shared object are listed as
 * work to do; the TLS types are listed so that errors can name them.
 */
#include "arch.h"

#include <elf.h>

static const struct reloc_type x86_64_types[] = {
    { R_X86_64_NONE,      "R_X86_64_NONE",      RK_NONE,        RC_NONE,     0, 0 },
    { R_X86_64_64,        "R_X86_64_64",        RK_SYMBOLIC,    RC_S_A,      8, 0 },
    { R_X86_64_PC32,      "R_X86_64_PC32",      RK_SYMBOLIC,    RC_S_A_P,    4, 1 },
    { R_X86_64_GOT32,     "R_X86_64_GOT32",     RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_PLT32,     "R_X86_64_PLT32",     RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_COPY,      "R_X86_64_COPY",      RK_COPY,        RC_NONE,     0, 0 },
    { R_X86_64_GLOB_DAT,  "R_X86_64_GLOB_DAT",  RK_GLOB_DAT,    RC_S,        8, 0 },
    { R_X86_64_JUMP_SLOT, "R_X86_64_JUMP_SLOT", RK_JUMP_SLOT,   RC_S,        8, 0 },
    { R_X86_64_RELATIVE,  "R_X86_64_RELATIVE",  RK_RELATIVE,    RC_B_A,      8, 0 },
    { R_X86_64_GOTPCREL,  "R_X86_64_GOTPCREL",  RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_32,        "R_X86_64_32",        RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_32S,       "R_X86_64_32S",       RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_16,        "R_X86_64_16",        RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_PC16,      "R_X86_64_PC16",      RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_8,         "R_X86_64_8",         RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_PC8,       "R_X86_64_PC8",       RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_DTPMOD64,  "R_X86_64_DTPMOD64",  RK_TLS,         RC_NONE,     8, 0 },
    { R_X86_64_DTPOFF64,  "R_X86_64_DTPOFF64",  RK_TLS,         RC_NONE,     8, 0 },
    { R_X86_64_TPOFF64,   "R_X86_64_TPOFF64",   RK_TLS,         RC_NONE,     8, 0 },
    { R_X86_64_TLSGD,     "R_X86_64_TLSGD",     RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_TLSLD,     "R_X86_64_TLSLD",     RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_DTPOFF32,  "R_X86_64_DTPOFF32",  RK_TLS,         RC_NONE,     4, 1 },
    { R_X86_64_GOTTPOFF,  "R_X86_64_GOTTPOFF",  RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_TPOFF32,   "R_X86_64_TPOFF32",   RK_TLS,         RC_NONE,     4, 1 },
    { R_X86_64_PC64,      "R_X86_64_PC64",      RK_SYMBOLIC,    RC_S_A_P,    8, 0 },
    { R_X86_64_GOTOFF64,  "R_X86_64_GOTOFF64",  RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_GOTPC32,   "R_X86_64_GOTPC32",   RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_SIZE32,    "R_X86_64_SIZE32",    RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_SIZE64,    "R_X86_64_SIZE64",    RK_UNSUPPORTED, RC_NONE,     0, 0 },
    { R_X86_64_GOTPC32_TLSDESC, "R_X86_64_GOTPC32_TLSDESC", RK_UNSUPPORTED, RC_NONE, 0, 0 },
    { R_X86_64_TLSDESC_CALL, "R_X86_64_TLSDESC_CALL", RK_UNSUPPORTED, RC_NONE, 0, 0 },
    { R_X86_64_TLSDESC,   "R_X86_64_TLSDESC",   RK_TLS,         RC_NONE,    16, 0 },
    { R_X86_64_IRELATIVE, "R_X86_64_IRELATIVE", RK_IRELATIVE,   RC_RESOLVER, 8, 0 },
    { R_X86_64_RELATIVE64, "R_X86_64_RELATIVE64", RK_UNSUPPORTED, RC_NONE,   0, 0 },
};

static uint64_t x86_64_call_ifunc(uint64_t resolver)
{
    uint64_t (*fn)(void) = (uint64_t (*)(void))(uintptr_t)resolver;
    return fn();
}

static void x86_64_flush_icache(void *start, size_t len)
{
    (void)start;    /* x86 keeps instruction fetch coherent with stores */
    (void)len;
}

const struct arch arch_x86_64 = {
    .name = "x86-64",
    .elf_machine = EM_X86_64,
    .macho_cputype = 0x01000007,            /* CPU_TYPE_X86_64 */
    .types = x86_64_types,
    .ntypes = sizeof x86_64_types / sizeof x86_64_types[0],
    .call_ifunc = x86_64_call_ifunc,
    .flush_icache = x86_64_flush_icache,
    .tls = { R_X86_64_DTPMOD64, R_X86_64_DTPOFF64, R_X86_64_TPOFF64, R_X86_64_TLSDESC },
};
