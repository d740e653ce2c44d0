/*
 * test_libc.c — a plugin that calls the process's C library (fixtures/libc_user.c), symbol
 * versions, and the resolve callback's place in the search order.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <dlfcn.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

Test(libc, plugin_calls_libc)
{
    plugin *p = open_fixture("libc_user.so");
    int (*format_pair)(char *, size_t, const char *, int) =
        (int (*)(char *, size_t, const char *, int))must_lookup(p, "format_pair");
    size_t (*length_of)(const char *) = (size_t (*)(const char *))must_lookup(p, "length_of");
    void (*copy_bytes)(void *, const void *, size_t) =
        (void (*)(void *, const void *, size_t))must_lookup(p, "copy_bytes");
    void (*sort_ints)(int *, size_t) = (void (*)(int *, size_t))must_lookup(p, "sort_ints");
    int *cmp_calls = must_lookup(p, "cmp_calls");

    char buf[64];
    cr_assert_eq(format_pair(buf, sizeof buf, "answer", 42), 9);
    cr_assert_str_eq(buf, "answer=42");
    cr_assert_eq(format_pair(buf, 4, "abcdef", -7), 9);       /* truncated, as snprintf does */
    cr_assert_str_eq(buf, "abc");

    const char *s = "a plugin without libdl";
    cr_assert_eq(length_of(s), strlen(s));
    cr_assert_eq(length_of(""), 0);

    unsigned char src[300], dst[300];
    for (int i = 0; i < 300; i++)
        src[i] = (unsigned char)(i * 7 + 3);
    memset(dst, 0, sizeof dst);
    copy_bytes(dst, src, sizeof src);
    cr_assert_eq(memcmp(dst, src, sizeof src), 0);

    int v[100], w[100];
    srand(12345);
    for (int i = 0; i < 100; i++)
        v[i] = w[i] = rand() % 1000 - 500;
    sort_ints(v, 100);
    cr_assert_gt(*cmp_calls, 0, "qsort never called the plugin's comparator");
    for (int i = 1; i < 100; i++)
        cr_assert_leq(v[i - 1], v[i], "not sorted at %d", i);
    for (int i = 0; i < 100; i++) {      /* same multiset */
        int in_v = 0, in_w = 0;
        for (int j = 0; j < 100; j++) {
            in_v += v[j] == w[i];
            in_w += w[j] == w[i];
        }
        cr_assert_eq(in_v, in_w);
    }
}

/* glibc keeps an old implementation of some functions under an old version next to the default
 * one (see fixtures/libc_user.c). The plugin references the default versions, and so does this
 * test binary: the plugin must get what ld.so gave us (under AddressSanitizer that may be ASan's
 * interceptor, which comes before libc in the search order).
 *
 * glob and fmemopen have two implementations in both lanes. memcpy and realpath have two on
 * x86-64 only (aarch64's glibc began at GLIBC_2.17, after they changed); there the binding is
 * still checked, but cannot be told apart from a compat one. */
struct versioned {
    const char *name, *fn;          /* the libc function and the fixture's function that
                                     * returns the address the plugin was bound to */
    void *self;                     /* what ld.so bound this test binary to */
    const char *deflt, *compat;     /* compat NULL: this port has a single version */
};

Test(libc, versioned_references_bind_to_their_version)
{
    const struct versioned v[] = {
        { "glob", "glob_address", (void *)glob, "GLIBC_2.27", GLIBC_BASE },
        { "fmemopen", "fmemopen_address", (void *)fmemopen, "GLIBC_2.22", GLIBC_BASE },
#if defined(__x86_64__)
        { "memcpy", "memcpy_address", (void *)memcpy, GLIBC_MEMCPY, "GLIBC_2.2.5" },
        { "realpath", "realpath_address", (void *)realpath, "GLIBC_2.3", "GLIBC_2.2.5" },
#else
        { "memcpy", "memcpy_address", (void *)memcpy, GLIBC_MEMCPY, NULL },
        { "realpath", "realpath_address", (void *)realpath, GLIBC_BASE, NULL },
#endif
    };
    plugin *p = open_fixture("libc_user.so");
    int told_apart = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        void *deflt = dlvsym(RTLD_DEFAULT, v[i].name, v[i].deflt);
        cr_assert_not_null(deflt, "no %s@%s in this libc", v[i].name, v[i].deflt);
        void *compat = NULL;
        if (v[i].compat) {
            compat = dlvsym(RTLD_DEFAULT, v[i].name, v[i].compat);
            cr_assert_not_null(compat, "no %s@%s in this libc", v[i].name, v[i].compat);
            /* Without this the test could not tell a wrong binding from a right one. */
            cr_assert_neq(deflt, compat, "this libc's %s versions coincide", v[i].name);
            cr_assert_neq(v[i].self, compat, "the test binary got the compat %s", v[i].name);
            told_apart++;
        }
        void *(*bound)(void) = (void *(*)(void))must_lookup(p, v[i].fn);
        cr_assert_eq(bound(), v[i].self, "plugin's %s = %p, default %s@%s = %p, compat = %p",
                     v[i].name, bound(), v[i].name, v[i].deflt, v[i].self, compat);
    }
    cr_assert_geq(told_apart, 2);
}

/* The resolve callback comes first (it stands where the executable stands): here it replaces
 * strlen for the plugin, and it is told which version each reference asks for. */
struct record {
    int strlen_asked;
    char memcpy_version[32], glob_version[32];
};

static size_t fake_strlen(const char *s)
{
    (void)s;
    return 4242;
}

static void *resolve_record(void *ctx, const char *name, const char *version)
{
    struct record *r = ctx;
    if (strcmp(name, "strlen") == 0) {
        r->strlen_asked++;
        return (void *)fake_strlen;
    }
    if (strcmp(name, "memcpy") == 0)
        snprintf(r->memcpy_version, sizeof r->memcpy_version, "%s", version ? version : "(null)");
    if (strcmp(name, "glob") == 0)
        snprintf(r->glob_version, sizeof r->glob_version, "%s", version ? version : "(null)");
    return NULL;        /* everything else: the process's objects */
}

Test(libc, resolve_callback_comes_first_and_sees_versions)
{
    struct record rec = { 0, "", "" };
    struct plugin_options opts = { .resolve = resolve_record, .resolve_ctx = &rec };
    plugin_error err;
    plugin *p = plugin_open_with(fixture("libc_user.so"), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    size_t (*length_of)(const char *) = (size_t (*)(const char *))must_lookup(p, "length_of");
    cr_assert_eq(rec.strlen_asked, 1, "resolve asked %d times for strlen", rec.strlen_asked);
    cr_assert_eq(length_of("abc"), 4242, "the process's strlen won over the resolve callback");
    cr_assert_str_eq(rec.memcpy_version, GLIBC_MEMCPY);
    cr_assert_str_eq(rec.glob_version, "GLIBC_2.27");
    void *(*memcpy_address)(void) = (void *(*)(void))must_lookup(p, "memcpy_address");
    cr_assert_eq(memcpy_address(), (void *)memcpy, "NULL from resolve must fall through");
}
