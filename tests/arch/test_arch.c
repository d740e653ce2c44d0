/*
 * test_arch.c — the arch modules (arch/arch.h) on their own: pure functions, so both the
 * x86-64 and the aarch64 tables are tested on any host.
 *
 * Values are computed with the psABI formulas (B + A, S + A, S + A - P) from the inputs, and
 * every store is checked byte for byte inside a guard-filled buffer at an unaligned address:
 * exactly `width` bytes change, nothing around them.
 */
#include "arch.h"
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef R_AARCH64_NONE
#define R_AARCH64_NONE 0
#endif
#ifndef R_AARCH64_TLS_DTPMOD
#define R_AARCH64_TLS_DTPMOD 1028
#define R_AARCH64_TLS_DTPREL 1029
#define R_AARCH64_TLS_TPREL  1030
#endif

static const struct arch *const all_arches[] = { &arch_x86_64, &arch_aarch64 };

Test(arch, tables_sorted_and_nonempty)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch *a = all_arches[k];
        cr_assert_gt(a->ntypes, 0, "%s: empty table", a->name);
        for (size_t i = 1; i < a->ntypes; i++)
            cr_assert_lt(a->types[i - 1].type, a->types[i].type,
                         "%s: table not sorted at %zu (%s %u, %s %u)", a->name, i,
                         a->types[i - 1].name, a->types[i - 1].type, a->types[i].name,
                         a->types[i].type);
    }
}

Test(arch, lookup_finds_every_type)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch *a = all_arches[k];
        const char *prefix = a == &arch_x86_64 ? "R_X86_64_" : "R_AARCH64_";
        for (size_t i = 0; i < a->ntypes; i++) {
            const struct reloc_type *rt = arch_reloc_type(a, a->types[i].type);
            cr_assert_eq(rt, &a->types[i], "%s: type %u (%s) not found", a->name,
                         a->types[i].type, a->types[i].name);
            cr_assert_not_null(rt->name);
            cr_assert_eq(strncmp(rt->name, prefix, strlen(prefix)), 0, "%s: name %s", a->name,
                         rt->name);
            cr_assert(rt->width == 0 || rt->width == 4 || rt->width == 8 || rt->width == 16,
                      "%s: %s width %u", a->name, rt->name, rt->width);
            /* A type one above that is not in the table must not be found. */
            uint32_t next = a->types[i].type + 1;
            int listed = i + 1 < a->ntypes && a->types[i + 1].type == next;
            if (!listed)
                cr_assert_null(arch_reloc_type(a, next), "%s: phantom type %u", a->name, next);
        }
        cr_assert_null(arch_reloc_type(a, 0xfffffffeu));
        cr_assert_null(arch_reloc_type(a, 0x7fffffffu));
    }
}

/* The types the loader needs, described as the psABIs define them. */
struct expect {
    const struct arch *a;
    uint32_t type;
    enum reloc_kind kind;
    enum reloc_calc calc;
    unsigned width;
};

Test(arch, types_needed_by_the_loader)
{
    const struct expect ex[] = {
        { &arch_x86_64, R_X86_64_NONE, RK_NONE, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_RELATIVE, RK_RELATIVE, RC_B_A, 8 },
        { &arch_x86_64, R_X86_64_64, RK_SYMBOLIC, RC_S_A, 8 },
        { &arch_x86_64, R_X86_64_GLOB_DAT, RK_GLOB_DAT, RC_S, 8 },
        { &arch_x86_64, R_X86_64_JUMP_SLOT, RK_JUMP_SLOT, RC_S, 8 },
        { &arch_x86_64, R_X86_64_PC32, RK_SYMBOLIC, RC_S_A_P, 4 },
        { &arch_x86_64, R_X86_64_PC64, RK_SYMBOLIC, RC_S_A_P, 8 },
        { &arch_x86_64, R_X86_64_IRELATIVE, RK_IRELATIVE, RC_RESOLVER, 8 },
        { &arch_x86_64, R_X86_64_COPY, RK_COPY, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_DTPMOD64, RK_TLS, RC_NONE, 8 },
        { &arch_x86_64, R_X86_64_TPOFF64, RK_TLS, RC_NONE, 8 },
        { &arch_aarch64, R_AARCH64_NONE, RK_NONE, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_RELATIVE, RK_RELATIVE, RC_B_A, 8 },
        { &arch_aarch64, R_AARCH64_ABS64, RK_SYMBOLIC, RC_S_A, 8 },
        { &arch_aarch64, R_AARCH64_GLOB_DAT, RK_GLOB_DAT, RC_S_A, 8 },
        { &arch_aarch64, R_AARCH64_JUMP_SLOT, RK_JUMP_SLOT, RC_S_A, 8 },
        { &arch_aarch64, R_AARCH64_PREL32, RK_SYMBOLIC, RC_S_A_P, 4 },
        { &arch_aarch64, R_AARCH64_PREL64, RK_SYMBOLIC, RC_S_A_P, 8 },
        { &arch_aarch64, R_AARCH64_IRELATIVE, RK_IRELATIVE, RC_RESOLVER, 8 },
        { &arch_aarch64, R_AARCH64_COPY, RK_COPY, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_TLSDESC, RK_TLS, RC_NONE, 16 },
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        const struct reloc_type *rt = arch_reloc_type(ex[i].a, ex[i].type);
        cr_assert_not_null(rt, "%s: type %u missing", ex[i].a->name, ex[i].type);
        cr_assert_eq(rt->type, ex[i].type);
        cr_assert_eq(rt->kind, ex[i].kind, "%s: kind %d, want %d", rt->name, rt->kind, ex[i].kind);
        cr_assert_eq(rt->calc, ex[i].calc, "%s: calc %d, want %d", rt->name, rt->calc, ex[i].calc);
        cr_assert_eq(rt->width, ex[i].width, "%s: width %u, want %u", rt->name, rt->width,
                     ex[i].width);
    }
    cr_assert(arch_reloc_type(&arch_x86_64, R_X86_64_PC32)->is_signed);
    cr_assert(arch_reloc_type(&arch_aarch64, R_AARCH64_PREL32)->is_signed);
    cr_assert_str_eq(arch_reloc_type(&arch_x86_64, R_X86_64_RELATIVE)->name, "R_X86_64_RELATIVE");
    cr_assert_str_eq(arch_reloc_type(&arch_aarch64, R_AARCH64_ABS64)->name, "R_AARCH64_ABS64");
}

Test(arch, machines)
{
    cr_assert_eq(arch_for_elf_machine(EM_X86_64), &arch_x86_64);
    cr_assert_eq(arch_for_elf_machine(EM_AARCH64), &arch_aarch64);
    cr_assert_null(arch_for_elf_machine(EM_386));
    cr_assert_null(arch_for_elf_machine(0));
    cr_assert_eq(arch_x86_64.elf_machine, EM_X86_64);
    cr_assert_eq(arch_aarch64.elf_machine, EM_AARCH64);
#if defined(__x86_64__)
    cr_assert_eq(arch_native(), &arch_x86_64);
#elif defined(__aarch64__)
    cr_assert_eq(arch_native(), &arch_aarch64);
#endif
    char buf[16];
    cr_assert_str_eq(arch_machine_name(EM_X86_64, buf, sizeof buf), "x86-64");
    cr_assert_str_eq(arch_machine_name(EM_AARCH64, buf, sizeof buf), "aarch64");
    cr_assert_str_eq(arch_machine_name(1234, buf, sizeof buf), "EM_1234");
    cr_assert_not_null(arch_native()->call_ifunc);
    cr_assert_not_null(arch_native()->flush_icache);
}

/* ---- arch_reloc_apply ---- */

#define GUARD 0xA5
#define OFF 3           /* unaligned on purpose */

struct applied {
    int rc;
    unsigned char buf[32];
};

static struct applied apply(const struct arch *a, uint32_t type, uint64_t S, int64_t A,
                            uint64_t B, uint64_t P)
{
    const struct reloc_type *rt = arch_reloc_type(a, type);
    cr_assert_not_null(rt, "%s: type %u missing", a->name, type);
    struct applied r;
    memset(r.buf, GUARD, sizeof r.buf);
    r.rc = arch_reloc_apply(rt, r.buf + OFF, S, A, B, P);
    return r;
}

/* Exactly width bytes at OFF hold the little-endian value; every other byte is untouched. */
static void expect_stored(const struct applied *r, unsigned width, uint64_t value, const char *what)
{
    cr_assert_eq(r->rc, 0, "%s: returned %d", what, r->rc);
    for (unsigned i = 0; i < sizeof r->buf; i++) {
        if (i >= OFF && i < OFF + width)
            cr_assert_eq(r->buf[i], (unsigned char)(value >> (8 * (i - OFF))),
                         "%s: byte %u is %#x, want %#x", what, i - OFF, r->buf[i],
                         (unsigned)(unsigned char)(value >> (8 * (i - OFF))));
        else
            cr_assert_eq(r->buf[i], GUARD, "%s: byte %u outside the field was written", what, i);
    }
}

static void expect_refused(const struct applied *r, const char *what)
{
    cr_assert_eq(r->rc, -1, "%s: returned %d, want -1", what, r->rc);
    for (unsigned i = 0; i < sizeof r->buf; i++)
        cr_assert_eq(r->buf[i], GUARD, "%s: refused but wrote byte %u", what, i);
}

/* Both architectures, one row per relocation type and its psABI meaning. */
struct arch_types {
    const struct arch *a;
    uint32_t none, relative, abs64, glob_dat, jump_slot, prel32, prel64, irelative;
    int got_adds_addend;    /* aarch64 GLOB_DAT/JUMP_SLOT are S + A; x86-64 ignore A */
};

static const struct arch_types rows[] = {
    { &arch_x86_64, R_X86_64_NONE, R_X86_64_RELATIVE, R_X86_64_64, R_X86_64_GLOB_DAT,
      R_X86_64_JUMP_SLOT, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_IRELATIVE, 0 },
    { &arch_aarch64, R_AARCH64_NONE, R_AARCH64_RELATIVE, R_AARCH64_ABS64, R_AARCH64_GLOB_DAT,
      R_AARCH64_JUMP_SLOT, R_AARCH64_PREL32, R_AARCH64_PREL64, R_AARCH64_IRELATIVE, 1 },
};

Test(arch_apply, relative_is_base_plus_addend)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        uint64_t B = 0x7f1234560000ull, S = 0xdeadbeefull, P = 0x7f1234561000ull;
        struct applied r = apply(t->a, t->relative, S, 0x1238, B, P);
        expect_stored(&r, 8, B + 0x1238, "RELATIVE");
        r = apply(t->a, t->relative, 0, -0x10, B, P);
        expect_stored(&r, 8, B - 0x10, "RELATIVE, negative addend");
    }
}

Test(arch_apply, abs64_is_symbol_plus_addend)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        uint64_t S = 0x55550000abcdull, B = 0x1000, P = 0x2000;
        struct applied r = apply(t->a, t->abs64, S, 24, B, P);
        expect_stored(&r, 8, S + 24, "ABS64");
        r = apply(t->a, t->abs64, S, -8, B, P);
        expect_stored(&r, 8, S - 8, "ABS64, negative addend");
        r = apply(t->a, t->abs64, 0, 0, B, P);       /* an unresolved weak symbol */
        expect_stored(&r, 8, 0, "ABS64, weak zero");
    }
}

Test(arch_apply, got_entries)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        uint64_t S = 0x7ffff7a01230ull;
        uint64_t want = t->got_adds_addend ? S + 16 : S;
        struct applied r = apply(t->a, t->glob_dat, S, 16, 0x1000, 0x2000);
        expect_stored(&r, 8, want, "GLOB_DAT");
        r = apply(t->a, t->jump_slot, S, 16, 0x1000, 0x2000);
        expect_stored(&r, 8, want, "JUMP_SLOT");
        r = apply(t->a, t->glob_dat, S, 0, 0x1000, 0x2000);
        expect_stored(&r, 8, S, "GLOB_DAT, no addend");
    }
}

Test(arch_apply, prel32_and_overflow)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        uint64_t P = 0x7f0000400000ull;
        struct applied r = apply(t->a, t->prel32, P + 0x1000, -4, 0, P);
        expect_stored(&r, 4, 0x1000 - 4, "PREL32 forward");
        r = apply(t->a, t->prel32, P - 0x100, -4, 0, P);
        expect_stored(&r, 4, (uint32_t)(int32_t)(-0x104), "PREL32 backward");
        r = apply(t->a, t->prel32, P + INT32_MAX, 0, 0, P);
        expect_stored(&r, 4, (uint32_t)INT32_MAX, "PREL32 at +2 GiB - 1");
        r = apply(t->a, t->prel32, P - 0x80000000ull, 0, 0, P);
        expect_stored(&r, 4, 0x80000000u, "PREL32 at -2 GiB");
        r = apply(t->a, t->prel32, P + 0x80000000ull, 0, 0, P);
        expect_refused(&r, "PREL32 at +2 GiB (overflow)");
        r = apply(t->a, t->prel32, P - 0x80000001ull, 0, 0, P);
        expect_refused(&r, "PREL32 below -2 GiB (overflow)");
        r = apply(t->a, t->prel32, P + 0x100000000ull, 0, 0, P);
        expect_refused(&r, "PREL32 4 GiB away (overflow)");
    }
}

Test(arch_apply, prel64)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        uint64_t P = 0x7f0000400000ull;
        struct applied r = apply(t->a, t->prel64, 0x1000, 8, 0, P);
        expect_stored(&r, 8, 0x1000 + 8 - P, "PREL64 backward (far)");
        r = apply(t->a, t->prel64, P + 0x300000000ull, -2, 0, P);
        expect_stored(&r, 8, 0x300000000ull - 2, "PREL64 forward, beyond 32 bits");
    }
}

Test(arch_apply, irelative_stores_the_resolver_result)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        struct applied r = apply(t->a, t->irelative, 0x7f00deadbee0ull, 0x40, 0x7f0000000000ull, 0);
        expect_stored(&r, 8, 0x7f00deadbee0ull, "IRELATIVE");
    }
}

Test(arch_apply, none_stores_nothing)
{
    for (size_t k = 0; k < 2; k++) {
        const struct arch_types *t = &rows[k];
        struct applied r = apply(t->a, t->none, 1, 2, 3, 4);
        expect_refused(&r, "NONE");
    }
}

/* Every entry of both tables, whatever it is: a type the loader applies stores exactly what its
 * formula gives (checked against the formula computed here); any other type (NONE, COPY, TLS, and
 * the types a shared object must not contain) stores nothing and reports it. */
Test(arch_apply, every_type_of_both_tables)
{
    /* S within 2 GiB of P, so that the 32-bit PC-relative types fit */
    const uint64_t S = 0x7f0012345678ull, B = 0x7f0000000000ull, P = 0x7f0000001000ull;
    const int64_t A = 0x40;
    size_t applied = 0;
    for (size_t k = 0; k < 2; k++) {
        const struct arch *a = all_arches[k];
        for (size_t i = 0; i < a->ntypes; i++) {
            const struct reloc_type *rt = &a->types[i];
            struct applied r = apply(a, rt->type, S, A, B, P);
            uint64_t want;
            switch (rt->kind) {
            case RK_RELATIVE:  want = B + (uint64_t)A; break;
            case RK_IRELATIVE: want = S; break;
            case RK_SYMBOLIC:
            case RK_GLOB_DAT:
            case RK_JUMP_SLOT:
                want = rt->calc == RC_S ? S
                     : rt->calc == RC_S_A ? S + (uint64_t)A
                     : S + (uint64_t)A - P;
                cr_assert(rt->calc == RC_S || rt->calc == RC_S_A || rt->calc == RC_S_A_P,
                          "%s: calc %d needs no symbol", rt->name, rt->calc);
                break;
            default:
                expect_refused(&r, rt->name);
                continue;
            }
            cr_assert(rt->width == 8 || rt->width == 4, "%s: width %u", rt->name, rt->width);
            expect_stored(&r, rt->width, want, rt->name);
            applied++;
        }
    }
    cr_assert_geq(applied, 2 * 6, "only %zu types applied", applied);
}

/* What each architecture refuses: COPY (executables only), TLS (not supported yet), and the
 * absolute/PC-relative types narrower than a pointer, which only non-PIC code (text relocations)
 * produces in a shared object. */
Test(arch, refused_types)
{
    const struct expect ex[] = {
        { &arch_aarch64, R_AARCH64_COPY, RK_COPY, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_ABS32, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_ABS16, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_PREL16, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_aarch64, R_AARCH64_TLS_DTPMOD, RK_TLS, RC_NONE, 8 },
        { &arch_aarch64, R_AARCH64_TLS_DTPREL, RK_TLS, RC_NONE, 8 },
        { &arch_aarch64, R_AARCH64_TLS_TPREL, RK_TLS, RC_NONE, 8 },
        { &arch_x86_64, R_X86_64_COPY, RK_COPY, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_32, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_32S, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_PC16, RK_UNSUPPORTED, RC_NONE, 0 },
        { &arch_x86_64, R_X86_64_TLSDESC, RK_TLS, RC_NONE, 16 },
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        const struct reloc_type *rt = arch_reloc_type(ex[i].a, ex[i].type);
        cr_assert_not_null(rt, "%s: type %u missing", ex[i].a->name, ex[i].type);
        cr_assert_eq(rt->kind, ex[i].kind, "%s: kind %d, want %d", rt->name, rt->kind, ex[i].kind);
        struct applied r = apply(ex[i].a, ex[i].type, 0x1000, 0, 0x2000, 0x3000);
        expect_refused(&r, rt->name);
    }
}

/* ---- the native architecture's IFUNC call and instruction-cache flush ---- */

static struct {
    int calls;
    uint64_t a0;
    const unsigned long *a1;
    unsigned long a1_copy[3];
} seen;

static int ifunc_target(void)
{
    return 4242;
}

#if defined(__aarch64__)
/* As glibc calls it on aarch64: (AT_HWCAP | _IFUNC_ARG_HWCAP, &__ifunc_arg_t). */
static void *test_resolver(uint64_t hwcap, const unsigned long *arg)
{
    seen.calls++;
    seen.a0 = hwcap;
    seen.a1 = arg;
    if (hwcap & (1ULL << 62))
        memcpy(seen.a1_copy, arg, sizeof seen.a1_copy);
    return (void *)ifunc_target;
}
#else
static void *test_resolver(void)            /* x86-64: no arguments */
{
    seen.calls++;
    return (void *)ifunc_target;
}
#endif

Test(arch, native_ifunc_call_passes_what_the_platform_passes)
{
    uint64_t got = arch_native()->call_ifunc((uint64_t)(uintptr_t)test_resolver);
    cr_assert_eq(seen.calls, 1);
    cr_assert_eq(got, (uint64_t)(uintptr_t)ifunc_target, "call_ifunc returned %#llx",
                 (unsigned long long)got);
    cr_assert_eq(((int (*)(void))(uintptr_t)got)(), 4242);
#if defined(__aarch64__)
    cr_assert(seen.a0 & (1ULL << 62), "first argument %#llx lacks _IFUNC_ARG_HWCAP",
              (unsigned long long)seen.a0);
    cr_assert_eq(seen.a0 & ~(1ULL << 62), getauxval(AT_HWCAP));
    cr_assert_not_null(seen.a1);
    cr_assert_geq(seen.a1_copy[0], 3 * sizeof(unsigned long), "_size %lu", seen.a1_copy[0]);
    cr_assert_eq(seen.a1_copy[1], getauxval(AT_HWCAP));
    cr_assert_eq(seen.a1_copy[2], getauxval(AT_HWCAP2));
#endif
}

/* Machine code for "return imm" on this CPU, into code[] (at most 8 bytes); its length. */
static size_t return_imm(unsigned char *code, uint16_t imm)
{
#if defined(__x86_64__)
    unsigned char c[] = { 0xb8, (unsigned char)imm, (unsigned char)(imm >> 8), 0, 0,   /* mov eax */
                          0xc3 };                                                     /* ret */
    memcpy(code, c, sizeof c);
    return sizeof c;
#else
    uint32_t c[] = { 0x52800000u | ((uint32_t)imm << 5),    /* movz w0, #imm */
                     0xd65f03c0u };                          /* ret */
    memcpy(code, c, sizeof c);
    return sizeof c;
#endif
}

/* Code written as data, flushed with the native flush_icache, then run; then rewritten in place
 * and run again: the new instructions must be the ones that execute. */
Test(arch, native_icache_flush_makes_written_code_run)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    const uint16_t values[] = { 17, 4711 };
    for (size_t i = 0; i < 2; i++) {
        if (i)
            cr_assert_eq(mprotect(mem, page, PROT_READ | PROT_WRITE), 0);
        size_t n = return_imm(mem, values[i]);
        arch_native()->flush_icache(mem, n);
        cr_assert_eq(mprotect(mem, page, PROT_READ | PROT_EXEC), 0);
        int (*fn)(void) = (int (*)(void))(uintptr_t)mem;
        cr_assert_eq(fn(), values[i], "round %zu: returned %d", i, fn());
    }
    munmap(mem, page);
}
