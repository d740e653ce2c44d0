/*
 * tls_pool_host.c — a host that reserves static TLS for its plugins (PLUGIN_STATIC_TLS_POOL, 256
 * bytes) and loads plugins whose own thread-locals are initial-exec. Run by
 * tests/elf/test_static_tls.c; it prints what it saw, one line per step, and the test compares.
 *
 *     tls_pool_host COMMAND PLUGIN [COMMAND PLUGIN ...]     (in order, in one process)
 *
 *   open PLUGIN   open it; print "open: ok" or the error message
 *   ie PLUGIN     pool_gd.so, then pool_ie.so beside it: pool_ie.so's variable through
 *                 initial-exec, both dynamic models and plugin_lookup, in a thread that existed
 *                 before the open, the main thread and a new thread: each sees 0 first, its
 *                 own value after, and one address
 *   go PLUGIN     the Go library: Add and SumSquares from the same three threads
 *   gomp PLUGIN   the OpenMP plugin: a parallel reduction over libgomp's worker threads
 *
 * A thread is started before the first command and waits; each command hands it work after the
 * open, so it shows that a thread older than the load sees a zero block at the right place.
 */
#include "plugin.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PLUGIN_STATIC_TLS_POOL(256);

/* The thread that is older than every open: runs one job at a time for main. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void (*job)(char *out);
static char job_out[256];
static int job_done;

static void *old_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!job)
            pthread_cond_wait(&cv, &mu);
        job(job_out);
        job = NULL;
        job_done = 1;
        pthread_cond_broadcast(&cv);
    }
    return NULL;
}

static void run_in_old_thread(void (*fn)(char *), char *out)
{
    pthread_mutex_lock(&mu);
    job_done = 0;
    job = fn;
    pthread_cond_broadcast(&cv);
    while (!job_done)
        pthread_cond_wait(&cv, &mu);
    strcpy(out, job_out);
    pthread_mutex_unlock(&mu);
}

static void *new_thread(void *arg)
{
    void (*fn)(char *) = *(void (**)(char *))arg;
    static char out[256];
    fn(out);
    return out;
}

static void run_in_new_thread(void (*fn)(char *), char *out)
{
    pthread_t t;
    char *r;
    pthread_create(&t, NULL, new_thread, &fn);
    pthread_join(t, (void **)&r);
    strcpy(out, r);
}

/* Run fn in the old thread, the main thread and a new thread; print one line for each. */
static void in_three_threads(const char *what, void (*fn)(char *))
{
    char out[256];
    run_in_old_thread(fn, out);
    printf("%s old thread: %s\n", what, out);
    fn(out);
    printf("%s main thread: %s\n", what, out);
    run_in_new_thread(fn, out);
    printf("%s new thread: %s\n", what, out);
}

static plugin *open_plugin(const char *path)
{
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    if (!p)
        printf("open: %s\n", err.message);
    return p;
}

static void *sym(plugin *p, const char *name)
{
    plugin_error err;
    void *a = plugin_lookup(p, name, &err);
    if (!a) {
        printf("lookup: %s\n", err.message);
        exit(1);
    }
    return a;
}

/* ---- ie: pool_ie.so ---- */
static long (*ie_get)(void);
static void (*ie_set)(long);
static long *(*ie_addr)(void), *(*gd_addr)(void), *(*alt_addr)(void);
static int (*ie_pad_sum)(void);
static plugin *ie_plugin;

static void ie_job(char *out)
{
    long first = ie_get(), mine = (long)(uintptr_t)out & 0xffff;
    int pad = ie_pad_sum();
    ie_set(mine);
    long *a = ie_addr();
    long *look = sym(ie_plugin, "pool_var");
    int same = a == gd_addr() && a == alt_addr() && a == look;
    sprintf(out, "first %ld pad %d own %s same address %s", first, pad, ie_get() == mine && *look == mine ? "yes" : "no",
            same ? "yes" : "no");
}

/* p is pool_gd.so: it loads pool_ie.so (its dependency) in the same open, so pool_ie.so's
 * block becomes static while pool_gd.so's dynamic relocations against it are applied. */
static void cmd_ie(plugin *p, const char *path)
{
    char sibling[4096];
    const char *slash = strrchr(path, '/');
    snprintf(sibling, sizeof sibling, "%.*spool_ie.so", slash ? (int)(slash - path + 1) : 0, path);
    plugin *ie = open_plugin(sibling);
    if (!ie)
        return;
    ie_plugin = ie;
    ie_get = (long (*)(void))sym(ie, "ie_get");
    ie_set = (void (*)(long))sym(ie, "ie_set");
    ie_addr = (long *(*)(void))sym(ie, "ie_addr");
    ie_pad_sum = (int (*)(void))sym(ie, "ie_pad_sum");
    gd_addr = (long *(*)(void))sym(p, "gd_addr");
    alt_addr = (long *(*)(void))sym(p, "alt_addr");
    in_three_threads("ie", ie_job);
}

/* ---- go: the Go c-shared library ---- */
static long (*go_add)(long, long), (*go_sum_squares)(long);

static void go_job(char *out)
{
    sprintf(out, "Add(40, 2) = %ld, SumSquares(100) = %ld", go_add(40, 2), go_sum_squares(100));
}

static void cmd_go(plugin *p)
{
    go_add = (long (*)(long, long))sym(p, "Add");
    go_sum_squares = (long (*)(long))sym(p, "SumSquares");
    in_three_threads("go", go_job);
}

/* ---- gomp: the OpenMP plugin ---- */
static void cmd_gomp(plugin *p)
{
    long (*sum)(long) = (long (*)(long))sym(p, "gomp_sum");
    int (*team)(void) = (int (*)(void))sym(p, "gomp_team_size");
    printf("gomp: sum %ld team %d\n", sum(1000), team());
}

int main(int argc, char **argv)
{
    pthread_t old;
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: tls_pool_host COMMAND PLUGIN [COMMAND PLUGIN ...]\n");
        return 2;
    }
    pthread_create(&old, NULL, old_thread, NULL);
    for (int i = 1; i + 1 < argc; i += 2) {
        plugin *p = open_plugin(argv[i + 1]);
        if (!p)
            continue;
        if (strcmp(argv[i], "open") == 0)
            printf("open: ok\n");
        else if (strcmp(argv[i], "ie") == 0)
            cmd_ie(p, argv[i + 1]);
        else if (strcmp(argv[i], "go") == 0)
            cmd_go(p);
        else if (strcmp(argv[i], "gomp") == 0)
            cmd_gomp(p);
        else
            return 2;
    }
    fflush(stdout);
    return 0;
}
