/*
 * test_origin.c — a dependency found through DT_RUNPATH $ORIGIN (fixtures/origin/).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(origin, fixture_needs_sibling_through_origin)
{
    const char *path = fixture("origin/origin_plugin.so");
    int found = 0;
    for (int i = 0; i < 8; i++) {
        char *needed = file_dyn_string(path, DT_NEEDED, i);
        if (!needed)
            break;
        found |= strcmp(needed, "libsib.so") == 0;
        free(needed);
    }
    cr_assert(found, "origin_plugin.so does not need libsib.so");
    char *runpath = file_dyn_string(path, DT_RUNPATH, 0);
    cr_assert_not_null(runpath, "no DT_RUNPATH");
    cr_assert_str_eq(runpath, "$ORIGIN");
    cr_assert_neq(access("/usr/lib/" NATIVE_MULTIARCH "/libsib.so", F_OK), 0);
    cr_assert_neq(access("/lib/" NATIVE_MULTIARCH "/libsib.so", F_OK), 0);
    cr_assert_neq(access("/lib/libsib.so", F_OK), 0);
}

Test(origin, sibling_loaded_and_initialized_first)
{
    cr_assert_eq(chdir("/"), 0);        /* the current directory must play no part */
    plugin *p = open_fixture("origin/origin_plugin.so");
    const char *(*order)(void) = (const char *(*)(void))must_lookup(p, "origin_order");
    int (*value)(int) = (int (*)(int))must_lookup(p, "origin_value");
    cr_assert_str_eq(order(), "SP", "initializer order %s: want the sibling's (S) first",
                     order());
    cr_assert_eq(value(4), 13);

    /* The sibling is an object of its own (its symbols are not the plugin's exports)... */
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "sib_value", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);

    /* ...and opening it by path returns that same object: not loaded, not initialized again. */
    plugin *s = open_fixture("origin/libsib.so");
    cr_assert_neq(s, p);
    cr_assert_eq(must_lookup(s, "sib_order"), (void *)order());
    cr_assert_str_eq(order(), "SP");
}
