/*
 * test_relr.c — a plugin whose relative relocations are packed with DT_RELR
 * (fixtures/relr.c, linked with -Wl,-z,pack-relative-relocs).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <string.h>

#ifndef DT_RELR
#define DT_RELR 36
#define DT_RELRSZ 35
#endif

/* The test means something only if the linker really packed the relocations. */
Test(relr, fixture_uses_dt_relr)
{
    const char *path = fixture("relr.so");
    uint64_t v;
    cr_assert(file_dyn_tag(path, DT_RELR, &v), "relr.so has no DT_RELR (linker too old?)");
    cr_assert(file_dyn_tag(path, DT_RELRSZ, &v));
    cr_assert_geq(v, 4 * 8, "DT_RELRSZ only %llu", (unsigned long long)v);
    /* No relative relocation left in DT_RELA: RELR carries them all. */
    if (file_dyn_tag(path, DT_RELACOUNT, &v))
        cr_assert_eq(v, 0, "%llu RELATIVE relocations still in DT_RELA", (unsigned long long)v);
}

Test(relr, pointer_tables_are_relocated)
{
    plugin *p = open_fixture("relr.so");

    int (*check)(void) = (int (*)(void))must_lookup(p, "relr_check");
    cr_assert_eq(check(), 0, "%d table entries differ from the addresses the code computes",
                 check());

    /* Pointers to functions. */
    int (**ops)(int) = must_lookup(p, "ops");
    int (*call)(int, int) = (int (*)(int, int))must_lookup(p, "relr_call");
    cr_assert_eq(ops[0](5), 6);
    cr_assert_eq(ops[1](5), 10);
    cr_assert_eq(ops[2](5), -5);
    cr_assert_eq(ops[3](5), 25);
    for (int i = 0; i < 4; i++) {
        char perms[5];
        cr_assert_eq(maps_perms_of((void *)ops[i], perms), 0);
        cr_assert_eq(perms[2], 'x', "ops[%d] points into %s memory", i, perms);
        cr_assert_eq(call(i, 7), ops[i](7));
    }

    /* Pointers to strings, through a pointer to the (static) table. */
    const char *const *names = *(const char *const **)must_lookup(p, "names");
    const char *want[] = { "add", "dbl", "neg", "sq" };
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(names[i], want[i]);

    /* Pointers to data. */
    int *(*base_fn)(void) = (int *(*)(void))must_lookup(p, "data_base");
    int *base = base_fn();
    int **data_ptrs = must_lookup(p, "data_ptrs");
    int n = *(int *)must_lookup(p, "data_ptrs_len");
    cr_assert_geq(n, 64);
    cr_assert_eq(data_ptrs[0], base);
    cr_assert_eq(data_ptrs[4], base + 5);
    cr_assert_eq(data_ptrs[10], base + 63);
    cr_assert_eq(data_ptrs[n - 1], base + 60);
    for (int i = 11; i < n; i++)
        cr_assert_eq(data_ptrs[i], base + (i - 11), "data_ptrs[%d]", i);

    /* Far-apart pointers (each needs its own RELR address word). */
    struct spaced { void *p; long gap[100]; } *spread = must_lookup(p, "spread");
    cr_assert_eq(spread[0].p, (void *)(base + 7));
    cr_assert_eq(spread[1].p, (void *)ops[3]);
    cr_assert_eq(spread[2].p, (void *)names);
}
