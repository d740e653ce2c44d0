/*
 * test_tls.c — ELF thread-local storage in loaded objects: every access model the compilers use
 * for -fPIC code, from 8 threads (including one that existed before the open), lookups of TLS
 * symbols per thread, a plugin reading the C library's errno both ways, and the refusal of
 * initial-exec TLS of a plugin's own variable in a host without a static TLS pool (the pool:
 * test_static_tls.c).
 */
#include "arch.h"
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTHREADS = 8 };

struct tls_api {
    plugin *p;
    int (*get_global)(void);
    void (*set_global)(int);
    long (*get_static)(void);
    void (*set_static)(long);
    int *(*addr_global)(void);
    int (*zero_sum)(void);
};

static struct tls_api open_tls(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "tls/%s", name);
    struct tls_api a = { .p = open_fixture(path) };
    a.get_global = (int (*)(void))must_lookup(a.p, "get_global");
    a.set_global = (void (*)(int))must_lookup(a.p, "set_global");
    a.get_static = (long (*)(void))must_lookup(a.p, "get_static");
    a.set_static = (void (*)(long))must_lookup(a.p, "set_static");
    a.addr_global = (int *(*)(void))must_lookup(a.p, "addr_global");
    a.zero_sum = (int (*)(void))must_lookup(a.p, "zero_sum");
    return a;
}

struct worker {
    const struct tls_api *a;
    pthread_barrier_t *all_set;
    long id;
    int ok_initial, ok_own, ok_lookup;
    int *addr;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    const struct tls_api *a = w->a;
    w->ok_initial = a->get_global() == 7 && a->get_static() == 11 && a->zero_sum() == 0;
    a->set_global((int)w->id);
    a->set_static(w->id * 1000);
    pthread_barrier_wait(w->all_set);               /* every thread wrote its own values */
    w->ok_own = a->get_global() == w->id && a->get_static() == w->id * 1000;
    w->addr = a->addr_global();
    w->ok_lookup = plugin_lookup(a->p, "tv_global", NULL) == (void *)w->addr;
    return NULL;
}

static void eight_threads(const char *fixture)
{
    struct tls_api a = open_tls(fixture);
    pthread_barrier_t b;
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    pthread_barrier_init(&b, NULL, NTHREADS);
    for (long i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){ &a, &b, i + 1, 0, 0, 0, NULL };
        cr_assert_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        cr_assert(w[i].ok_initial, "%s: thread %d did not start from the template", fixture, i);
        cr_assert(w[i].ok_own, "%s: thread %d lost its own values", fixture, i);
        cr_assert(w[i].ok_lookup, "%s: thread %d: plugin_lookup is not its own copy", fixture, i);
        for (int j = 0; j < i; j++)
            cr_assert_neq(w[i].addr, w[j].addr, "%s: threads %d and %d share a block", fixture, i, j);
    }
    cr_assert_eq(a.get_global(), 7, "%s: the main thread's copy changed", fixture);
    pthread_barrier_destroy(&b);
}

Test(tls, default_dialect_from_8_threads) { eight_threads("tls_default.so"); }
Test(tls, descriptors_from_8_threads) { eight_threads("tls_desc.so"); }
Test(tls, tls_get_addr_from_8_threads) { eight_threads("tls_trad.so"); }

/* The fixtures really use the relocations they stand for. */
Test(tls, fixtures_use_their_access_models)
{
    const struct arch *a = arch_native();
    cr_assert_gt(file_reloc_count(fixture("tls/tls_desc.so"), a->tls.desc), 0, "no TLSDESC relocation");
    cr_assert_gt(file_reloc_count(fixture("tls/tls_trad.so"), a->tls.dtpmod), 0, "no DTPMOD relocation");
    cr_assert_gt(file_reloc_count(fixture("tls/tls_host_ie.so"), a->tls.tpoff), 0, "no TPOFF relocation");
    cr_assert_gt(file_reloc_count(fixture("tls/tls_host_gd.so"), a->tls.dtpmod), 0, "no DTPMOD relocation");
}

/* A thread that exists before the open gets its block on its first access. */
struct early {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct tls_api *a;
    int initial, after;
};

static void *early_work(void *arg)
{
    struct early *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->a)
        pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    e->initial = e->a->get_global();
    e->a->set_global(99);
    e->after = e->a->get_global();
    return NULL;
}

Test(tls, thread_older_than_the_open)
{
    struct early e = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0 };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, early_work, &e), 0);
    struct tls_api a = open_tls("tls_default.so");
    pthread_mutex_lock(&e.mu);
    e.a = &a;
    pthread_cond_signal(&e.cv);
    pthread_mutex_unlock(&e.mu);
    pthread_join(th, NULL);
    cr_assert_eq(e.initial, 7);
    cr_assert_eq(e.after, 99);
    cr_assert_eq(a.get_global(), 7);
}

static void *errno_work(void *arg)
{
    int (**fns)(void) = arg;
    errno = 4321;
    static int results[2];
    results[0] = fns[0]();
    results[1] = fns[1]();
    return results;
}

/* glibc's errno, read by the plugin through initial-exec (libc is in static TLS) and through
 * __tls_get_addr with glibc's module id: both see this thread's errno. */
Test(tls, plugin_reads_the_c_librarys_thread_locals)
{
    int (*fns[2])(void) = { (int (*)(void))must_lookup(open_fixture("tls/tls_host_ie.so"), "read_errno"),
                            (int (*)(void))must_lookup(open_fixture("tls/tls_host_gd.so"), "read_errno") };
    errno = 1234;
    cr_assert_eq(fns[0](), 1234);
    cr_assert_eq(fns[1](), 1234);
    pthread_t th;
    int *r;
    cr_assert_eq(pthread_create(&th, NULL, errno_work, fns), 0);
    pthread_join(th, (void **)&r);
    cr_assert_eq(r[0], 4321, "initial-exec read %d in another thread", r[0]);
    cr_assert_eq(r[1], 4321, "general-dynamic read %d in another thread", r[1]);
}

Test(tls, initial_exec_for_its_own_variable_is_refused)
{
    plugin_error err;
    const char *path = fixture("tls/tls_ie_own.so");
    plugin_open(path, &err);                            /* warm-up */
    char *before = maps_snapshot();
    int fds = count_fds();
    cr_assert_null(plugin_open(path, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert(strstr(err.message, "initial-exec") && strstr(err.message, path), "%s", err.message);
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after);
    cr_assert_eq(fds, count_fds());
    free(before);
    free(after);
}
