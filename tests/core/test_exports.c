/*
 * test_exports.c — plugin_lookup's table (core/exports.h) on its own: names of every length the
 * word-at-a-time hash and comparison treat differently (0..3, 4..7, 8, 9..16, 17 and more), names
 * that differ only in their last byte or only in length, a name added twice, and a table filled to
 * its capacity. A table built over the bytes of real objects is checked in test_elf_reader.c.
 */
#include "core/exports.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

enum { NAMES = 200 };

/* Name k: a shared prefix cut to length k % 41, then a byte that makes it unique. */
static void spell(char *buf, size_t size, int k)
{
    static const char prefix[] = "EVP_PKEY_CTX_set_rsa_keygen_pubexp_name_";
    int len = k % 41;
    snprintf(buf, size, "%.*s%c%c", len, prefix, 'a' + k / 41, 'A' + k % 26);
}

Test(exports, every_length_found_and_near_misses_missing)
{
    static char names[NAMES][64];
    struct export_table *t = exports_new(NAMES);
    cr_assert_not_null(t);
    for (int k = 0; k < NAMES; k++) {
        spell(names[k], sizeof names[k], k);
        cr_assert(exports_add(t, names[k], (uintptr_t)(0x1000 + k), k % 7 == 0), "add %s", names[k]);
    }
    for (int k = 0; k < NAMES; k++) {
        uintptr_t addr = 0;
        enum export_answer a = exports_find(t, names[k], &addr);
        cr_assert_eq(a, k % 7 == 0 ? EXPORT_ASK : EXPORT_ADDRESS, "%s: answer %d", names[k], (int)a);
        cr_assert_eq(addr, (uintptr_t)(0x1000 + k), "%s: address %#lx", names[k], (unsigned long)addr);

        char near[80];
        size_t n = strlen(names[k]);
        memcpy(near, names[k], n + 1);
        near[n - 1] ^= 0x20;                                /* the last byte differs */
        cr_assert_eq(exports_find(t, near, &addr), EXPORT_MISSING, "%s found as %s", near, names[k]);
        near[n - 1] ^= 0x20;
        near[n - 1] = '\0';                                 /* one byte shorter: found only as itself */
        if (exports_find(t, near, &addr) != EXPORT_MISSING) {
            cr_assert(addr >= 0x1000 && addr < 0x1000 + NAMES, "%s: address %#lx", near, (unsigned long)addr);
            cr_assert_str_eq(names[addr - 0x1000], near, "%s found as %s", near, names[addr - 0x1000]);
        }
        memcpy(near, names[k], n);                          /* one byte longer */
        near[n] = 'z', near[n + 1] = '\0';
        cr_assert_eq(exports_find(t, near, &addr), EXPORT_MISSING, "%s found as %s", near, names[k]);
    }
    uintptr_t addr;
    cr_expect_eq(exports_find(t, "", &addr), EXPORT_MISSING, "the empty name");
    exports_free(t);
}

/* The first answer for a name stands; a full table refuses more names (the caller then builds none). */
Test(exports, first_answer_stands_and_capacity_holds)
{
    struct export_table *t = exports_new(2);
    cr_assert_not_null(t);
    cr_assert(exports_add(t, "deflate", 1, false));
    cr_assert(exports_add(t, "deflate", 2, true), "a second definition of a name is not an error");
    uintptr_t addr = 0;
    cr_assert_eq(exports_find(t, "deflate", &addr), EXPORT_ADDRESS);
    cr_assert_eq(addr, 1, "the second definition replaced the first");
    cr_assert(exports_add(t, "inflate", 3, false));
    cr_assert_not(exports_add(t, "crc32", 4, false), "a third name fit in a table for two");
    cr_assert_eq(exports_find(t, "crc32", &addr), EXPORT_MISSING);
    exports_free(t);
}
