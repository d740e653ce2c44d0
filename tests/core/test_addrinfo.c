/*
 * test_addrinfo.c — plugin_addr_info (issue 5): what an address belongs to, as dladdr says it.
 *
 *  - in a fixture we loaded: its path, its base (the load bias: where its ELF header is, the start
 *    of its first mapping), and the exported function or variable that contains the address;
 *  - in the objects the system loader has: libc (the test's &strlen, an IFUNC's pick, and qsort,
 *    compared with glibc's dladdr as the oracle), the test program itself;
 *  - nowhere: NULL, an unmapped page, the heap: 0 and nothing filled;
 *  - a Mach-O export (the lane's CPU): the dylib's path, its base (the Mach-O header), the export's
 *    name as plugin_lookup takes it (no leading underscore).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <gnu/libc-version.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The lowest start address of the mappings of path in /proc/self/maps (0 when none). */
static uintptr_t first_mapping_of(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[PATH_MAX + 128];
    uintptr_t best = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int n = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &n) < 2 || !n)
            continue;
        char *name = line + n;
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, path) == 0 && (!best || lo < best))
            best = lo;
    }
    fclose(f);
    return best;
}

Test(addrinfo, fixture_function_and_variable)
{
    plugin *p = open_fixture("basic.so");
    const char *path = fixture("basic.so");
    char *F = must_lookup(p, "F");
    struct plugin_addr_info info;
    cr_assert_eq(plugin_addr_info(F + 1, &info), 1);
    cr_assert_str_eq(info.path, path);
    cr_assert_eq((uintptr_t)info.base, first_mapping_of(path), "base %p", info.base);
    cr_assert_eq(memcmp(info.base, "\177ELF", 4), 0, "the base is where the ELF header is");
    cr_assert_not_null(info.symbol);
    cr_assert_str_eq(info.symbol, "F");
    cr_assert_eq(info.symbol_addr, (void *)F);

    /* The entry itself, another function, a variable. */
    cr_assert_eq(plugin_addr_info(F, &info), 1);
    cr_assert_str_eq(info.symbol, "F");
    char *add = must_lookup(p, "add");
    cr_assert_eq(plugin_addr_info(add + 2, &info), 1);
    cr_assert_str_eq(info.symbol, "add");
    cr_assert_eq(info.symbol_addr, (void *)add);
    int *V = must_lookup(p, "V");
    cr_assert_eq(plugin_addr_info(V, &info), 1);
    cr_assert_str_eq(info.symbol, "V");
    cr_assert_eq(info.symbol_addr, (void *)V);
    cr_assert_str_eq(info.path, path);

    /* The header: inside the object, below every symbol. */
    cr_assert_eq(plugin_addr_info((char *)info.base + 1, &info), 1);
    cr_assert_str_eq(info.path, path);
    cr_assert_null(info.symbol);
    cr_assert_null(info.symbol_addr);
}

Test(addrinfo, libc_like_dladdr)
{
    /* strlen is an IFUNC: the address the test sees is the implementation glibc picked. */
    const void *s = (const void *)&strlen;
    struct plugin_addr_info info;
    Dl_info dl;
    cr_assert_neq(dladdr(s, &dl), 0, "dladdr knows strlen");
    cr_assert_eq(plugin_addr_info(s, &info), 1);
    cr_assert_str_eq(info.path, dl.dli_fname);
    cr_assert_eq(info.base, dl.dli_fbase);
#ifndef __SANITIZE_ADDRESS__      /* under ASan, &strlen is the sanitizer's interceptor */
    cr_assert_not_null(strstr(info.path, "libc.so"), "%s", info.path);
#endif

    /* A plain function of libc (one no sanitizer intercepts): the same symbol as dladdr, from
     * its middle. */
    const char *q = (const char *)(uintptr_t)&gnu_get_libc_version + 3;
    cr_assert_neq(dladdr(q, &dl), 0);
    cr_assert_eq(plugin_addr_info(q, &info), 1);
    cr_assert_str_eq(info.path, dl.dli_fname);
    cr_assert_not_null(info.symbol);
    cr_assert_not_null(dl.dli_sname);
    cr_assert_eq(info.symbol_addr, dl.dli_saddr, "%s at %p, dladdr: %s at %p", info.symbol, info.symbol_addr,
                 dl.dli_sname, dl.dli_saddr);
    cr_assert_str_eq(info.symbol, "gnu_get_libc_version");
}

static int __attribute__((noinline)) local_function(void)
{
    return 3;
}

Test(addrinfo, main_program)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    struct plugin_addr_info info;
    cr_assert_eq(plugin_addr_info((const void *)(uintptr_t)&local_function, &info), 1);
    cr_assert_str_eq(info.path, exe);
    cr_assert_eq(local_function(), 3);
}

Test(addrinfo, outside_every_object)
{
    struct plugin_addr_info info = { "x", (void *)1, "y", (void *)2 };
    cr_assert_eq(plugin_addr_info(NULL, &info), 0);
    cr_assert_null(info.path);
    cr_assert_null(info.symbol);

    long page = sysconf(_SC_PAGESIZE);
    void *gone = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(gone, MAP_FAILED);
    cr_assert_eq(munmap(gone, (size_t)page), 0);
    cr_assert_eq(plugin_addr_info((char *)gone + 16, &info), 0);
    cr_assert_null(info.path);
    cr_assert_null(info.base);
    cr_assert_null(info.symbol_addr);

    char *heap = malloc(64 << 10);
    cr_assert_not_null(heap);
    cr_assert_eq(plugin_addr_info(heap + 100, &info), 0);
    free(heap);
    cr_assert_eq(plugin_addr_info(&info, NULL), 0);     /* the stack; info may be NULL */
}

/* ---- Mach-O ---- */

#if defined(__x86_64__)
#define MCPU "x86_64"
#else
#define MCPU "arm64"
#endif

static int ai_host_add(int a, int b) { return a + b; }
static int ai_host_array[128];
static char ai_host_far[16];

static void *ai_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    if (!strcmp(name, "mh_host_add"))
        return (void *)ai_host_add;
    if (!strcmp(name, "mh_host_array"))
        return ai_host_array;
    if (!strcmp(name, "mh_host_far"))
        return ai_host_far;
    return NULL;
}

static void check_macho(const char *name)
{
    const char *path = fixture(name);
    struct plugin_options opts = { .resolve = ai_resolve };
    plugin_error err;
    plugin *p = plugin_open_with(path, &opts, &err);
    cr_assert_not_null(p, "%s: %s", path, err.message);
    char *fn = must_lookup(p, "fix_call_host");
    struct plugin_addr_info info;
    cr_assert_eq(plugin_addr_info(fn + 1, &info), 1);
    cr_assert_str_eq(info.path, path);
    cr_assert_eq(*(const uint32_t *)info.base, 0xfeedfacfu, "the base is the Mach-O header");
    cr_assert_not_null(info.symbol);
    cr_assert_str_eq(info.symbol, "fix_call_host");
    cr_assert_eq(info.symbol_addr, (void *)fn);
    const char *first = info.symbol;
    cr_assert_eq(plugin_addr_info(fn, &info), 1);
    cr_assert_eq(info.symbol, first, "the same string for the same export");

    int *value = must_lookup(p, "fix_value");
    cr_assert_eq(plugin_addr_info(value, &info), 1);
    cr_assert_str_eq(info.symbol, "fix_value");
    cr_assert_eq(info.symbol_addr, (void *)value);
    cr_assert_eq(*value, 42);
}

Test(addrinfo, macho_export_chained)
{
    check_macho("macho/libfix.chained." MCPU ".dylib");
}

Test(addrinfo, macho_export_opcodes)
{
    check_macho("macho/libfix.info." MCPU ".dylib");
}
