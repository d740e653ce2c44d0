/*
 * test_ifunc.c — GNU indirect functions (fixtures/ifunc.c): resolvers called the way the
 * platform's ld.so calls them (aarch64: resolver(AT_HWCAP | 1 << 62, &__ifunc_arg_t); x86-64:
 * no arguments), once per use, and what they pick is what the callers get — through IRELATIVE
 * relocations, through relocations against an exported IFUNC symbol, and through plugin_lookup.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#if defined(__x86_64__)
#define R_IRELATIVE R_X86_64_IRELATIVE
#else
#define R_IRELATIVE R_AARCH64_IRELATIVE
#endif

struct ifunc_record {           /* as in fixtures/ifunc.c */
    int sum_calls, scale_calls;
    int sum_choice, scale_choice;
    int args_given;
    uint64_t hwcap;
    uint64_t arg_size, arg_hwcap, arg_hwcap2;
};

typedef long sum_fn(const int *, long);
typedef int scale_fn(int);

/* What the fixture's resolvers should pick on this CPU: 2 (the variant for the CPU feature) or
 * 1 (generic). Computed here, in the test process, independently of the resolvers. */
static int expected_choice(void)
{
#if defined(__aarch64__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? 2 : 1;
#else
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 2 : 1;
#endif
}

/* The test means something only if the linker produced both kinds of IFUNC use. */
Test(ifunc, fixture_has_an_exported_ifunc_and_irelative_relocations)
{
    const char *path = fixture("ifunc.so");
    cr_assert_eq(file_symbol_type(path, "ifunc_sum", 1), STT_GNU_IFUNC,
                 "ifunc_sum is not an exported STT_GNU_IFUNC");
    cr_assert_geq(file_relocs_against(path, "ifunc_sum"), 1, "nothing in ifunc.so uses ifunc_sum");
    cr_assert_geq(file_reloc_count(path, R_IRELATIVE), 2, "fewer than 2 IRELATIVE relocations");
    cr_assert_eq(file_symbol_type(path, "scale", 1), -1, "scale should be static");
}

Test(ifunc, resolvers_run_once_per_use)
{
    const char *path = fixture("ifunc.so");
    long irelative = file_reloc_count(path, R_IRELATIVE);
    long sum_uses = file_relocs_against(path, "ifunc_sum");
    plugin *p = open_fixture("ifunc.so");
    const struct ifunc_record *rec = must_lookup(p, "ifunc_record");
    /* Every IRELATIVE relocation in this object calls resolve_scale; every relocation against
     * ifunc_sum calls resolve_sum. */
    cr_assert_eq(rec->scale_calls, irelative, "resolve_scale ran %d times for %ld IRELATIVE",
                 rec->scale_calls, irelative);
    cr_assert_eq(rec->sum_calls, sum_uses, "resolve_sum ran %d times for %ld relocations",
                 rec->sum_calls, sum_uses);

    /* Each lookup of the exported IFUNC asks its resolver, as dlsym does. */
    must_lookup(p, "ifunc_sum");
    cr_assert_eq(rec->sum_calls, sum_uses + 1);
    must_lookup(p, "ifunc_sum");
    cr_assert_eq(rec->sum_calls, sum_uses + 2);
    /* Other symbols do not, and neither does opening the loaded object again. */
    must_lookup(p, "ifunc_scale");
    cr_assert_eq(open_fixture("ifunc.so"), p);
    cr_assert_eq(rec->sum_calls, sum_uses + 2);
    cr_assert_eq(rec->scale_calls, irelative);
}

Test(ifunc, callers_get_the_chosen_implementation)
{
    plugin *p = open_fixture("ifunc.so");
    const struct ifunc_record *rec = must_lookup(p, "ifunc_record");
    int want = expected_choice();
    cr_assert_eq(rec->sum_choice, want, "resolve_sum picked %d, this CPU wants %d",
                 rec->sum_choice, want);
    cr_assert_eq(rec->scale_choice, want);

    /* plugin_lookup of an IFUNC returns the implementation, not the resolver. */
    sum_fn *sum = (sum_fn *)must_lookup(p, "ifunc_sum");
    sum_fn *chosen = (sum_fn *)must_lookup(p, want == 2 ? "ifunc_sum_fast" : "ifunc_sum_generic");
    cr_assert_eq(sum, chosen, "plugin_lookup(ifunc_sum) = %p, the chosen implementation is %p",
                 (void *)sum, (void *)chosen);
    const int v[] = { 1, 2, 3, 4, 5, 6, 7 };
    cr_assert_eq(sum(v, 7), 28);
    cr_assert_eq(sum(v, 6), 21);
    sum_fn *twice = (sum_fn *)must_lookup(p, "ifunc_sum_twice");      /* through the PLT */
    cr_assert_eq(twice(v, 7), 56);

    /* The static IFUNC, through the IRELATIVE-filled PLT slot and the IRELATIVE-filled pointer. */
    scale_fn *scale = (scale_fn *)must_lookup(p, "ifunc_scale");
    cr_assert_eq(scale(7), 21);
    cr_assert_eq(scale(-5), -15);
    scale_fn *const *ptr = must_lookup(p, "ifunc_scale_ptr");
    scale_fn *scale_chosen =
        (scale_fn *)must_lookup(p, want == 2 ? "ifunc_scale_fast" : "ifunc_scale_generic");
    cr_assert_eq(*ptr, scale_chosen, "ifunc_scale_ptr = %p, want %p", (void *)*ptr,
                 (void *)scale_chosen);
    cr_assert_eq((*ptr)(11), 33);
}

/* aarch64: glibc passes AT_HWCAP | _IFUNC_ARG_HWCAP and a pointer to __ifunc_arg_t; the fixture
 * records both. x86-64 resolvers get no arguments and ask the CPU themselves: the same property
 * (the resolver sees this CPU's features) shows in its choice. */
Test(ifunc, resolvers_see_this_cpu)
{
    plugin *p = open_fixture("ifunc.so");
    const struct ifunc_record *rec = must_lookup(p, "ifunc_record");
    int calls = rec->sum_calls + rec->scale_calls;
    cr_assert_gt(calls, 0);
#if defined(__aarch64__)
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    cr_assert_eq(rec->args_given, calls, "%d of %d resolver calls had bit 62 (_IFUNC_ARG_HWCAP)",
                 rec->args_given, calls);
    cr_assert(rec->hwcap & (1ULL << 62), "first argument %#llx lacks _IFUNC_ARG_HWCAP",
              (unsigned long long)rec->hwcap);
    cr_assert_eq(rec->hwcap & ~(1ULL << 62), hwcap, "first argument %#llx, AT_HWCAP %#lx",
                 (unsigned long long)rec->hwcap, hwcap);
    cr_assert_geq(rec->arg_size, 3 * sizeof(unsigned long), "__ifunc_arg_t._size = %llu",
                  (unsigned long long)rec->arg_size);
    cr_assert_eq(rec->arg_hwcap, hwcap, "_hwcap %#llx, AT_HWCAP %#lx",
                 (unsigned long long)rec->arg_hwcap, hwcap);
    cr_assert_eq(rec->arg_hwcap2, hwcap2, "_hwcap2 %#llx, AT_HWCAP2 %#lx",
                 (unsigned long long)rec->arg_hwcap2, hwcap2);
#else
    cr_assert_eq(rec->args_given, 0);
#endif
    cr_assert_eq(rec->sum_choice, expected_choice());
}

/* A memory image is a separate copy: its resolvers run again, for its own relocations, in code
 * that was copied (and made visible to instruction fetch) before it ran. */
Test(ifunc, memory_image_runs_its_own_resolvers)
{
    const char *path = fixture("ifunc.so");
    size_t size;
    char *image = read_file(path, &size);
    plugin *file = open_fixture("ifunc.so");
    plugin_error err;
    plugin *mem = plugin_open_memory(image, size, "ifunc-image.so", NULL, &err);
    cr_assert_not_null(mem, "%s", err.message);
    free(image);
    cr_assert_neq(mem, file);
    const struct ifunc_record *rf = must_lookup(file, "ifunc_record");
    const struct ifunc_record *rm = must_lookup(mem, "ifunc_record");
    cr_assert_neq(rm, rf);
    cr_assert_eq(rm->scale_calls, file_reloc_count(path, R_IRELATIVE));
    cr_assert_eq(rm->sum_calls, file_relocs_against(path, "ifunc_sum"));
    sum_fn *sum = (sum_fn *)must_lookup(mem, "ifunc_sum");
    const int v[] = { 10, 20, 30 };
    cr_assert_eq(sum(v, 3), 60);
    cr_assert_eq(((scale_fn *)must_lookup(mem, "ifunc_scale"))(4), 12);
    cr_assert_eq(sum, (sum_fn *)must_lookup(mem, rm->sum_choice == 2 ? "ifunc_sum_fast"
                                                                     : "ifunc_sum_generic"));
}
