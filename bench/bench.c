/*
 * bench.c — plugin_open / plugin_lookup against glibc's dlopen(RTLD_NOW | RTLD_LOCAL) / dlsym.
 *
 * One run measures every case with both loaders under the same conditions and prints a table:
 * case, plugin ns, glibc ns, ratio (plugin / glibc). Timings are printed, never asserted.
 *
 *   cold open     Both loaders cache handles, so every cold open happens in a fresh child
 *                 process (fork; the child times exactly one open; median over COLD_RUNS
 *                 children). "first use": the open is the first call into the loader in that
 *                 process. "warm loader": the child first makes one throw-away call (plugin: a
 *                 failing plugin_open_memory, which lists the process's objects; glibc: dlopen(NULL)
 *                 and a dlsym), so only the cost of opening the file remains.
 *   reopen        plugin_open / dlopen of a path that is already open (cache hit), ns per call.
 *   lookup        plugin_lookup / dlsym of a defined and of a missing symbol, ns per call.
 *
 * Each loader opens its own copy of the small plugin (bench_plugin.so / bench_plugin_glibc.so,
 * same bytes, different files): plugin_open returns the system loader's object when glibc already
 * has the file, which would turn one side into the other. libz.so.1 must not already be in the
 * process: the benchmark links libelf and zlib statically (see mk/extra.mk) and checks this.
 *
 * usage: bench [DIR]   DIR holds bench_plugin.so and bench_plugin_glibc.so (default BENCH_DIR)
 * Tests and benchmarks may call dlopen, but only as an oracle to compare against.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_DIR
#define BENCH_DIR "build/bench"
#endif
#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#endif
#define LIBZ_PATH "/usr/lib/" MULTIARCH "/libz.so.1"

enum { COLD_RUNS = 31, REOPEN_ITERS = 200000, LOOKUP_ITERS = 1000000 };

/* One loader, seen through the same four operations. */
struct loader {
    const char *name;
    void *(*open)(const char *path);
    void *(*sym)(void *handle, const char *name);
    void (*warm)(void);
};

static volatile uintptr_t sink;     /* keeps results alive so no call is optimized away */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *plugin_open_path(const char *path)
{
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    if (!p)
        fprintf(stderr, "bench: %s\n", err.message);
    return p;
}

static void *plugin_sym(void *h, const char *name)
{
    return plugin_lookup(h, name, NULL);
}

static void plugin_warm(void)
{
    static const char not_elf[] = "not an object";    /* lists the host objects, then fails */
    sink += (uintptr_t)plugin_open_memory(not_elf, sizeof not_elf, "warm-up", NULL, NULL);
}

static void *glibc_open(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "bench: %s\n", dlerror());
    return h;
}

static void *glibc_sym(void *h, const char *name)
{
    return dlsym(h, name);
}

static void glibc_warm(void)
{
    void *self = dlopen(NULL, RTLD_NOW);
    sink += (uintptr_t)(self ? dlsym(self, "bench_no_such_symbol") : NULL);
}

static const struct loader PLUGIN = { "plugin", plugin_open_path, plugin_sym, plugin_warm };
static const struct loader GLIBC = { "glibc", glibc_open, glibc_sym, glibc_warm };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* In the child: (warm up,) time one open, check it with a lookup, send the time (-1: failed). */
static void cold_child(const struct loader *l, const char *path, const char *sym, bool warm, int fd)
{
    if (warm)
        l->warm();
    uint64_t t0 = now_ns();
    void *h = l->open(path);
    uint64_t t1 = now_ns();
    double ns = (h && l->sym(h, sym)) ? (double)(t1 - t0) : -1.0;
    ssize_t n = write(fd, &ns, sizeof ns);
    _exit(n == (ssize_t)sizeof ns ? 0 : 1);
}

/* Median time of one cold open, each in a fresh child; -1 when any child failed. */
static double cold_open(const struct loader *l, const char *path, const char *sym, bool warm)
{
    double t[COLD_RUNS];
    for (int i = 0; i < COLD_RUNS; i++) {
        int fds[2];
        if (pipe(fds) != 0)
            return -1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            cold_child(l, path, sym, warm, fds[1]);
        }
        close(fds[1]);
        int status = 0;
        bool got = pid > 0 && read(fds[0], &t[i], sizeof t[i]) == (ssize_t)sizeof t[i];
        close(fds[0]);
        if (pid > 0)
            waitpid(pid, &status, 0);
        if (!got || t[i] < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return -1;
    }
    qsort(t, COLD_RUNS, sizeof t[0], cmp_double);
    return t[COLD_RUNS / 2];
}

/* ns per open of a path the loader already has open. */
static double reopen(const struct loader *l, const char *path)
{
    if (!l->open(path))
        return -1;
    uint64_t t0 = now_ns();
    for (int i = 0; i < REOPEN_ITERS; i++)
        sink += (uintptr_t)l->open(path);
    return (double)(now_ns() - t0) / REOPEN_ITERS;
}

/* ns per lookup of name in the already open path (name may be missing). */
static double lookup(const struct loader *l, const char *path, const char *name)
{
    void *h = l->open(path);
    if (!h)
        return -1;
    uint64_t t0 = now_ns();
    for (int i = 0; i < LOOKUP_ITERS; i++)
        sink += (uintptr_t)l->sym(h, name);
    return (double)(now_ns() - t0) / LOOKUP_ITERS;
}

static void row(const char *what, double p, double g)
{
    char ratio[32] = "n/a";
    if (p > 0 && g > 0)
        snprintf(ratio, sizeof ratio, "%.2f", p / g);
    printf("%-48s %12.0f %12.0f %8s\n", what, p, g, ratio);
}

static int find_libz(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    return info->dlpi_name && strstr(info->dlpi_name, "libz.so") != NULL;
}

/* Cold opens: the small plugin and libz, first use of the loader and warm loader. */
static void cold_rows(const char *mine, const char *theirs)
{
    static const char *const label[2][2] = {
        { "cold open bench_plugin.so (first use)", "cold open bench_plugin.so (warm loader)" },
        { "cold open libz.so.1 (first use)", "cold open libz.so.1 (warm loader)" },
    };
    for (int warm = 0; warm < 2; warm++) {
        row(label[0][warm], cold_open(&PLUGIN, mine, "bench_add", warm),
            cold_open(&GLIBC, theirs, "bench_add", warm));
        row(label[1][warm], cold_open(&PLUGIN, LIBZ_PATH, "deflate", warm),
            cold_open(&GLIBC, LIBZ_PATH, "deflate", warm));
    }
}

/* Cache hits and lookups, in this process (libz: plugin maps its copy first, then glibc). */
static void warm_rows(const char *mine, const char *theirs)
{
    row("reopen bench_plugin.so (cache hit)", reopen(&PLUGIN, mine), reopen(&GLIBC, theirs));
    row("reopen libz.so.1 (cache hit)", reopen(&PLUGIN, LIBZ_PATH), reopen(&GLIBC, LIBZ_PATH));
    row("lookup bench_add in bench_plugin.so", lookup(&PLUGIN, mine, "bench_add"),
        lookup(&GLIBC, theirs, "bench_add"));
    row("lookup missing symbol in bench_plugin.so", lookup(&PLUGIN, mine, "bench_missing"),
        lookup(&GLIBC, theirs, "bench_missing"));
    row("lookup deflate in libz.so.1", lookup(&PLUGIN, LIBZ_PATH, "deflate"),
        lookup(&GLIBC, LIBZ_PATH, "deflate"));
    row("lookup missing symbol in libz.so.1", lookup(&PLUGIN, LIBZ_PATH, "bench_missing"),
        lookup(&GLIBC, LIBZ_PATH, "bench_missing"));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : BENCH_DIR;
    char mine[4096], theirs[4096];
    snprintf(mine, sizeof mine, "%s/bench_plugin.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_plugin_glibc.so", dir);
    if (access(mine, R_OK) || access(theirs, R_OK) || access(LIBZ_PATH, R_OK)) {
        fprintf(stderr, "bench: need %s, %s and %s\n", mine, theirs, LIBZ_PATH);
        return 1;
    }
    bool libz_loaded = dl_iterate_phdr(find_libz, NULL) != 0;
    printf("cold open: median of %d fresh processes; reopen: %d calls; lookup: %d calls\n",
           COLD_RUNS, REOPEN_ITERS, LOOKUP_ITERS);
    if (libz_loaded)
        printf("warning: libz.so.1 is already in this process: its cold open is a cache hit\n");
    printf("%-48s %12s %12s %8s\n", "case", "plugin ns", "glibc ns", "ratio");
    cold_rows(mine, theirs);
    warm_rows(mine, theirs);
    return 0;
}
