/*
 * test_libc.c — a plugin that calls the process's C library (fixtures/libc_user.c), symbol
 * versions, and the resolve callback's place in the search order.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <dlfcn.h>
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

/* glibc has memcpy@GLIBC_2.2.5 (compat) and memcpy@@GLIBC_2.14 (default); the plugin references
 * memcpy@GLIBC_2.14, and so does this test binary: the plugin must get what ld.so gave us.
 * (Under AddressSanitizer that is ASan's interceptor, which comes before libc in the search
 * order.) Same for realpath (@GLIBC_2.2.5 / @@GLIBC_2.3). */
Test(libc, versioned_references_bind_to_their_version)
{
    void *memcpy_new = dlvsym(RTLD_DEFAULT, "memcpy", "GLIBC_2.14");
    void *memcpy_old = dlvsym(RTLD_DEFAULT, "memcpy", "GLIBC_2.2.5");
    void *realpath_new = dlvsym(RTLD_DEFAULT, "realpath", "GLIBC_2.3");
    void *realpath_old = dlvsym(RTLD_DEFAULT, "realpath", "GLIBC_2.2.5");
    cr_assert_not_null(memcpy_new);
    cr_assert_not_null(realpath_new);
    /* Without this the test could not tell a wrong binding from a right one. */
    cr_assert_neq(memcpy_new, memcpy_old, "this libc's memcpy versions coincide");
    cr_assert_neq(realpath_new, realpath_old, "this libc's realpath versions coincide");
    cr_assert_neq((void *)memcpy, memcpy_old);

    plugin *p = open_fixture("libc_user.so");
    void *(*memcpy_address)(void) = (void *(*)(void))must_lookup(p, "memcpy_address");
    void *(*realpath_address)(void) = (void *(*)(void))must_lookup(p, "realpath_address");
    cr_assert_eq(memcpy_address(), (void *)memcpy,
                 "plugin's memcpy = %p, default memcpy@GLIBC_2.14 = %p, compat = %p",
                 memcpy_address(), (void *)memcpy, memcpy_old);
    cr_assert_eq(realpath_address(), (void *)realpath,
                 "plugin's realpath = %p, default realpath@GLIBC_2.3 = %p, compat = %p",
                 realpath_address(), (void *)realpath, realpath_old);
}

/* The resolve callback comes first (it stands where the executable stands): here it replaces
 * strlen for the plugin, and it is told which version each reference asks for. */
struct record {
    int strlen_asked;
    char memcpy_version[32];
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
    return NULL;        /* everything else: the process's objects */
}

Test(libc, resolve_callback_comes_first_and_sees_versions)
{
    struct record rec = { 0, "" };
    struct plugin_options opts = { .resolve = resolve_record, .resolve_ctx = &rec };
    plugin_error err;
    plugin *p = plugin_open_with(fixture("libc_user.so"), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    size_t (*length_of)(const char *) = (size_t (*)(const char *))must_lookup(p, "length_of");
    cr_assert_eq(rec.strlen_asked, 1, "resolve asked %d times for strlen", rec.strlen_asked);
    cr_assert_eq(length_of("abc"), 4242, "the process's strlen won over the resolve callback");
    cr_assert_str_eq(rec.memcpy_version, "GLIBC_2.14");
    void *(*memcpy_address)(void) = (void *(*)(void))must_lookup(p, "memcpy_address");
    cr_assert_eq(memcpy_address(), (void *)memcpy, "NULL from resolve must fall through");
}
