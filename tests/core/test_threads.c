/*
 * test_threads.c — concurrent opens.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <pthread.h>
#include <string.h>

#define NTHREADS 16

struct job {
    pthread_barrier_t *barrier;
    const char *path;
    plugin *handle;
    plugin_error err;
    int init_count_seen;    /* counter.so's init_count right after plugin_open returned */
};

static void *open_after_barrier(void *arg)
{
    struct job *j = arg;
    pthread_barrier_wait(j->barrier);
    j->handle = plugin_open(j->path, &j->err);
    /* plugin_open returns once the initializers have finished, in every thread. */
    int *count = j->handle ? plugin_lookup(j->handle, "init_count", NULL) : NULL;
    j->init_count_seen = count ? *count : -1;
    return NULL;
}

static void run_jobs(struct job *jobs, int n)
{
    pthread_barrier_t barrier;
    pthread_t tid[64];
    cr_assert_leq(n, 64);
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        jobs[i].barrier = &barrier;
        cr_assert_eq(pthread_create(&tid[i], NULL, open_after_barrier, &jobs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&barrier);
}

Test(threads, sixteen_threads_open_the_same_plugin)
{
    struct job jobs[NTHREADS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < NTHREADS; i++)
        jobs[i].path = fixture("counter.so");
    run_jobs(jobs, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        cr_assert_not_null(jobs[i].handle, "thread %d: %s", i, jobs[i].err.message);
        cr_assert_eq(jobs[i].handle, jobs[0].handle, "thread %d got another handle", i);
        cr_assert_eq(jobs[i].init_count_seen, 1,
                     "thread %d: plugin_open returned with init_count %d", i,
                     jobs[i].init_count_seen);
    }
    plugin *p = jobs[0].handle;
    cr_assert_eq(*(int *)must_lookup(p, "init_count"), 1, "initializer ran %d times",
                 *(int *)must_lookup(p, "init_count"));
    int (*get)(void) = (int (*)(void))must_lookup(p, "get_value");
    cr_assert_eq(get(), 42);
}

/* Many threads, several fixtures (and one that fails) at once; each result checked after. */
static const char *const names[] = {
    "basic.so", "relr.so", "libc_user.so", "counter.so", "initorder.so",
    "origin/origin_plugin.so", "weak.so", "relro.so", "undef.so",
};
#define NNAMES (int)(sizeof names / sizeof names[0])
#define NJOBS 36

Test(threads, different_plugins_at_once)
{
    struct job jobs[NJOBS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < NJOBS; i++)
        jobs[i].path = fixture(names[i % NNAMES]);
    run_jobs(jobs, NJOBS);

    for (int i = 0; i < NJOBS; i++) {
        const char *name = names[i % NNAMES];
        if (strcmp(name, "undef.so") == 0) {
            cr_assert_null(jobs[i].handle);
            cr_assert_eq(jobs[i].err.code, PLUGIN_ERR_UNDEFINED, "%s: %s", name,
                         jobs[i].err.message);
            continue;
        }
        cr_assert_not_null(jobs[i].handle, "%s: %s", name, jobs[i].err.message);
        cr_assert_eq(jobs[i].handle, jobs[i % NNAMES].handle, "%s: two handles", name);
        for (int k = 0; k < NNAMES; k++)
            if (k != i % NNAMES && jobs[k].handle)
                cr_assert_neq(jobs[i].handle, jobs[k].handle, "%s and %s share a handle", name,
                              names[k]);
    }

    plugin *basic = jobs[0].handle, *relr = jobs[1].handle, *libc_user = jobs[2].handle;
    plugin *counter = jobs[3].handle, *init = jobs[4].handle, *origin = jobs[5].handle;
    plugin *weak = jobs[6].handle, *relro = jobs[7].handle;

    *(int *)must_lookup(basic, "V") = 5;
    cr_assert_eq(((int (*)(void))must_lookup(basic, "F"))(), 53);
    cr_assert_eq(((int (*)(void))must_lookup(relr, "relr_check"))(), 0);
    cr_assert_eq(((size_t (*)(const char *))must_lookup(libc_user, "length_of"))("four"), 4);
    cr_assert_eq(*(int *)must_lookup(counter, "init_count"), 1);
    cr_assert_str_eq(must_lookup(init, "init_order"), "Iabcde");
    cr_assert_str_eq(((const char *(*)(void))must_lookup(origin, "origin_order"))(), "SP");
    cr_assert_null(((void *(*)(void))must_lookup(weak, "weak_fn_address"))());
    cr_assert_eq(((int (*)(int))must_lookup(relro, "relro_call"))(1), 2);
}
