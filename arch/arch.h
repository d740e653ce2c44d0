/*
 * arch.h — what an architecture provides to the loader.
 *
 * An architecture is data plus a few pure functions: a table that describes every relocation
 * type the loader knows (its name, what kind of work it needs, how its value is computed and
 * how wide the field is), the way an IFUNC resolver is called, and the instruction-cache flush.
 * Nothing here maps memory or looks up symbols: the generic relocation walk in
 * loader/elf/elf_reloc.c decides S (the symbol's address), and this module computes and stores the
 * value. Because the modules are pure, every architecture's table is compiled into every build,
 * so its relocations are unit-tested on any host and the CLI can describe foreign objects.
 */
#ifndef PLUGIN_ARCH_H
#define PLUGIN_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* What the generic walk must do for a relocation type. */
enum reloc_kind {
    RK_NONE,        /* nothing */
    RK_RELATIVE,    /* B + A: no symbol */
    RK_SYMBOLIC,    /* needs a symbol's address S (data: ABS64, PC32, ...) */
    RK_GLOB_DAT,    /* GOT entry: needs S */
    RK_JUMP_SLOT,   /* PLT GOT entry: needs S, bound at load time */
    RK_IRELATIVE,   /* call the resolver at B + A, store its result */
    RK_COPY,        /* refused: copy relocations belong to executables */
    RK_TLS,         /* thread-local storage: not supported yet */
    RK_UNSUPPORTED, /* known type that a shared object should not contain (text relocation) */
};

/* How the stored value is computed from S (symbol), A (addend), B (base), P (place). */
enum reloc_calc {
    RC_NONE,
    RC_B_A,         /* B + A */
    RC_S,           /* S (x86-64 GOT entries: the psABI ignores the addend) */
    RC_S_A,         /* S + A */
    RC_S_A_P,       /* S + A - P */
    RC_RESOLVER,    /* the caller passes the resolver's result as S; stored as is */
};

struct reloc_type {
    uint32_t type;
    const char *name;         /* "R_X86_64_RELATIVE" */
    enum reloc_kind kind;
    enum reloc_calc calc;
    uint8_t width;            /* bytes written: 0, 4 or 8 */
    uint8_t is_signed;        /* for width 4: the value must fit int32_t (else uint32_t) */
};

struct arch {
    const char *name;                    /* "x86-64", "aarch64" */
    uint16_t elf_machine;                /* EM_X86_64, EM_AARCH64 */
    uint32_t macho_cputype;              /* CPU_TYPE_X86_64, CPU_TYPE_ARM64 */
    const struct reloc_type *types;      /* sorted by type */
    size_t ntypes;
    /* Call an IFUNC resolver the way the platform's ld.so calls it. Native only. */
    uint64_t (*call_ifunc)(uint64_t resolver);
    /* Make instruction fetches see what was written to [start, start+len). */
    void (*flush_icache)(void *start, size_t len);
    /* The thread-local relocation types (their kind is RK_TLS). */
    struct { uint32_t dtpmod, dtpoff, tpoff, desc; } tls;
};

extern const struct arch arch_x86_64;
extern const struct arch arch_aarch64;

/* Prepare the thread-local access stubs of this CPU (arch/<cpu>/tlv.c); idempotent. */
void arch_tlv_init(void);
/* This thread's thread pointer (x86-64: %fs:0; aarch64: tpidr_el0). Native only. */
uintptr_t arch_thread_pointer(void);

/* The architecture this library was compiled for. */
const struct arch *arch_native(void);

/* The architecture of an ELF e_machine value, or NULL. */
const struct arch *arch_for_elf_machine(uint16_t machine);

/* Printable name of an ELF e_machine value ("x86-64", "aarch64", "i386", "EM_1234"). Thread-safe
 * for known machines; unknown ones are formatted into buf (at least 16 bytes). */
const char *arch_machine_name(uint16_t machine, char *buf, size_t bufsz);

/*
 * glibc-hwcaps (arch/<cpu>/hwcaps.c). Native only: they ask this CPU.
 * arch_hwcaps_subdirs fills names with the glibc-hwcaps subdirectories ld.so would search here,
 * best first ("x86-64-v4", "x86-64-v3", "x86-64-v2" on x86-64, each when the CPU and the OS
 * support it; none on aarch64, as in glibc 2.36), and returns how many.
 * arch_isa_levels: the ISA levels this CPU supports as glibc's GNU_PROPERTY_X86_ISA_1_* bits
 * (bit 0 baseline, 1 x86-64-v2, 2 -v3, 3 -v4), what ld.so.cache entries of glibc-hwcaps
 * subdirectories are checked against; ARCH_ISA_ANY on a CPU without ISA levels (every entry fits).
 */
#define ARCH_HWCAPS_MAX 4
#define ARCH_ISA_ANY UINT32_MAX
size_t arch_hwcaps_subdirs(const char *names[ARCH_HWCAPS_MAX]);
uint32_t arch_isa_levels(void);

/* The RELATIVE type of a (what DT_RELR entries stand for); ARCH_NO_RELATIVE when a is NULL. */
#define ARCH_NO_RELATIVE UINT32_MAX
uint32_t arch_relative_type(const struct arch *a);

/* The description of a relocation type, or NULL when the type is unknown. */
const struct reloc_type *arch_reloc_type(const struct arch *a, uint32_t type);

/*
 * Compute a relocation's value and store it at where (which holds at least rt->width bytes,
 * unaligned allowed). S, A, B and P as in enum reloc_calc. Returns 0, or -1 when the value does
 * not fit the field (a 32-bit PC-relative reference more than 2 GiB away) or the type computes
 * nothing storable.
 */
int arch_reloc_apply(const struct reloc_type *rt, void *where,
                     uint64_t S, int64_t A, uint64_t B, uint64_t P);

#endif /* PLUGIN_ARCH_H */
