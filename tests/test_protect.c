/*
 * test_protect.c — memory protections after loading: never writable and executable at once;
 * RELRO made read-only.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <signal.h>
#include <string.h>

Test(protect, no_mapping_is_writable_and_executable)
{
    char line[256];
    cr_assert_eq(count_wx_mappings(line), 0, "before loading: %s", line);
    const char *names[] = { "basic.so", "relr.so", "libc_user.so", "initorder.so", "relro.so",
                            "counter.so", "weak.so", "origin/origin_plugin.so" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        open_fixture(names[i]);
    size_t size;
    char *image = read_file(fixture("basic.so"), &size);
    cr_assert_not_null(plugin_open_memory(image, size, "basic-from-memory", NULL, NULL));
    cr_assert_eq(count_wx_mappings(line), 0, "writable and executable: %s", line);
}

/* relro_table is a const array of pointers: relocated by the loader, then read-only. */
Test(protect, relro_is_read_only)
{
    const char *path = fixture("relro.so");
    uint64_t relro_start, relro_size, table;
    cr_assert(file_phdr(path, PT_GNU_RELRO, &relro_start, &relro_size), "no PT_GNU_RELRO");
    cr_assert(file_symbol_value(path, "relro_table", 1, &table));
    cr_assert(table >= relro_start && table + 16 <= relro_start + relro_size,
              "relro_table is not inside PT_GNU_RELRO");

    plugin *p = open_fixture("relro.so");
    void *const *t = must_lookup(p, "relro_table");
    cr_assert_eq(t[0], must_lookup(p, "relro_f"));
    cr_assert_eq(t[1], must_lookup(p, "relro_g"));
    cr_assert_eq(((int (*)(int))must_lookup(p, "relro_call"))(0), 1);

    char perms[5];
    cr_assert_eq(maps_perms_of(t, perms), 0);
    cr_assert_eq(perms[0], 'r');
    cr_assert_neq(perms[1], 'w', "relocated RELRO data still writable (%s)", perms);
    cr_assert_neq(perms[2], 'x', "RELRO data executable (%s)", perms);
}

Test(protect, writing_relro_faults, .signal = SIGSEGV)
{
    plugin *p = open_fixture("relro.so");
    void *volatile *t = must_lookup(p, "relro_table");
    t[0] = NULL;
}
