/*
 * test_static_tls.c — initial-exec TLS of a loaded object's own variables (DF_STATIC_TLS), served
 * from the static TLS pool the host reserves (PLUGIN_STATIC_TLS_POOL, plugin.h).
 *
 * The host with a pool is tests/tls_pool_host.c (256 bytes), run as a separate program under
 * timeout(1) so that a hang fails the test instead of stopping the suite; this test binary has
 * no pool (the refusals), except where a test registers one by hand. Fixtures: mk/tls.mk.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_HOST BUILD_DIR "/tests/tls_pool_host"

#if defined(__x86_64__)
#define TPOFF_RELOC  R_X86_64_TPOFF64
#define DTPMOD_RELOC R_X86_64_DTPMOD64
#define DESC_RELOC   R_X86_64_TLSDESC
#else
#define TPOFF_RELOC  R_AARCH64_TLS_TPREL
#define DTPMOD_RELOC R_AARCH64_TLS_DTPMOD
#define DESC_RELOC   R_AARCH64_TLSDESC
#endif

/* Run the pool host with up to four COMMAND PLUGIN pairs (fixture names); its stdout. */
static char *pool_host(const char *const *pairs, size_t n)
{
    char *argv[12] = { "/usr/bin/timeout", "120", POOL_HOST };
    size_t k = 3;
    for (size_t i = 0; i < n && k + 2 < 12; i += 2) {
        argv[k++] = (char *)pairs[i];
        argv[k++] = (char *)fixture(pairs[i + 1]);
    }
    struct run r = run_program(argv);
    cr_assert_neq(r.code, 124, "tls_pool_host hung (killed after 120 s); stdout:\n%s\nstderr:\n%s", r.out, r.err);
    cr_assert_eq(r.code, 0, "tls_pool_host exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    free(r.err);
    return r.out;
}

static void assert_ie_fixture(const char *name)
{
    cr_assert_gt(file_reloc_count(fixture(name), TPOFF_RELOC), 0, "%s has no initial-exec relocation", name);
}

Test(static_tls, go_library_runs_in_old_main_and_new_threads)
{
    assert_ie_fixture("tls/golib.so");
    const char *cmd[] = { "go", "tls/golib.so" };
    char *out = pool_host(cmd, 2);
    cr_assert_str_eq(out,
                     "go old thread: Add(40, 2) = 42, SumSquares(100) = 338350\n"
                     "go main thread: Add(40, 2) = 42, SumSquares(100) = 338350\n"
                     "go new thread: Add(40, 2) = 42, SumSquares(100) = 338350\n", "%s", out);
    free(out);
}

/* This process reserved no pool: the open fails, says how to reserve one and how much, and
 * leaves nothing behind. */
Test(static_tls, go_library_without_a_pool_is_refused_with_the_remedy)
{
    plugin_error err;
    const char *path = fixture("tls/golib.so");
    uint64_t memsz = 0;
    cr_assert(file_phdr(path, PT_TLS, NULL, &memsz));
    plugin_open(path, &err);                            /* warm-up */
    char *before = maps_snapshot();
    int fds = count_fds();
    cr_assert_null(plugin_open(path, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    char need[64];
    snprintf(need, sizeof need, "needs %llu bytes", (unsigned long long)memsz);
    cr_assert(strstr(err.message, path) && strstr(err.message, "initial-exec") && strstr(err.message, need) &&
              strstr(err.message, "reserved no static TLS pool") && strstr(err.message, "PLUGIN_STATIC_TLS_POOL(bytes)"),
              "%s", err.message);
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after);
    cr_assert_eq(fds, count_fds());
    free(before);
    free(after);
}

/* pool_ie.so's variable through initial-exec, __tls_get_addr and a TLS descriptor (from
 * pool_gd.so, which loads it) and plugin_lookup: one address per thread, zero at first, in a
 * thread older than the open too. */
Test(static_tls, every_access_model_agrees_in_old_main_and_new_threads)
{
    assert_ie_fixture("tls/pool_ie.so");
    cr_assert_gt(file_reloc_count(fixture("tls/pool_gd.so"), DTPMOD_RELOC), 0);
    cr_assert_gt(file_reloc_count(fixture("tls/pool_gd.so"), DESC_RELOC), 0);
    const char *cmd[] = { "ie", "tls/pool_gd.so" };
    char *out = pool_host(cmd, 2);
    cr_assert_str_eq(out,
                     "ie old thread: first 0 pad 0 own yes same address yes\n"
                     "ie main thread: first 0 pad 0 own yes same address yes\n"
                     "ie new thread: first 0 pad 0 own yes same address yes\n", "%s", out);
    free(out);
}

/* pool_undef.so carves 100 bytes, then fails (undefined symbol): four tries in a 256-byte pool
 * would run out unless each failed open gives its block back. */
Test(static_tls, a_failed_open_gives_its_block_back)
{
    assert_ie_fixture("tls/pool_undef.so");
    const char *cmd[] = { "open", "tls/pool_undef.so", "open", "tls/pool_undef.so", "open", "tls/pool_undef.so",
                          "open", "tls/pool_undef.so" };
    char *out = pool_host(cmd, 8);
    char want[4096] = "";
    for (int i = 0; i < 4; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "open: plugin: %s: undefined symbol pool_nobody_defines_this\n", fixture("tls/pool_undef.so"));
    cr_assert_str_eq(out, want);
    free(out);
    const char *then[] = { "open", "tls/pool_undef.so", "open", "tls/pool_undef.so", "ie", "tls/pool_gd.so" };
    out = pool_host(then, 6);
    cr_assert(strstr(out, "ie new thread: first 0 pad 0 own yes same address yes\n"), "%s", out);
    free(out);
}

Test(static_tls, a_block_larger_than_the_pool_is_refused_with_the_sizes)
{
    const char *cmd[] = { "ie", "tls/pool_gd.so", "open", "tls/pool_big.so", "open", "tls/pool_undef.so" };
    char *out = pool_host(cmd, 6);
    cr_assert(strstr(out, "needs 4096 bytes") && strstr(out, "more than the host's static TLS pool has free") &&
              strstr(out, " of 256 bytes)") && strstr(out, "PLUGIN_STATIC_TLS_POOL(bytes)"), "%s", out);
    cr_assert(strstr(out, "undefined symbol pool_nobody_defines_this\n"),    /* it got its 100 bytes */
              "the pool still serves after a refusal:\n%s", out);
    free(out);
}

/* tls_ie_own.so's variable starts at 1 (.tdata): the pool is zero in every thread, so it is
 * refused even by a host with room. */
Test(static_tls, a_nonzero_initial_image_is_refused_even_with_a_pool)
{
    assert_ie_fixture("tls/tls_ie_own.so");
    const char *cmd[] = { "open", "tls/tls_ie_own.so" };
    char *out = pool_host(cmd, 2);
    cr_assert(strstr(out, "initial image (4 bytes of .tdata) is not all zero") && strstr(out, "tls_ie_own.so"),
              "%s", out);
    free(out);
}

/* tls_default.so was loaded first, on its own: its block is dynamic and may be in use in any
 * thread, so pool_late_ie.so's initial-exec access to it cannot be served. */
Test(static_tls, a_module_already_in_dynamic_use_cannot_become_static)
{
    assert_ie_fixture("tls/pool_late_ie.so");
    const char *cmd[] = { "open", "tls/tls_default.so", "open", "tls/pool_late_ie.so" };
    char *out = pool_host(cmd, 4);
    cr_assert(strstr(out, "open: ok\nopen: plugin: ") && strstr(out, "pool_late_ie.so: ") &&
              strstr(out, "an earlier open loaded it with dynamic thread-local storage"), "%s", out);
    free(out);
}

/* libgomp.so.1 (a dependency the loader loads itself) keeps its thread state initial-exec; its
 * worker threads, created after the load, find it zeroed in the pool. */
Test(static_tls, libgomp_runs_a_parallel_loop_with_the_pool)
{
    const char *cmd[] = { "gomp", "tls/pool_gomp.so" };
    char *out = pool_host(cmd, 2);
    cr_assert_str_eq(out, "gomp: sum 500500 team 4\n");
    free(out);
    plugin_error err;
    cr_assert_null(plugin_open(fixture("tls/pool_gomp.so"), &err), "loaded without a pool?");
    cr_assert(strstr(err.message, "libgomp.so.1") && strstr(err.message, "PLUGIN_STATIC_TLS_POOL"), "%s", err.message);
}

/* ---- a pool registered by hand, in this test binary (each test runs in its own process) ---- */

static __thread unsigned char hand_pool[128] __attribute__((tls_model("initial-exec"), aligned(64)));

struct ie_api {
    long *(*ie_addr)(void), *(*gd_addr)(void), *(*alt_addr)(void);
    long (*ie_get)(void);
};

static void *addresses_agree(void *arg)
{
    const struct ie_api *a = arg;
    long *p = a->ie_addr();
    bool in_pool = (unsigned char *)p >= hand_pool && (unsigned char *)p < hand_pool + sizeof hand_pool;
    return (void *)(uintptr_t)(in_pool && p == a->gd_addr() && p == a->alt_addr() && a->ie_get() == 0);
}

Test(static_tls, a_pool_registered_by_hand_serves_initial_exec_plugins)
{
    plugin_error err;
    cr_assert_eq(plugin_static_tls_pool(hand_pool + 8, 64, &err), -1, "a misaligned pool was taken");
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT, "%s", err.message);
    hand_pool[100] = 1;
    cr_assert_eq(plugin_static_tls_pool(hand_pool, sizeof hand_pool, &err), -1, "a pool in use was taken");
    cr_assert(strstr(err.message, "not all zero"), "%s", err.message);
    hand_pool[100] = 0;
    cr_assert_eq(plugin_static_tls_pool(hand_pool, sizeof hand_pool, &err), 0, "%s", err.message);
    cr_assert_eq(plugin_static_tls_pool(hand_pool, sizeof hand_pool, &err), 0, "again: %s", err.message);
    cr_assert_eq(plugin_static_tls_pool(hand_pool + 64, 64, &err), -1, "an overlapping pool was taken");

    plugin *gd = open_fixture("tls/pool_gd.so"), *p = open_fixture("tls/pool_ie.so");
    struct ie_api a = { (long *(*)(void))must_lookup(p, "ie_addr"), (long *(*)(void))must_lookup(gd, "gd_addr"),
                        (long *(*)(void))must_lookup(gd, "alt_addr"), (long (*)(void))must_lookup(p, "ie_get") };
    cr_assert(addresses_agree(&a), "main thread: %p, pool %p", (void *)a.ie_addr(), (void *)hand_pool);
    *a.ie_addr() = 5;
    cr_assert_eq(a.ie_get(), 5);
    pthread_t t;
    void *ok;
    cr_assert_eq(pthread_create(&t, NULL, addresses_agree, &a), 0);
    pthread_join(t, &ok);
    cr_assert(ok, "another thread's address is not in its own pool, or not zero");
    cr_assert_eq(a.ie_get(), 5);
}

/* A heap buffer is not thread-local: registration cannot tell, the first use does. */
Test(static_tls, a_pool_outside_static_tls_is_refused_at_first_use)
{
    plugin_error err;
    unsigned char *heap = aligned_alloc(64, 256);
    memset(heap, 0, 256);
    cr_assert_eq(plugin_static_tls_pool(heap, 256, &err), 0, "%s", err.message);
    cr_assert_null(plugin_open(fixture("tls/pool_ie.so"), &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert(strstr(err.message, "is not in static TLS"), "%s", err.message);
}
