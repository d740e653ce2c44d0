/*
 * bench.c — plugin_open / plugin_lookup against glibc's dlopen(RTLD_NOW | RTLD_LOCAL) / dlsym.
 *
 * One run measures every case with both loaders under the same conditions and prints a table:
 * case, both medians, the ratio (plugin / glibc) and each side's spread (min..max); the same
 * results go to bench.csv and bench.json in the output directory (bench/plot.gp draws them).
 * Timings are printed, never asserted.
 *
 *   cold open     Both loaders cache handles, so every cold open happens in a fresh child
 *                 process (fork; the child times exactly one open, initializers included;
 *                 COLD_RUNS children, fewer for very large objects). "first use": the open is the
 *                 first call into the loader in that process. "warm loader": the child first opens
 *                 another copy of the small plugin with the same loader (bench_plugin_warm.so,
 *                 bench_plugin_glibc_warm.so), so the loader's code, its imports and its view of
 *                 the process are warm on both sides, and only the cost of opening the file remains.
 *   growth        cold opens (warm loader) of generated objects with 1k .. 1M relative and a tenth
 *                 as many symbolic relocations (bench/gen_relocs.sh): time against relocations.
 *   reopen        plugin_open / dlopen of an absolute path that is already open, ns per call.
 *   lookup        plugin_lookup / dlsym of a defined and of a missing symbol, ns per call.
 *   addr_info     plugin_addr_info / dladdr of an address inside a function of libcrypto.
 *   memory        bytes per loaded object: a fresh child opens 100 copies of the small plugin;
 *                 RSS (resident pages) and heap (mallinfo2) before and after, divided by 100.
 * Repeated measurements (reopen, lookup) run REPEATS times; the spread is over those.
 *
 * Each loader opens its own copy of every generated object (…so and …_glibc.so: same bytes,
 * different files): plugin_open returns the system loader's object when glibc already has the
 * file, which would turn one side into the other. System libraries (libz, libsqlite3, libcrypto,
 * the largest libLLVM) are opened by both from the same path, each in its own child. libz.so.1
 * must not already be in the process: the benchmark links libelf and zlib statically.
 *
 * usage: bench [DIR [OUT]]   DIR holds the benchmark's objects (default BENCH_DIR); OUT receives
 *                            bench.csv and bench.json (default DIR).
 * Tests and benchmarks may call dlopen, but only as an oracle to compare against.
 */
#include "plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <malloc.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#define LIBDIR "/usr/lib/" MULTIARCH

enum { PATH_BUF = PATH_MAX + 64 };     /* a directory of PATH_MAX and a file name */
enum { COLD_RUNS = 31, BIG_RUNS = 9, REPEATS = 7, REOPEN_ITERS = 100000, LOOKUP_ITERS = 500000, MAX_ROWS = 64 };

/* One loader, seen through the same three operations. */
struct loader {
    const char *name;
    void *(*open)(const char *path);
    void *(*sym)(void *handle, const char *name);
    void (*warm)(void);
};

struct stats {
    double median, min, max;    /* ns; median < 0: the case failed for this loader */
};

struct row {
    char what[96];
    const char *kind;           /* cold, growth, reopen, lookup */
    long relocs;                /* growth: relocations of the object, else 0 */
    struct stats p, g;
};

static struct row rows[MAX_ROWS];
static size_t nrows;
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

static char warm_plugin[PATH_MAX + 64], warm_glibc[PATH_MAX + 64];  /* set by main */

static void plugin_warm(void)
{
    sink += (uintptr_t)plugin_open_path(warm_plugin);
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
    sink += (uintptr_t)glibc_open(warm_glibc);
}

static const struct loader PLUGIN = { "plugin", plugin_open_path, plugin_sym, plugin_warm };
static const struct loader GLIBC = { "glibc", glibc_open, glibc_sym, glibc_warm };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct stats stats_of(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return (struct stats){ t[n / 2], t[0], t[n - 1] };
}

static const struct stats FAILED = { -1, -1, -1 };

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

/* One cold open in a fresh child: its time, or -1. */
static double cold_once(const struct loader *l, const char *path, const char *sym, bool warm)
{
    int fds[2];
    double t = -1;
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
    bool got = pid > 0 && read(fds[0], &t, sizeof t) == (ssize_t)sizeof t;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    return got && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

/* runs cold opens, alternating the loaders so both see the same machine state. */
static void cold_pair(struct row *r, const char *mine, const char *theirs, const char *sym, bool warm, int runs)
{
    double p[COLD_RUNS], g[COLD_RUNS];
    bool pok = true, gok = true;
    for (int i = 0; i < runs; i++) {
        p[i] = cold_once(&PLUGIN, mine, sym, warm);
        g[i] = cold_once(&GLIBC, theirs, sym, warm);
        pok = pok && p[i] >= 0;
        gok = gok && g[i] >= 0;
    }
    r->p = pok ? stats_of(p, runs) : FAILED;
    r->g = gok ? stats_of(g, runs) : FAILED;
}

/* ns per open of a path the loader already has open, REPEATS times. */
static struct stats reopen(const struct loader *l, const char *path)
{
    double t[REPEATS];
    if (!l->open(path))
        return FAILED;
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < REOPEN_ITERS; i++)
            sink += (uintptr_t)l->open(path);
        t[k] = (double)(now_ns() - t0) / REOPEN_ITERS;
    }
    return stats_of(t, REPEATS);
}

/* ns per lookup of name in the already open path (name may be missing), REPEATS times. */
static struct stats lookup(const struct loader *l, const char *path, const char *name)
{
    double t[REPEATS];
    void *h = l->open(path);
    if (!h)
        return FAILED;
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < LOOKUP_ITERS; i++)
            sink += (uintptr_t)l->sym(h, name);
        t[k] = (double)(now_ns() - t0) / LOOKUP_ITERS;
    }
    return stats_of(t, REPEATS);
}

/* ns per plugin_addr_info / dladdr of addr (an address inside a function of an open object). */
static struct stats addr_info(bool plugin_side, const void *addr)
{
    double t[REPEATS];
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < LOOKUP_ITERS / 10; i++) {
            if (plugin_side) {
                struct plugin_addr_info info;
                sink += (uintptr_t)plugin_addr_info(addr, &info) + (uintptr_t)info.symbol;
            } else {
                Dl_info info;
                sink += (uintptr_t)dladdr(addr, &info) + (uintptr_t)info.dli_sname;
            }
        }
        t[k] = (double)(now_ns() - t0) / (LOOKUP_ITERS / 10);
    }
    return stats_of(t, REPEATS);
}

enum { MEM_OBJECTS = 100 };

static long resident_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* In a fresh child: open MEM_OBJECTS copies (paths[i]); send the RSS and heap growth per object. */
static void memory_child(const struct loader *l, char paths[][PATH_MAX + 64], int fd)
{
    l->warm();
    long rss0 = resident_bytes();
    size_t heap0 = mallinfo2().uordblks;
    bool ok = true;
    for (int i = 0; i < MEM_OBJECTS && ok; i++)
        ok = l->open(paths[i]) != NULL;
    double r[2] = { (double)(resident_bytes() - rss0) / MEM_OBJECTS,
                    (double)(mallinfo2().uordblks - heap0) / MEM_OBJECTS };
    if (!ok)
        r[0] = r[1] = -1;
    _exit(write(fd, r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
}

static bool copy_file(const char *from, const char *to)
{
    static char buf[1 << 20];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    bool ok = in && out && n > 0 && n < sizeof buf && fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Bytes per object, RSS and heap, for one loader (copies made in dir, removed after). */
static bool memory_of(const struct loader *l, const char *dir, const char *tag, double out[2])
{
    static char paths[MEM_OBJECTS][PATH_MAX + 64];
    char src[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/bench_plugin.so", dir);
    for (int i = 0; i < MEM_OBJECTS; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/mem_%s_%d.so", dir, tag, i);
        if (!copy_file(src, paths[i]))
            return false;
    }
    int fds[2];
    bool got = false;
    if (pipe(fds) == 0) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            memory_child(l, paths, fds[1]);
        }
        close(fds[1]);
        got = pid > 0 && read(fds[0], out, 2 * sizeof *out) == (ssize_t)(2 * sizeof *out) && out[0] >= 0;
        close(fds[0]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < MEM_OBJECTS; i++)
        unlink(paths[i]);
    return got;
}

static struct row *add_row(const char *kind, long relocs, const char *fmt, const char *arg)
{
    if (nrows == MAX_ROWS)
        return NULL;
    struct row *r = &rows[nrows++];
    r->kind = kind;
    r->relocs = relocs;
    snprintf(r->what, sizeof r->what, fmt, arg);
    return r;
}

static int find_libz(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    return info->dlpi_name && strstr(info->dlpi_name, "libz.so") != NULL;
}

/* The largest libLLVM*.so* of the system library directory (the largest library there is,
 * usually), or NULL. */
static const char *largest_llvm(char *buf, size_t n)
{
    DIR *d = opendir(LIBDIR);
    off_t best = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        struct stat st;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", LIBDIR, e->d_name);
        if (strncmp(e->d_name, "libLLVM", 7) || !strstr(e->d_name, ".so") || lstat(path, &st) ||
            !S_ISREG(st.st_mode) || st.st_size <= best)
            continue;
        best = st.st_size;
        snprintf(buf, n, "%s", path);
    }
    if (d)
        closedir(d);
    return best ? buf : NULL;
}

/* Cold opens: the small plugin and libz (first use and warm loader), the generated object with
 * 200k + 20k relocations, real libraries, the largest library. */
static void cold_rows(const char *dir)
{
    char mine[PATH_BUF], theirs[PATH_BUF], big[PATH_BUF];
    snprintf(mine, sizeof mine, "%s/bench_plugin.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_plugin_glibc.so", dir);
    for (int warm = 0; warm < 2; warm++) {
        const char *how = warm ? "warm loader" : "first use";
        struct row *r = add_row("cold", 0, "cold open bench_plugin.so (%s)", how);
        cold_pair(r, mine, theirs, "bench_add", warm, COLD_RUNS);
        r = add_row("cold", 0, "cold open libz.so.1 (%s)", how);
        cold_pair(r, LIBDIR "/libz.so.1", LIBDIR "/libz.so.1", "deflate", warm, COLD_RUNS);
    }
    snprintf(mine, sizeof mine, "%s/bench_relocs_200000.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_relocs_200000_glibc.so", dir);
    cold_pair(add_row("cold", 220000, "cold open %s (200k relative, 20k symbolic)", "generated"), mine, theirs,
              "bench_relocs", true, COLD_RUNS);
    static const char *const libs[][2] = { { "libsqlite3.so.0", "sqlite3_open" }, { "libcrypto.so.3", "EVP_sha256" } };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        snprintf(mine, sizeof mine, "%s/%s", LIBDIR, libs[i][0]);
        if (access(mine, R_OK) == 0)
            cold_pair(add_row("cold", 0, "cold open %s (warm loader)", libs[i][0]), mine, mine, libs[i][1], true,
                      COLD_RUNS);
    }
    if (largest_llvm(big, sizeof big))
        cold_pair(add_row("cold", 0, "cold open %s (warm loader)", strrchr(big, '/') + 1), big, big,
                  "LLVMContextCreate", true, BIG_RUNS);
}

/* Open time against relocation count: generated objects, warm loader. */
static void growth_rows(const char *dir)
{
    static const long sizes[] = { 1000, 10000, 100000, 1000000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char mine[PATH_BUF], theirs[PATH_BUF], n[32];
        snprintf(mine, sizeof mine, "%s/bench_relocs_%ld.so", dir, sizes[i]);
        snprintf(theirs, sizeof theirs, "%s/bench_relocs_%ld_glibc.so", dir, sizes[i]);
        snprintf(n, sizeof n, "%ld", sizes[i]);
        struct row *r = add_row("growth", sizes[i] + sizes[i] / 10, "growth: %s relative + a tenth symbolic", n);
        cold_pair(r, mine, theirs, "bench_relocs", true, sizes[i] >= 1000000 ? BIG_RUNS : COLD_RUNS);
    }
}

/* Cache hits and lookups, in this process (libz: plugin maps its copy first, then glibc). */
static void warm_rows(const char *dir)
{
    char mine[PATH_BUF], theirs[PATH_BUF];
    snprintf(mine, sizeof mine, "%s/bench_plugin.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_plugin_glibc.so", dir);
    static const char *const z = LIBDIR "/libz.so.1", *const crypto = LIBDIR "/libcrypto.so.3";
    struct row *r = add_row("reopen", 0, "reopen %s (cache hit)", "bench_plugin.so");
    r->p = reopen(&PLUGIN, mine), r->g = reopen(&GLIBC, theirs);
    r = add_row("reopen", 0, "reopen %s (cache hit)", "libz.so.1");
    r->p = reopen(&PLUGIN, z), r->g = reopen(&GLIBC, z);
    static const char *const names[][3] = {
        { "bench_add", "bench_plugin.so", "hit" }, { "bench_missing", "bench_plugin.so", "miss" },
        { "deflate", "libz.so.1", "hit" }, { "bench_missing", "libz.so.1", "miss" },
        { "EVP_sha256", "libcrypto.so.3", "hit" }, { "bench_missing", "libcrypto.so.3", "miss" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *lib = names[i][1];
        bool plugin_file = !strcmp(lib, "bench_plugin.so");
        if (!plugin_file && !strcmp(lib, "libcrypto.so.3") && access(crypto, R_OK))
            continue;
        char label[64];
        snprintf(label, sizeof label, "%s %s", names[i][2], lib);
        r = add_row("lookup", 0, "lookup %s", label);
        r->p = lookup(&PLUGIN, plugin_file ? mine : !strcmp(lib, "libz.so.1") ? z : crypto, names[i][0]);
        r->g = lookup(&GLIBC, plugin_file ? theirs : !strcmp(lib, "libz.so.1") ? z : crypto, names[i][0]);
    }
    /* dladdr answers for glibc's copy, plugin_addr_info for ours: each loader's own object. */
    void *ours = access(crypto, R_OK) ? NULL : PLUGIN.sym(PLUGIN.open(crypto), "EVP_sha256");
    void *theirs_fn = access(crypto, R_OK) ? NULL : GLIBC.sym(GLIBC.open(crypto), "EVP_sha256");
    if (ours && theirs_fn) {
        r = add_row("addr_info", 0, "addr_info in %s (plugin_addr_info vs dladdr)", "libcrypto.so.3");
        r->p = addr_info(true, (const char *)ours + 4);
        r->g = addr_info(false, (const char *)theirs_fn + 4);
    }
}

/* Bookkeeping memory per loaded object (RSS and heap), 100 small plugins in a fresh child. */
static void memory_rows(const char *dir)
{
    double p[2], g[2];
    bool pok = memory_of(&PLUGIN, dir, "plugin", p), gok = memory_of(&GLIBC, dir, "glibc", g);
    static const char *const what[2] = { "memory per object: RSS bytes (100 small plugins)",
                                         "memory per object: heap bytes (100 small plugins)" };
    for (int k = 0; k < 2; k++) {
        struct row *r = add_row("memory", 0, "%s", what[k]);
        r->p = pok ? (struct stats){ p[k], p[k], p[k] } : FAILED;
        r->g = gok ? (struct stats){ g[k], g[k], g[k] } : FAILED;
    }
}

static double ratio(const struct row *r)
{
    return r->p.median > 0 && r->g.median > 0 ? r->p.median / r->g.median : -1;
}

static void print_table(void)
{
    printf("%-58s %11s %11s %7s   %-23s %s\n", "case", "plugin ns", "glibc ns", "ratio", "plugin min..max",
           "glibc min..max");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        char rt[16] = "n/a", ps[32], gs[32];
        if (ratio(r) > 0)
            snprintf(rt, sizeof rt, "%.2f", ratio(r));
        snprintf(ps, sizeof ps, "%.0f..%.0f", r->p.min, r->p.max);
        snprintf(gs, sizeof gs, "%.0f..%.0f", r->g.min, r->g.max);
        printf("%-58s %11.0f %11.0f %7s   %-23s %s\n", r->what, r->p.median, r->g.median, rt, ps, gs);
    }
}

static int write_files(const char *out)
{
    char path[PATH_BUF];
    snprintf(path, sizeof path, "%s/bench.csv", out);
    FILE *c = fopen(path, "w");
    snprintf(path, sizeof path, "%s/bench.json", out);
    FILE *j = fopen(path, "w");
    if (!c || !j) {
        fprintf(stderr, "bench: cannot write %s/bench.csv and bench.json\n", out);
        return 1;
    }
    fprintf(c, "case,kind,relocations,plugin_ns,plugin_min,plugin_max,glibc_ns,glibc_min,glibc_max,ratio\n");
    fprintf(j, "[\n");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        fprintf(c, "\"%s\",%s,%ld,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f\n", r->what, r->kind, r->relocs, r->p.median,
                r->p.min, r->p.max, r->g.median, r->g.min, r->g.max, ratio(r));
        fprintf(j, "  {\"case\": \"%s\", \"kind\": \"%s\", \"relocations\": %ld, \"plugin_ns\": %.0f, "
                   "\"plugin_min\": %.0f, \"plugin_max\": %.0f, \"glibc_ns\": %.0f, \"glibc_min\": %.0f, "
                   "\"glibc_max\": %.0f, \"ratio\": %.3f}%s\n",
                r->what, r->kind, r->relocs, r->p.median, r->p.min, r->p.max, r->g.median, r->g.min, r->g.max,
                ratio(r), i + 1 < nrows ? "," : "");
    }
    fprintf(j, "]\n");
    fclose(c);
    fclose(j);
    printf("results: %s/bench.csv, %s/bench.json\n", out, out);
    return 0;
}

int main(int argc, char **argv)
{
    char dir[PATH_MAX];
    const char *out = argc > 2 ? argv[2] : NULL;
    if (!realpath(argc > 1 ? argv[1] : BENCH_DIR, dir)) {     /* absolute: re-opens match by name */
        fprintf(stderr, "bench: no directory %s\n", argc > 1 ? argv[1] : BENCH_DIR);
        return 1;
    }
    snprintf(warm_plugin, sizeof warm_plugin, "%s/bench_plugin_warm.so", dir);
    snprintf(warm_glibc, sizeof warm_glibc, "%s/bench_plugin_glibc_warm.so", dir);
    if (dl_iterate_phdr(find_libz, NULL) != 0)
        printf("warning: libz.so.1 is already in this process: its cold open is a cache hit\n");
    printf("cold open: median of %d fresh processes (%d for the largest objects), both loaders alternating;\n"
           "reopen: %d calls, lookup: %d calls, each %d times (min..max over those)\n",
           COLD_RUNS, BIG_RUNS, REOPEN_ITERS, LOOKUP_ITERS, REPEATS);
    cold_rows(dir);
    growth_rows(dir);
    warm_rows(dir);
    memory_rows(dir);
    print_table();
    return write_files(out ? out : dir);
}
