/*
 * test_protect.c — memory protections after loading: never writable and executable at once;
 * RELRO made read-only.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

Test(protect, no_mapping_is_writable_and_executable)
{
    char line[256];
    cr_assert_eq(count_wx_mappings(line), 0, "before loading: %s", line);
    const char *names[] = { "basic.so", "relr.so", "libc_user.so", "initorder.so", "relro.so",
                            "counter.so", "weak.so", "origin/origin_plugin.so", "ifunc.so",
                            "page64k.so" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        open_fixture(names[i]);
    size_t size;
    char *image = read_file(fixture("basic.so"), &size);
    cr_assert_not_null(plugin_open_memory(image, size, "basic-from-memory", NULL, NULL));
    cr_assert_eq(count_wx_mappings(line), 0, "writable and executable: %s", line);
}

/* relro_table is a const array of pointers: relocated by the loader, then read-only. */
static void expect_relro_read_only(const char *name)
{
    const char *path = fixture(name);
    uint64_t relro_start, relro_size, table;
    cr_assert(file_phdr(path, PT_GNU_RELRO, &relro_start, &relro_size), "%s: no PT_GNU_RELRO", name);
    cr_assert(file_symbol_value(path, "relro_table", 1, &table));
    cr_assert(table >= relro_start && table + 16 <= relro_start + relro_size,
              "%s: relro_table is not inside PT_GNU_RELRO", name);

    plugin *p = open_fixture(name);
    void *const *t = must_lookup(p, "relro_table");
    cr_assert_eq(t[0], must_lookup(p, "relro_f"));
    cr_assert_eq(t[1], must_lookup(p, "relro_g"));
    cr_assert_eq(((int (*)(int))must_lookup(p, "relro_call"))(0), 1);

    char perms[5];
    cr_assert_eq(maps_perms_of(t, perms), 0);
    cr_assert_eq(perms[0], 'r');
    cr_assert_neq(perms[1], 'w', "%s: relocated RELRO data still writable (%s)", name, perms);
    cr_assert_neq(perms[2], 'x', "%s: RELRO data executable (%s)", name, perms);
}

Test(protect, relro_is_read_only)
{
    expect_relro_read_only("relro.so");
}

/* lld ends PT_GNU_RELRO at a page boundary: its p_memsz runs past the p_memsz of the PT_LOAD
 * that holds it, over the rest of that segment's last page (glibc's ld.so protects whole pages
 * from start to end, rounded down). Such objects must load, with their RELRO read-only. */
Test(protect, relro_padded_to_the_page_by_lld)
{
    const char *path = fixture("relro_lld.so");
    uint64_t relro_start, relro_size, seg_vaddr, seg_memsz;
    cr_assert(file_phdr(path, PT_GNU_RELRO, &relro_start, &relro_size), "no PT_GNU_RELRO");
    cr_assert(file_load_containing(path, relro_start, &seg_vaddr, &seg_memsz),
              "PT_GNU_RELRO starts outside every PT_LOAD");
    cr_assert_gt(relro_start + relro_size, seg_vaddr + seg_memsz,
                 "the fixture does not show lld's layout: RELRO ends at %#llx, its PT_LOAD at %#llx",
                 (unsigned long long)(relro_start + relro_size),
                 (unsigned long long)(seg_vaddr + seg_memsz));
    cr_assert_eq((relro_start + relro_size) % 4096, 0, "RELRO does not end on a page boundary");
    expect_relro_read_only("relro_lld.so");
}

Test(protect, writing_relro_faults, .signal = SIGSEGV)
{
    plugin *p = open_fixture("relro.so");
    void *volatile *t = must_lookup(p, "relro_table");
    /* qemu-user reports the guest's fatal signal on the guest's fd 2 ("uncaught target signal"). */
    dup2(open("/dev/null", O_WRONLY), 2);
    t[0] = NULL;
}

/* Pages relocation is about to write are populated at once when there are many (vm_prefault),
 * and a large relocation table is mapped before it is read (vm_prefetch): libcrypto's RELRO
 * (about 100 pages) and DT_RELA are, the small fixture's (one page) are not, and the large
 * object still works. A copy of the file, so that this loader maps it (the test binary may have
 * libcrypto already). */
struct populated { int lines, ahead; };
static void count_populated(void *ctx, const struct plugin_trace_event *ev)
{
    const char *line = ev->text;
    if (strstr(line, "populated for relocation"))
        ((struct populated *)ctx)->lines++;
    if (strstr(line, "DT_RELA") && strstr(line, "mapped ahead"))
        ((struct populated *)ctx)->ahead++;
}

Test(protect, many_relocated_pages_are_populated_at_once)
{
    char *dir = make_temp_dir(), path[4200];
    snprintf(path, sizeof path, "%s/libcrypto-copy.so.3", dir);
    size_t size;
    char *bytes = read_file("/usr/lib/" NATIVE_MULTIARCH "/libcrypto.so.3", &size);
    write_file(path, bytes, size);
    free(bytes);

    struct populated big = { 0 }, small = { 0 };
    struct plugin_options opts = { .trace = count_populated, .trace_ctx = &big };
    plugin_error err;
    plugin *p = plugin_open_with(path, &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_expect_geq(big.lines, 1, "libcrypto's RELRO was not populated at once");
    cr_expect_eq(big.ahead, 1, "libcrypto's DT_RELA (400 KiB) was not mapped ahead of binding");
    unsigned long (*version)(void) = (unsigned long (*)(void))plugin_lookup(p, "OpenSSL_version_num", &err);
    cr_assert_not_null(version, "%s", err.message);
    cr_expect_geq(version() >> 28, 3, "OpenSSL_version_num() = %#lx", version());

    opts.trace_ctx = &small;
    cr_assert_not_null(plugin_open_with(fixture("relro.so"), &opts, &err), "%s", err.message);
    cr_expect_eq(small.lines, 0, "a one-page RELRO was populated (a system call for one fault)");
    cr_expect_eq(small.ahead, 0, "a one-page DT_RELA was mapped ahead");
    free(dir);
}
