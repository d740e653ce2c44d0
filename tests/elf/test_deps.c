/*
 * test_deps.c — where dependencies are found (fixtures/deps/, built by the issue-5 section of
 * mk/tests.mk): LD_LIBRARY_PATH and PLUGIN_NO_LD_LIBRARY_PATH, search_paths, $LIB / $PLATFORM /
 * ${ORIGIN} in DT_RPATH and DT_RUNPATH, the RPATH of the loading chain, the ld.so cache (our own
 * parser, on synthetic caches good and bad, and on the system's), and a dependency cycle with
 * glibc's initialization order.
 *
 * LD_LIBRARY_PATH: glibc reads it once, when the process starts; we read it (getenv) at every
 * plugin_open, so a test can set it with setenv just before opening. Criterion runs every test in
 * a process of its own, so a variable set, or a library loaded, in one test is gone in the next.
 */
#include "helpers.h"
#include "elf/hwcaps.h"
#include "elf/ldcache.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEPS FIXTURE_DIR "/deps"

static plugin *open_traced(const char *path, struct plugin_options *o, struct tracebuf *t, plugin_error *err)
{
    t->len = 0;
    t->text[0] = '\0';
    o->trace = trace_collect;
    o->trace_ctx = t;
    return plugin_open_with(path, o, err);
}

static int call_int(plugin *p, const char *name)
{
    return ((int (*)(void))must_lookup(p, name))();
}

/* ---- a cycle: A needs B, B needs C, C needs A ---- */

Test(deps, cycle_fixtures_are_a_cycle)
{
    const char *pairs[][2] = { { "a", "libcyc_b.so" }, { "b", "libcyc_c.so" }, { "c", "libcyc_a.so" } };
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, DEPS "/cycle/libcyc_%s.so", pairs[i][0]);
        char *needed = file_dyn_string(path, DT_NEEDED, 0);
        cr_assert_not_null(needed, "%s has no DT_NEEDED", path);
        cr_assert_str_eq(needed, pairs[i][1], "%s needs %s", path, needed);
        free(needed);
        char *runpath = file_dyn_string(path, DT_RUNPATH, 0);
        cr_assert_not_null(runpath);
        cr_assert_str_eq(runpath, "${ORIGIN}");
        free(runpath);
    }
}

/* glibc's dlopen of each library gives these orders (dependencies first, the cycle broken where
 * it closes): A -> "CBA", B -> "ACB", C -> "BAC". Measured with dlopen on glibc 2.36. */
static void check_cycle(const char *first, const char *want)
{
    char path[512];
    snprintf(path, sizeof path, DEPS "/cycle/libcyc_%s.so", first);
    struct plugin_options o = { 0 };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(path, &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);

    plugin *a = open_fixture("deps/cycle/libcyc_a.so"), *b = open_fixture("deps/cycle/libcyc_b.so"),
           *c = open_fixture("deps/cycle/libcyc_c.so");
    const char *order = must_lookup(a, "cyc_order");
    cr_assert_str_eq(order, want, "opening %s: initializers ran in the order %s, glibc's is %s", first, order, want);
    cr_assert_eq(call_int(a, "cyc_sum"), 4321);
    cr_assert_eq(call_int(b, "cyc_b"), 4320);
    cr_assert_eq(call_int(c, "cyc_c"), 4300);

    /* Each one loaded once: one "loading" line per library, and nothing ran again. */
    const char *names[] = { "libcyc_a.so: loading", "libcyc_b.so: loading", "libcyc_c.so: loading" };
    for (int i = 0; i < 3; i++) {
        const char *hit = strstr(t.text, names[i]);
        cr_assert_not_null(hit, "no \"%s\" in the trace:\n%s", names[i], t.text);
        cr_assert_null(strstr(hit + 1, names[i]), "%s loaded twice:\n%s", names[i], t.text);
    }
    cr_assert_str_eq(order, want);
}

Test(deps, cycle_from_a_loads_with_glibc_init_order) { check_cycle("a", "CBA"); }
Test(deps, cycle_from_b_loads_with_glibc_init_order) { check_cycle("b", "ACB"); }
Test(deps, cycle_from_c_loads_with_glibc_init_order) { check_cycle("c", "BAC"); }

/* ---- lonely.so needs liblonely_dep.so, which only deps/elsewhere/ has ---- */

Test(deps, lonely_dependency_is_nowhere_standard)
{
    unsetenv("LD_LIBRARY_PATH");
    char *rpath = file_dyn_string(fixture("deps/lonely.so"), DT_RPATH, 0);
    char *runpath = file_dyn_string(fixture("deps/lonely.so"), DT_RUNPATH, 0);
    cr_assert_null(rpath);
    cr_assert_null(runpath);
    plugin_error err;
    cr_assert_null(plugin_open(fixture("deps/lonely.so"), &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
    cr_assert(strstr(err.message, "liblonely_dep.so"), "%s", err.message);
}

Test(deps, ld_library_path_finds_a_dependency)
{
    /* Empty, relative and missing elements are skipped, never the current directory. */
    cr_assert_eq(chdir(DEPS "/elsewhere"), 0);
    setenv("LD_LIBRARY_PATH", "/nonexistent::.:elsewhere;" DEPS "/elsewhere", 1);
    struct plugin_options o = { 0 };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(fixture("deps/lonely.so"), &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "lonely"), 42);
    cr_assert(strstr(t.text, "found " DEPS "/elsewhere/liblonely_dep.so (LD_LIBRARY_PATH)"), "%s", t.text);
}

Test(deps, ld_library_path_relative_elements_are_never_searched)
{
    cr_assert_eq(chdir(DEPS "/elsewhere"), 0);
    setenv("LD_LIBRARY_PATH", ":.:./:elsewhere", 1);
    plugin_error err;
    cr_assert_null(plugin_open(fixture("deps/lonely.so"), &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
}

Test(deps, no_ld_library_path_flag_turns_it_off)
{
    setenv("LD_LIBRARY_PATH", DEPS "/elsewhere", 1);
    struct plugin_options o = { .flags = PLUGIN_NO_LD_LIBRARY_PATH };
    plugin_error err;
    cr_assert_null(plugin_open_with(fixture("deps/lonely.so"), &o, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
    /* The failed open left nothing behind: without the flag the same open works. */
    plugin *p = plugin_open(fixture("deps/lonely.so"), &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "lonely"), 42);
}

Test(deps, unknown_flags_are_refused)
{
    struct plugin_options o = { .flags = 0x40000000u | PLUGIN_NO_RUN };
    plugin_error err;
    cr_assert_null(plugin_open_with(fixture("basic.so"), &o, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert(strstr(err.message, "0x40000000"), "%s", err.message);
}

Test(deps, search_paths_find_a_dependency)
{
    unsetenv("LD_LIBRARY_PATH");
    const char *const paths[] = { "elsewhere", "/nonexistent", DEPS "/elsewhere", NULL };
    struct plugin_options o = { .search_paths = paths };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(fixture("deps/lonely.so"), &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "lonely"), 42);
    cr_assert(strstr(t.text, "(search_paths)"), "%s", t.text);
}

/* LD_LIBRARY_PATH comes before search_paths: a copy of the library in a directory named by the
 * variable wins over the one search_paths names. */
Test(deps, ld_library_path_comes_before_search_paths)
{
    char *dir = make_temp_dir();
    size_t size;
    char *lib = read_file(DEPS "/elsewhere/liblonely_dep.so", &size);
    char copy[512];
    snprintf(copy, sizeof copy, "%s/liblonely_dep.so", dir);
    write_file(copy, lib, size);
    setenv("LD_LIBRARY_PATH", dir, 1);
    const char *const paths[] = { DEPS "/elsewhere", NULL };
    struct plugin_options o = { .search_paths = paths };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(fixture("deps/lonely.so"), &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    char want[600];
    snprintf(want, sizeof want, "found %s (LD_LIBRARY_PATH)", copy);
    cr_assert(strstr(t.text, want), "want \"%s\" in:\n%s", want, t.text);
    free(lib);
    free(dir);
}

/* ---- $LIB, $PLATFORM, ${ORIGIN}; RPATH of the loading chain; RUNPATH does not chain ---- */

#if defined(__x86_64__)
#define PLATFORM_NAME "x86_64"
#else
#define PLATFORM_NAME "aarch64"
#endif

Test(deps, dst_fixtures_carry_the_tokens)
{
    char *rpath = file_dyn_string(fixture("deps/dst_rpath.so"), DT_RPATH, 0);
    cr_assert_not_null(rpath);
    cr_assert_str_eq(rpath, "$ORIGIN/$LIB:${ORIGIN}/plat/$PLATFORM");
    char *runpath = file_dyn_string(fixture("deps/dst_runpath.so"), DT_RUNPATH, 0);
    cr_assert_not_null(runpath);
    cr_assert_str_eq(runpath, "${ORIGIN}/${LIB}:$ORIGIN/plat/${PLATFORM}");
    cr_assert_null(file_dyn_string(DEPS "/lib/" NATIVE_MULTIARCH "/libdst_lib.so", DT_RPATH, 0));
    cr_assert_null(file_dyn_string(DEPS "/lib/" NATIVE_MULTIARCH "/libdst_lib.so", DT_RUNPATH, 0));
    free(rpath);
    free(runpath);
}

Test(deps, rpath_expands_lib_platform_origin_and_serves_the_chain)
{
    unsetenv("LD_LIBRARY_PATH");
    struct plugin_options o = { 0 };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(fixture("deps/dst_rpath.so"), &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "dst_user"), 105007);
    cr_assert(strstr(t.text, "found " DEPS "/lib/" NATIVE_MULTIARCH "/libdst_lib.so (DT_RPATH)"), "%s", t.text);
    cr_assert(strstr(t.text, "found " DEPS "/plat/" PLATFORM_NAME "/libdst_plat.so (DT_RPATH)"), "%s", t.text);
    /* libdst_lib.so has no path of its own: its dependency comes from its loader's RPATH. */
    cr_assert(strstr(t.text, "found " DEPS "/plat/" PLATFORM_NAME "/libdst_chain.so (DT_RPATH of a loading object)"),
              "%s", t.text);
}

Test(deps, runpath_expands_tokens_but_serves_direct_dependencies_only)
{
    unsetenv("LD_LIBRARY_PATH");
    struct plugin_options o = { 0 };
    struct tracebuf t;
    plugin_error err;
    cr_assert_null(open_traced(fixture("deps/dst_runpath.so"), &o, &t, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
    cr_assert(strstr(err.message, "libdst_chain.so"), "%s", err.message);
    cr_assert(strstr(t.text, "found " DEPS "/lib/" NATIVE_MULTIARCH "/libdst_lib.so (DT_RUNPATH)"), "%s", t.text);
    cr_assert(strstr(t.text, "found " DEPS "/plat/" PLATFORM_NAME "/libdst_plat.so (DT_RUNPATH)"), "%s", t.text);

    /* Given the missing directory by search_paths, the same open works. */
    const char *const paths[] = { DEPS "/plat/" PLATFORM_NAME, NULL };
    struct plugin_options o2 = { .search_paths = paths };
    plugin *p = plugin_open_with(fixture("deps/dst_runpath.so"), &o2, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "dst_user"), 105007);
}

/* ---- the ld.so cache ---- */

/* A synthetic cache in the new format ("glibc-ld.so.cache1.1"), optionally behind the old one. */
struct cache_entry {
    int32_t flags;
    const char *key, *value;
    uint64_t hwcap;
};

static size_t build_cache(uint8_t *out, size_t cap, const struct cache_entry *e, uint32_t n, int old_front)
{
    size_t front = 0;
    memset(out, 0, cap);
    if (old_front) {                    /* "ld.so-1.7.0", nlibs = 1, one 12-byte entry, pad to 8 */
        memcpy(out, "ld.so-1.7.0", 11);
        uint32_t one = 1;
        memcpy(out + 12, &one, 4);
        front = 16 + 12;
        front = (front + 7) & ~(size_t)7;
    }
    uint8_t *h = out + front;
    memcpy(h, "glibc-ld.so.cache1.1", 20);
    memcpy(h + 20, &n, 4);
    size_t str = 48 + (size_t)n * 24, str0 = str;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *en = h + 48 + (size_t)i * 24;
        uint32_t k = (uint32_t)str;
        strcpy((char *)h + str, e[i].key);
        str += strlen(e[i].key) + 1;
        uint32_t v = (uint32_t)str;
        strcpy((char *)h + str, e[i].value);
        str += strlen(e[i].value) + 1;
        memcpy(en, &e[i].flags, 4);
        memcpy(en + 4, &k, 4);
        memcpy(en + 8, &v, 4);
        memcpy(en + 16, &e[i].hwcap, 8);
    }
    uint32_t len_strings = (uint32_t)(str - str0);
    memcpy(h + 24, &len_strings, 4);
    cr_assert_leq(front + str, cap);
    return front + str;
}

static char *cache_file(const char *dir, const char *name, const void *data, size_t size)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    write_file(path, data, size);
    return path;
}

#define OTHER_FLAGS (ldcache_native_flags() == 0x0303 ? 0x0a03 : 0x0303)

Test(ldcache, parses_good_caches)
{
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    cr_assert(me == 0x0303 || me == 0x0a03, "flags 0x%x", me);
    struct cache_entry e[] = {
        { OTHER_FLAGS, "libfoo.so.1", "/other/cpu/libfoo.so.1", 0 },     /* another CPU: skipped */
        { 0x0003, "libfoo.so.1", "/lib32ish/libfoo.so.1", 0 },         /* no CPU flag: skipped */
        { me, "libfoo.so.1", "/hwcaps/x86-64-v3/libfoo.so.1", 1ull << 62 }, /* hwcaps: skipped */
        { me, "libfoo.so.1", "/right/libfoo.so.1", 0 },
        { me, "libfoo.so.1", "/second/libfoo.so.1", 0 },               /* first one wins */
        { me, "libbar.so.2", "/right/libbar.so.2", 0 },
    };
    uint8_t buf[4096];
    for (int old = 0; old < 2; old++) {
        size_t n = build_cache(buf, sizeof buf, e, 6, old);
        char *path = cache_file(dir, old ? "old_and_new.cache" : "new.cache", buf, n);
        char *r = ldcache_lookup_in(path, "libfoo.so.1");
        cr_assert_not_null(r, "old=%d", old);
        cr_assert_str_eq(r, "/right/libfoo.so.1");
        free(r);
        r = ldcache_lookup_in(path, "libbar.so.2");
        cr_assert_not_null(r);
        cr_assert_str_eq(r, "/right/libbar.so.2");
        free(r);
        cr_assert_null(ldcache_lookup_in(path, "libbaz.so.3"));
        cr_assert_null(ldcache_lookup_in(path, "libfoo.so"));
        free(path);
    }
    free(dir);
}

Test(ldcache, malformed_caches_are_ignored)
{
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    struct cache_entry e[] = { { me, "libfoo.so.1", "/right/libfoo.so.1", 0 } };
    uint8_t good[1024], bad[1024];
    size_t n = build_cache(good, sizeof good, e, 1, 0);
    char *path = cache_file(dir, "good.cache", good, n);
    char *r = ldcache_lookup_in(path, "libfoo.so.1");
    cr_assert_not_null(r);
    free(r);
    free(path);

    struct { const char *what; size_t off; uint32_t value; size_t size; } cases[] = {
        { "nlibs past the end", 20, 1000, 0 },
        { "nlibs overflowing", 20, 0xffffffffu, 0 },
        { "key offset past the end", 48 + 4, 5000, 0 },
        { "value offset past the end", 48 + 8, 0x7fffffffu, 0 },
        { "key offset at the last byte", 48 + 4, 0, 1 },      /* value filled in below */
        { "bad magic", 0, 0x78787878u, 0 },
        { "bad version", 16, 0x39392e65u, 0 },                 /* "e.99" over "e1.1" */
        { "truncated header", 0, 0, 30 },
        { "truncated entries", 0, 0, 60 },
        { "string without its NUL", 0, 0, n - 1 },
        { "empty file", 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, n);
        size_t size = n;
        uint32_t v = cases[i].value;
        if (i == 4)
            v = (uint32_t)(n - 1);
        if (v || cases[i].off)
            memcpy(bad + cases[i].off, &v, 4);
        if (cases[i].size || !strcmp(cases[i].what, "empty file"))
            size = cases[i].size;
        if (i == 4)
            size = n, bad[n - 1] = 'x';
        char name[64];
        snprintf(name, sizeof name, "bad%zu.cache", i);
        path = cache_file(dir, name, bad, size);
        cr_assert_null(ldcache_lookup_in(path, "libfoo.so.1"), "%s: an entry was found", cases[i].what);
        free(path);
    }
    /* Random garbage of many sizes: never a crash, never an answer. */
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t size = (size_t)(rand() % (int)n) + 1;
        memcpy(bad, good, n);
        for (int k = 0; k < 4; k++)
            bad[rand() % (int)size] = (uint8_t)rand();
        path = cache_file(dir, "fuzz.cache", bad, size);
        r = ldcache_lookup_in(path, "libfoo.so.1");
        if (r)
            cr_assert_str_eq(r, "/right/libfoo.so.1");
        free(r);
        free(path);
    }
    cr_assert_null(ldcache_lookup_in(DEPS "/no/such/file", "libfoo.so.1"));
    cr_assert_null(ldcache_lookup_in(DEPS, "libfoo.so.1"));             /* a directory */
    free(dir);
}

Test(ldcache, system_cache_entries_are_for_this_cpu)
{
    if (access("/etc/ld.so.cache", R_OK) != 0)
        cr_skip_test("no /etc/ld.so.cache");
    char *r = ldcache_lookup_in("/etc/ld.so.cache", "libc.so.6");
#if defined(__x86_64__)
    cr_assert_not_null(r, "the system cache has no x86-64 libc.so.6");
#endif
    if (!r)
        return;                         /* the aarch64 lane reads an x86-64 host's cache */
    cr_assert_eq(r[0], '/');
    cr_assert_eq(access(r, R_OK), 0, "%s", r);
    cr_assert_eq(file_machine(r), NATIVE_EM, "%s is for another CPU", r);
    free(r);
}

/* ---- the cache's glibc-hwcaps entries ---- */

/* An entry of a glibc-hwcaps subdirectory: DL_CACHE_HWCAP_EXTENSION | ISA level << 32 | the index
 * of its subdirectory's name in the extension's hwcaps section. */
#define HWCAP_ENTRY(isa, index) ((1ull << 62) | (uint64_t)(isa) << 32 | (uint32_t)(index))

/* Where build_cache_hw put the extension's parts (file offsets). */
struct ext_layout {
    size_t names, index, dir, size;
};

static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* build_cache, then the extension ldconfig 2.33+ writes after the strings: the subdirectory
 * names, the hwcaps section (one uint32 file offset per name), and the extension directory
 * (magic, count, then { tag, flags, offset, size } for a generator section and the hwcaps one),
 * whose file offset goes in the header's extension_offset (new header + 32). */
static struct ext_layout build_cache_hw(uint8_t *out, size_t cap, const struct cache_entry *e, uint32_t n,
                                        int old_front, const char *const *subdirs, uint32_t nsub)
{
    size_t front = old_front ? 32 : 0, at = build_cache(out, cap, e, n, old_front);
    struct ext_layout l = { at, 0, 0, 0 };
    uint32_t offs[8];
    cr_assert_leq(nsub, 8);
    for (uint32_t i = 0; i < nsub; i++) {
        offs[i] = (uint32_t)at;
        strcpy((char *)out + at, subdirs[i]);
        at += strlen(subdirs[i]) + 1;
    }
    size_t gen = at;
    memcpy(out + at, "test", 4);
    at = l.index = align4(at + 4);
    memcpy(out + at, offs, 4 * nsub);
    at = l.dir = align4(at + 4 * nsub);
    uint32_t dir[2 + 8] = { 0xeaa42174u, 2, 0, 0, (uint32_t)gen, 4, 1, 0, (uint32_t)l.index, 4 * nsub };
    memcpy(out + at, dir, sizeof dir);
    l.size = at + sizeof dir;
    uint32_t ext = (uint32_t)l.dir;
    memcpy(out + front + 32, &ext, 4);
    cr_assert_leq(l.size, cap);
    return l;
}

static const char *const subdirs[] = { "x86-64-v2", "x86-64-v3", "x86-64-v4", "x86-64-v9" };

/* What the cache should give for libfoo.so.1 below: the entry of the best subdirectory this CPU
 * uses (x86-64-v9 is no level at all), else the baseline one. */
static const char *best_foo(void)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    static const char *const paths[] = { "/v2/libfoo.so.1", "/v3/libfoo.so.1", "/v4/libfoo.so.1" };
    for (size_t i = 0; i < h->n; i++)
        for (int k = 0; k < 3; k++)
            if (strcmp(h->names[i], subdirs[k]) == 0)
                return paths[k];
    return "/base/libfoo.so.1";
}

Test(ldcache, prefers_the_best_glibc_hwcaps_entry_the_cpu_supports)
{
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    struct cache_entry e[] = {
        { me, "libfoo.so.1", "/base/libfoo.so.1", 0 },      /* baseline first: order does not matter */
        { me, "libfoo.so.1", "/v9/libfoo.so.1", HWCAP_ENTRY(0, 3) },
        { me, "libfoo.so.1", "/v2/libfoo.so.1", HWCAP_ENTRY(0, 0) },
        { me, "libfoo.so.1", "/v4/libfoo.so.1", HWCAP_ENTRY(0, 2) },
        { me, "libfoo.so.1", "/v3/libfoo.so.1", HWCAP_ENTRY(0, 1) },
        { OTHER_FLAGS, "libfoo.so.1", "/other/libfoo.so.1", HWCAP_ENTRY(0, 2) },
        { me, "libfoo.so.1", "/bad-index/libfoo.so.1", HWCAP_ENTRY(0, 7) },
        { me, "libbar.so.2", "/bar/libbar.so.2", 0 },
    };
    uint8_t buf[4096];
    for (int old = 0; old < 2; old++) {
        size_t n = build_cache_hw(buf, sizeof buf, e, 8, old, subdirs, 4).size;
        char *path = cache_file(dir, old ? "old_and_new.cache" : "new.cache", buf, n);
        char *r = ldcache_lookup_in(path, "libfoo.so.1");
        cr_assert_not_null(r, "old=%d", old);
        cr_assert_str_eq(r, best_foo(), "old=%d: %s chosen, want %s", old, r, best_foo());
        free(r);
        r = ldcache_lookup_in(path, "libbar.so.2");
        cr_assert_str_eq(r, "/bar/libbar.so.2");
        free(r);
        free(path);
    }
    free(dir);
}

/* An entry whose ISA level (the 10 bits above bit 32) the CPU lacks is not used (x86-64: level
 * 31 is no level; the x86-64-v2 entry with level 1 needs x86-64-v2). */
Test(ldcache, glibc_hwcaps_entry_needs_its_isa_level)
{
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    struct cache_entry e[] = {
        { me, "libfoo.so.1", "/too-high/libfoo.so.1", HWCAP_ENTRY(31, 0) },
        { me, "libfoo.so.1", "/base/libfoo.so.1", 0 },
        { me, "libqux.so.1", "/v2/libqux.so.1", HWCAP_ENTRY(1, 0) },
        { me, "libqux.so.1", "/base/libqux.so.1", 0 },
    };
    uint8_t buf[4096];
    size_t n = build_cache_hw(buf, sizeof buf, e, 4, 0, subdirs, 4).size;
    char *path = cache_file(dir, "isa.cache", buf, n);
    char *r = ldcache_lookup_in(path, "libfoo.so.1");
#if defined(__x86_64__)
    cr_assert_str_eq(r, "/base/libfoo.so.1", "an entry of ISA level 31 was used: %s", r);
#endif
    free(r);
    r = ldcache_lookup_in(path, "libqux.so.1");
    cr_assert_str_eq(r, elf_hwcaps_priority("x86-64-v2") ? "/v2/libqux.so.1" : "/base/libqux.so.1", "%s", r);
    free(r);
    free(path);
    free(dir);
}

/* The extension is untrusted: each way of breaking it leaves the glibc-hwcaps entries unused
 * (the baseline entry is the answer), never a crash; random damage never gives a wrong path. */
Test(ldcache, malformed_hwcaps_extension_falls_back_to_the_baseline)
{
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    struct cache_entry e[] = {
        { me, "libfoo.so.1", "/v2/libfoo.so.1", HWCAP_ENTRY(0, 0) },
        { me, "libfoo.so.1", "/v3/libfoo.so.1", HWCAP_ENTRY(0, 1) },
        { me, "libfoo.so.1", "/v4/libfoo.so.1", HWCAP_ENTRY(0, 2) },
        { me, "libfoo.so.1", "/base/libfoo.so.1", 0 },
    };
    uint8_t good[4096], bad[4096];
    struct ext_layout l = build_cache_hw(good, sizeof good, e, 4, 0, subdirs, 3);
    char *gpath = cache_file(dir, "goodext.cache", good, l.size);
    char *g = ldcache_lookup_in(gpath, "libfoo.so.1");
    cr_assert_str_eq(g, best_foo(), "undamaged: %s chosen, want %s", g, best_foo());
    free(g);
    free(gpath);
    struct { const char *what; size_t off; uint32_t value; } cases[] = {
        { "extension offset past the end", 32, 0x7ffffff0u },
        { "extension offset misaligned", 32, 0 },            /* l.dir + 2, below */
        { "bad extension magic", 0, 0x12345678u },             /* at l.dir */
        { "section count too large", 4, 0x10000000u },         /* at l.dir + 4 */
        { "section past the end", 4 + 16 + 8, 0xfffffff0u },   /* hwcaps section offset */
        { "section size past the end", 4 + 16 + 12, 0x7fffffffu },
        { "section misaligned", 4 + 16 + 8, 0 },               /* l.index + 1, below */
        { "section of no whole words", 4 + 16 + 12, 11 },
        { "name offsets past the end", 0, 0x7fffffffu },       /* at l.index */
        { "names without their NUL", 0, 0 },                   /* at l.index: the last byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, l.size);
        size_t size = l.size, at = i < 2 ? cases[i].off : i < 8 ? l.dir + 8 + cases[i].off - 4 : l.index;
        uint32_t v = cases[i].value;
        if (i == 2 || i == 3)
            at = l.dir + cases[i].off;
        if (i == 1)
            v = (uint32_t)l.dir + 2;
        if (i == 6)
            v = (uint32_t)l.index + 1;
        if (i == 9) {
            v = (uint32_t)l.size - 1;
            bad[l.size - 1] = 'x';
        }
        memcpy(bad + at, &v, 4);
        for (int k = 1; i >= 8 && k < 3; k++)               /* every name of the section */
            memcpy(bad + at + 4 * k, &v, 4);
        char name[64];
        snprintf(name, sizeof name, "badext%zu.cache", i);
        char *path = cache_file(dir, name, bad, size);
        char *r = ldcache_lookup_in(path, "libfoo.so.1");
        cr_assert_not_null(r, "%s: no answer", cases[i].what);
        cr_assert_str_eq(r, "/base/libfoo.so.1", "%s: %s chosen", cases[i].what, r);
        free(r);
        free(path);
    }
    srand(11);
    for (int round = 0; round < 300; round++) {
        memcpy(bad, good, l.size);
        for (int k = 0; k < 3; k++)
            bad[l.names + (size_t)rand() % (l.size - l.names)] = (uint8_t)rand();
        char *path = cache_file(dir, "fuzzext.cache", bad, l.size);
        char *r = ldcache_lookup_in(path, "libfoo.so.1");
        cr_assert_not_null(r, "round %d: the baseline entry was lost", round);
        cr_assert(r[0] == '/' && strstr(r, "/libfoo.so.1"), "round %d: %s", round, r);
        free(r);
        free(path);
    }
    free(dir);
}

/* End to end: user_bare.so needs libhw.so, which only the (synthetic) cache knows, once as the
 * baseline (fixtures/hwcaps/a/, level 1) and once per subdirectory of fixtures/hwcaps/b/: the
 * copy of the best level this CPU supports is loaded. */
Test(ldcache, dependency_found_through_a_glibc_hwcaps_entry)
{
    unsetenv("LD_LIBRARY_PATH");
    char *dir = make_temp_dir();
    int me = ldcache_native_flags();
    struct cache_entry e[] = {
        { me, "libhw.so", FIXTURE_DIR "/hwcaps/b/glibc-hwcaps/x86-64-v2/libhw.so", HWCAP_ENTRY(0, 0) },
        { me, "libhw.so", FIXTURE_DIR "/hwcaps/b/glibc-hwcaps/x86-64-v3/libhw.so", HWCAP_ENTRY(0, 1) },
        { me, "libhw.so", FIXTURE_DIR "/hwcaps/a/libhw.so", 0 },
    };
    uint8_t buf[4096];
    size_t n = build_cache_hw(buf, sizeof buf, e, 3, 0, subdirs, 2).size;
    char *path = cache_file(dir, "ld.so.cache", buf, n);
    ldcache_use_file(path);
    plugin_error err;
    plugin *p = plugin_open(fixture("hwcaps/user_bare.so"), &err);
    cr_assert_not_null(p, "%s", err.message);
    int want = elf_hwcaps_priority("x86-64-v3") ? 3 : elf_hwcaps_priority("x86-64-v2") ? 2 : 1;
    int got = call_int(p, "hw_user");
    cr_assert_eq(got, want, "the copy of level %d was loaded, want %d", got, want);
    ldcache_use_file(NULL);
    free(path);
    free(dir);
}

/* A dependency found only through the cache: a synthetic cache file stands in for the system's
 * (ldcache_use_file) and names deps/elsewhere/liblonely_dep.so. */
Test(ldcache, dependency_found_through_the_cache)
{
    unsetenv("LD_LIBRARY_PATH");
    char *dir = make_temp_dir();
    struct cache_entry e[] = {
        { OTHER_FLAGS, "liblonely_dep.so", "/nonexistent/liblonely_dep.so", 0 },
        { ldcache_native_flags(), "liblonely_dep.so", DEPS "/elsewhere/liblonely_dep.so", 0 },
    };
    uint8_t buf[1024];
    size_t n = build_cache(buf, sizeof buf, e, 2, 0);
    char *path = cache_file(dir, "ld.so.cache", buf, n);
    ldcache_use_file(path);
    struct plugin_options o = { 0 };
    struct tracebuf t;
    plugin_error err;
    plugin *p = open_traced(fixture("deps/lonely.so"), &o, &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_int(p, "lonely"), 42);
    cr_assert(strstr(t.text, "found " DEPS "/elsewhere/liblonely_dep.so (ld.so cache)"), "%s", t.text);
    ldcache_use_file(NULL);
    free(path);
    free(dir);
}
