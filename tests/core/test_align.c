/*
 * test_align.c — segment alignment: an object linked for 64 KiB pages (fixtures/page64k.c)
 * loads and runs on this kernel (4 KiB pages here and under qemu-user), at a 64 KiB-aligned
 * address; an object whose segments are aligned below the page size is refused.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIXTY_FOUR_K 0x10000u

Test(align, fixture_is_aligned_for_64k_pages)
{
    cr_assert_eq(file_load_align(fixture("page64k.so")), SIXTY_FOUR_K,
                 "page64k.so: PT_LOAD alignment %#llx, want 0x10000",
                 (unsigned long long)file_load_align(fixture("page64k.so")));
}

Test(align, loads_and_runs_at_a_64k_aligned_address)
{
    const char *path = fixture("page64k.so");
    plugin *p = open_fixture("page64k.so");
    int (*sum)(void) = (int (*)(void))must_lookup(p, "page64k_sum");
    const char *(*greeting)(void) = (const char *(*)(void))must_lookup(p, "page64k_greeting");

    /* The load bias: where the symbol is, minus where the file says it is. */
    uint64_t value;
    cr_assert(file_symbol_value(path, "page64k_sum", 1, &value));
    uintptr_t bias = (uintptr_t)sum - (uintptr_t)value;
    cr_assert_eq(bias % SIXTY_FOUR_K, 0, "load bias %#lx is not a multiple of 64 KiB",
                 (unsigned long)bias);
    cr_assert_eq(bias % (uintptr_t)sysconf(_SC_PAGESIZE), 0);

    cr_assert_str_eq(greeting(), "hello from a 64 KiB-aligned plugin");
    cr_assert_eq(sum(), 100 + 2);
    cr_assert_eq(sum(), 100 + 4);
    char *bss = must_lookup(p, "page64k_bss");
    cr_assert_eq(bss[1], 0);
    cr_assert_eq(bss[3 * 65536 - 2], 0);
    cr_assert_eq(bss[3 * 65536 - 1], 2);

    char perms[5];
    cr_assert_eq(maps_perms_of((void *)sum, perms), 0);
    cr_assert_str_eq(perms, "r-xp");
    cr_assert_eq(maps_perms_of(bss + 3 * 65536 - 1, perms), 0);
    cr_assert_str_eq(perms, "rw-p");
}

/* Every PT_LOAD of basic.so with p_align 0x100 (vaddr and offset stay congruent modulo the
 * page size): a segment aligned below the page size cannot be mapped as the file says. */
static void align_below_page(char *buf, size_t size)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    cr_assert_leq(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size);
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            ph[i].p_align = 0x100;
}

Test(align, segments_aligned_below_the_page_size_are_refused)
{
    size_t size;
    char *buf = read_file(fixture("basic.so"), &size);
    align_below_page(buf, size);
    char *path;
    cr_assert_geq(asprintf(&path, "%s/align256.so", make_temp_dir()), 0);
    write_file(path, buf, size);
    plugin_error err;
    cr_assert_null(plugin_open(path, &err), "an object aligned to 0x100 was loaded");
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, path), "message: %s", err.message);
    cr_assert_not_null(strstr(err.message, "0x100"), "message does not name the alignment: %s",
                       err.message);
    cr_assert_null(plugin_open_memory(buf, size, "align256.so", NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
    free(buf);
}
