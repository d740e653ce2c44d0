/*
 * stress.c — many threads opening, looking up and calling into plugins at once, for
 * `make SANITIZE=thread test-stress` (mk/stress.mk): ThreadSanitizer watches the loader while
 * this program checks every answer it gets.
 *
 *     stress [SECONDS]        (default 20)
 *
 * The program runs rounds until SECONDS have passed (at least one). Each round is a child
 * process (a fresh loader: every file's first open is raced again) with 16 threads that start
 * together at a barrier and then each run a fixed number of steps chosen by a seeded generator
 * (the round's seed and the thread's number: a failure names them). A step is one of:
 *   - open a fixture file, under one of four spellings (absolute, with "/./", relative to the
 *     current directory, through a symlink): the handle must be the same as every other
 *     thread's for that file, and the fixture's own check must pass (values its functions
 *     return, its initializers' results);
 *   - open a fixture from memory (plugin_open_memory of the file's bytes): a new handle, never a
 *     file's, and the same check;
 *   - an open that must fail, each with its code and the file named in the message: a missing
 *     file, an object with an undefined symbol (from the file and from memory), garbage and a
 *     truncated object in memory; and that object from memory with a resolve callback that
 *     supplies the symbol (it loads);
 *   - look up and call into a handle opened by any thread (published to the others with a
 *     release store), with and without an error to fill; a name the object does not export;
 *   - plugin_addr_info of a function of a handle (that handle's path and the function's name),
 *     and of the host's plugin_open (the executable, by that name);
 *   - the thread-local variables of tls_default.so and tls_desc.so: set and read back through
 *     the plugin's functions and through plugin_lookup's address, which must be this thread's
 *     (after the round, no two threads may have had the same address).
 * Among the fixtures: stress/nested.so opens further plugins from its initializer (counter.so by
 * path, basic.so from memory), calling plugin_open through this executable's exports (-rdynamic);
 * ifunc.so (resolvers run at each lookup); scope/uniq_{a,b}.so (a unique symbol: one address in
 * the process, read from a table without a lock); tls/pool_ie.so (initial-exec thread-locals from
 * this program's static TLS pool); two Mach-O dylibs (imports bound to this executable, a
 * thread-local variable).
 *
 * Exit 0 when every round passed; otherwise each failure is printed and the exit code is 1
 * (ThreadSanitizer's reports make a round's child exit with its own code, 66 by default).
 */
#include "plugin.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must be defined by the build (mk/stress.mk)"
#endif

enum { NTHREADS = 16, STEPS = 400, MEMORY_OPENS = 4, MAX_HANDLES = 96 };

/* ---- what the nested fixture asks the host for (exported: the executable is -rdynamic) ---- */

static char *basic_image;
static size_t basic_size;

const char *stress_inner_path(void)
{
    return FIXTURE_DIR "/counter.so";
}

const void *stress_inner_image(size_t *size)
{
    *size = basic_size;
    return basic_image;
}

/* ---- failures: printed at once, counted, and the round fails ---- */

static int failures;            /* atomic */
static unsigned long round_seed;

static void fail(int thread, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stress: round seed %#lx, thread %d: %s\n", round_seed, thread, line);
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

/* ---- the fixtures and their checks ---- */

struct fixture;
typedef const char *check_fn(plugin *p, const struct fixture *f);

enum {
    MEMORY = 1,                 /* may be opened from memory too */
    ORIGIN = 2,                 /* finds its dependencies through $ORIGIN: never through the
                                 * symlink (another directory), from memory named by its path */
};

struct fixture {
    const char *name;           /* under FIXTURE_DIR */
    const char *fn;             /* an exported function, for plugin_addr_info */
    check_fn *check;            /* NULL when the handle answers as it should, else why not */
    unsigned flags;
    char *image;                /* the file's bytes */
    size_t size;
    plugin *handle;             /* the file's handle, once a thread has it (atomic) */
};

static void *sym(plugin *p, const char *name)
{
    return plugin_lookup(p, name, NULL);
}

/* Call an exported function through a pointer without a prototype: the arguments given are
 * exactly the parameters' types, so the call is well defined (C11 6.5.2.2p6). */
#define CALL(ret, p, name, ...) (((ret (*)())sym((p), (name)))(__VA_ARGS__))
#define NEED(p, name) do { if (!sym((p), (name))) return "missing " name; } while (0)

static const char *check_basic(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "add");
    NEED(p, "V");
    if (CALL(long, p, "add", 40L, 2L) != 42)
        return "add(40, 2) != 42";
    return sym(p, "hidden_fn") ? "hidden_fn is exported" : NULL;
}

static const char *check_counter(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "get_value");
    NEED(p, "init_count");
    if (*(int *)sym(p, "init_count") != 1)
        return "its initializer did not run exactly once";
    return CALL(int, p, "get_value") == 42 ? NULL : "get_value() != 42";
}

static const char *check_small(plugin *p, const struct fixture *f)
{
    if (!strcmp(f->name, "relr.so"))
        return sym(p, "relr_check") && CALL(int, p, "relr_check") == 0 ? NULL : "relr_check() != 0";
    if (!strcmp(f->name, "libc_user.so"))
        return sym(p, "length_of") && CALL(size_t, p, "length_of", (const char *)"four") == 4 ? NULL : "length_of";
    if (!strcmp(f->name, "relro.so"))
        return sym(p, "relro_call") && CALL(int, p, "relro_call", 1) == 2 ? NULL : "relro_call(1) != 2";
    if (!strcmp(f->name, "weak.so"))
        return sym(p, "weak_fn_address") && !CALL(void *, p, "weak_fn_address") ? NULL : "weak_fn_address";
    return "no check";
}

static const char *check_strings(plugin *p, const struct fixture *f)
{
    if (!strcmp(f->name, "initorder.so"))
        return sym(p, "init_order") && !strcmp(sym(p, "init_order"), "Iabcde") ? NULL : "init_order";
    if (!strcmp(f->name, "origin/origin_plugin.so"))      /* each memory copy adds a 'P' */
        return sym(p, "origin_value") && CALL(int, p, "origin_value", 2) == 7 &&
                       !strncmp(CALL(const char *, p, "origin_order"), "SP", 2) ? NULL : "origin_order";
    if (!strcmp(f->name, "deps/cycle/libcyc_a.so"))
        return sym(p, "cyc_sum") && CALL(int, p, "cyc_sum") == 4321 ? NULL : "cyc_sum() != 4321";
    return "no check";
}

static const char *check_tls(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "get_static");
    NEED(p, "zero_sum");
    if (CALL(int, p, "zero_sum") != 0)
        return "tv_zero is not zero-filled and aligned";
    return CALL(long, p, "get_static") == 11 ? NULL : "tv_static != 11 in a fresh thread block";
}

/* The nested fixture's initializer opened counter.so (the same handle as ours) and a memory
 * image of basic.so (its own). */
static const char *check_nested(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "nested_inner");
    if (CALL(int, p, "nested_inner_value") != 42 || CALL(int, p, "nested_inner_memory_sum") != 42) {
        static __thread char why[600];
        snprintf(why, sizeof why, "its initializer's opens failed: %s", CALL(const char *, p, "nested_failure"));
        return why;
    }
    plugin *inner = CALL(plugin *, p, "nested_inner");
    plugin_error err;
    if (plugin_open(stress_inner_path(), &err) != inner)
        return "its initializer got another handle for counter.so";
    return CALL(plugin *, p, "nested_inner_memory") == inner ? "memory image merged with a file" : NULL;
}

static const char *check_ifunc(plugin *p, const struct fixture *f)
{
    static const int v[5] = { 1, 2, 3, 4, 5 };
    (void)f;
    NEED(p, "ifunc_sum");
    NEED(p, "ifunc_sum_twice");
    NEED(p, "ifunc_scale");
    if (CALL(long, p, "ifunc_sum", v, 5L) != 15 || CALL(long, p, "ifunc_sum_twice", v, 5L) != 30)
        return "ifunc_sum";
    return CALL(int, p, "ifunc_scale", 5) == 15 ? NULL : "ifunc_scale(5) != 15";
}

/* uniq_counter (STB_GNU_UNIQUE) has one address in the process: in both fixtures, in their
 * dependency, in every memory copy, from plugin_lookup and from the code. */
static int *unique_address;     /* the first one seen (atomic) */

static const char *check_unique(plugin *p, const struct fixture *f)
{
    bool a = strstr(f->name, "uniq_a") != NULL;
    NEED(p, "uniq_counter");
    int *mine = CALL(int *, p, a ? "uniq_a_addr" : "uniq_b_addr");
    int *dep = CALL(int *, p, a ? "uniq_a_dep" : "uniq_b_dep");
    if (mine != dep || mine != sym(p, "uniq_counter"))
        return "uniq_counter has two addresses";
    int *first = NULL;
    if (!__atomic_compare_exchange_n(&unique_address, &first, mine, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
        first != mine)
        return "uniq_counter has another address than in an earlier open";
    return NULL;
}

/* A counter of this thread's own, written into the plugin's thread-local and read back. */
static __thread long tls_round;

/* pool_ie.so: initial-exec thread-locals, from the static TLS pool below. */
PLUGIN_STATIC_TLS_POOL(1024);

static const char *check_pool(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "ie_set");
    NEED(p, "pool_var");
    long v = ++tls_round;
    CALL(void, p, "ie_set", v);
    if (CALL(long, p, "ie_get") != v || CALL(long *, p, "ie_addr") != sym(p, "pool_var"))
        return "pool_var is not this thread's";
    return CALL(int, p, "ie_pad_sum") == 0 ? NULL : "pool_pad is not zero and aligned";
}

/* What the Mach-O fixture imports from the host (found in this executable's exports). */
int mh_host_add(int a, int b)
{
    return a + b;
}
int mh_host_array[128];

static const char *check_macho(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "fix_value");
    NEED(p, "fix_call_host");
    NEED(p, "fix_table_sum");
    if (*(int *)sym(p, "fix_value") != 42 || CALL(int, p, "fix_table_sum") != 6)
        return "fix_value or fix_table";
    return CALL(int, p, "fix_call_host", 5) == 1005 ? NULL : "fix_call_host(5) != 1005";
}

static const char *check_macho_tlv(plugin *p, const struct fixture *f)
{
    (void)f;
    NEED(p, "tv_set");
    NEED(p, "tv");
    int v = (int)++tls_round;
    CALL(void, p, "tv_set", v);
    if (CALL(int, p, "tv_get") != v || CALL(int, p, "tv_get_hidden") != v + 1)
        return "tv is not this thread's";
    return CALL(int *, p, "tv_addr") == sym(p, "tv") ? NULL : "plugin_lookup(tv) is not this thread's tv";
}

#if defined(__aarch64__)
#define MACHO_CPU "arm64"
#else
#define MACHO_CPU "x86_64"
#endif

static struct fixture fixtures[] = {
    { "basic.so", "add", check_basic, MEMORY, NULL, 0, NULL },
    { "counter.so", "get_value", check_counter, MEMORY, NULL, 0, NULL },
    { "relr.so", "relr_check", check_small, MEMORY, NULL, 0, NULL },
    { "libc_user.so", "length_of", check_small, MEMORY, NULL, 0, NULL },
    { "relro.so", "relro_call", check_small, MEMORY, NULL, 0, NULL },
    { "weak.so", "weak_fn_address", check_small, MEMORY, NULL, 0, NULL },
    { "initorder.so", NULL, check_strings, MEMORY, NULL, 0, NULL },
    { "origin/origin_plugin.so", "origin_order", check_strings, MEMORY | ORIGIN, NULL, 0, NULL },
    { "deps/cycle/libcyc_a.so", "cyc_sum", check_strings, ORIGIN, NULL, 0, NULL },
    { "tls/tls_default.so", "get_global", check_tls, MEMORY, NULL, 0, NULL },
    { "tls/tls_desc.so", "set_global", check_tls, MEMORY, NULL, 0, NULL },
    { "stress/nested.so", "nested_inner", check_nested, MEMORY, NULL, 0, NULL },
    { "ifunc.so", "ifunc_scale", check_ifunc, MEMORY, NULL, 0, NULL },
    { "scope/uniq_a.so", "uniq_a_addr", check_unique, MEMORY | ORIGIN, NULL, 0, NULL },
    { "scope/uniq_b.so", "uniq_b_addr", check_unique, MEMORY | ORIGIN, NULL, 0, NULL },
    { "tls/pool_ie.so", "ie_get", check_pool, 0, NULL, 0, NULL },
    { "macho/libfix.chained." MACHO_CPU ".dylib", "fix_call_host", check_macho, MEMORY, NULL, 0, NULL },
    { "macho/libtlv." MACHO_CPU ".dylib", "tv_get", check_macho_tlv, MEMORY, NULL, 0, NULL },
};
#define NFIXTURES (int)(sizeof fixtures / sizeof fixtures[0])
#define TLS_FIRST 9                 /* fixtures[9] and [10] have thread-locals */

static char *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* ---- one thread's state and its steps ---- */

struct thread {
    int id;
    uint64_t rng;
    pthread_barrier_t *barrier;
    plugin *mine[MAX_HANDLES];  /* handles this thread opened (files and memory images) */
    int fixture_of[MAX_HANDLES];
    int nmine, memory_opens;
    int *tls_addr[2];           /* this thread's tv_global in tls_default.so, tls_desc.so (files) */
    unsigned long opens, memory, refused, lookups, addrs, tls;
};

static char link_dir[64];       /* symlinks to the fixtures: the fourth spelling */
static char exe_path[4096];     /* the executable, as plugin_addr_info must name it */
static char *undef_image;
static size_t undef_size;

static uint64_t next(struct thread *t)
{
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return t->rng * 2685821657736338717ull;
}

static void remember(struct thread *t, plugin *p, int fi)
{
    if (t->nmine < MAX_HANDLES) {
        t->mine[t->nmine] = p;
        t->fixture_of[t->nmine++] = fi;
    }
}

/* The fixture's file under one of four spellings: absolute, with "/./" (or "//" for one that
 * finds its dependencies through $ORIGIN, which a symlink in another directory would change),
 * relative to the current directory (FIXTURE_DIR), through a symlink. */
static void spell(char *buf, size_t n, const struct fixture *f, int fi, unsigned how)
{
    switch (how % 4) {
    case 0: snprintf(buf, n, "%s/%s", FIXTURE_DIR, f->name); break;
    case 1: snprintf(buf, n, "%s/./%s", FIXTURE_DIR, f->name); break;
    case 2: snprintf(buf, n, "%s%s", how & 4 ? "./" : "", f->name); break;
    default:
        if (f->flags & ORIGIN)
            snprintf(buf, n, "%s//%s", FIXTURE_DIR, f->name);
        else
            snprintf(buf, n, "%s/link%d.so", link_dir, fi);
    }
}

static void run_check(struct thread *t, plugin *p, int fi, const char *how)
{
    const char *why = fixtures[fi].check(p, &fixtures[fi]);
    if (why)
        fail(t->id, "%s %s: %s", how, fixtures[fi].name, why);
}

static void open_file(struct thread *t, int fi)
{
    struct fixture *f = &fixtures[fi];
    char path[4200];
    plugin_error err;
    spell(path, sizeof path, f, fi, (unsigned)next(t));
    plugin *p = plugin_open(path, &err);
    t->opens++;
    if (!p || err.code != PLUGIN_OK || err.message[0]) {
        fail(t->id, "plugin_open(%s): %s", path, p ? "success with an error set" : err.message);
        return;
    }
    plugin *first = NULL;
    if (!__atomic_compare_exchange_n(&f->handle, &first, p, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
        first != p)
        fail(t->id, "plugin_open(%s): another handle than the first open's", path);
    run_check(t, p, fi, path);
    remember(t, p, fi);
}

static void open_memory(struct thread *t, int fi)
{
    struct fixture *f = &fixtures[fi];
    if (!(f->flags & MEMORY) || t->memory_opens >= MEMORY_OPENS) {
        open_file(t, fi);
        return;
    }
    char name[4200];
    plugin_error err;
    /* Named by its path when its dependencies are found through $ORIGIN. */
    if (f->flags & ORIGIN)
        snprintf(name, sizeof name, "%s/%s", FIXTURE_DIR, f->name);
    else
        snprintf(name, sizeof name, "mem:%s", f->name);
    plugin *p = plugin_open_memory(f->image, f->size, name, NULL, &err);
    t->memory++, t->memory_opens++;
    if (!p) {
        fail(t->id, "plugin_open_memory(%s): %s", name, err.message);
        return;
    }
    if (p == __atomic_load_n(&f->handle, __ATOMIC_ACQUIRE))
        fail(t->id, "plugin_open_memory(%s) returned the file's handle", name);
    for (int i = 0; i < t->nmine; i++)
        if (t->mine[i] == p)
            fail(t->id, "plugin_open_memory(%s) returned an earlier handle", name);
    run_check(t, p, fi, name);
    remember(t, p, fi);
}

/* One open that must fail with code, its message naming what. */
static void expect_refused(struct thread *t, plugin *p, const plugin_error *err, enum plugin_errc code,
                           const char *what, const char *label)
{
    t->refused++;
    if (p)
        fail(t->id, "%s: opened", label);
    else if (err->code != code || !strstr(err->message, what))
        fail(t->id, "%s: code %d (want %d), message \"%s\" (want it to name %s)", label, err->code,
             code, err->message, what);
}

static void open_refused(struct thread *t, unsigned which)
{
    static const char garbage[] = "this is not an object file, only text that looks like none\n";
    plugin_error err;
    plugin *p;
    switch (which % 5) {
    case 0:
        p = plugin_open(FIXTURE_DIR "/stress/absent.so", &err);
        expect_refused(t, p, &err, PLUGIN_ERR_IO, "absent.so", "a missing file");
        break;
    case 1:
        p = plugin_open(FIXTURE_DIR "/undef.so", &err);
        expect_refused(t, p, &err, PLUGIN_ERR_UNDEFINED, "plugin_test_absent_strong", "undef.so");
        break;
    case 2:
        p = plugin_open_memory(undef_image, undef_size, "mem:undef.so", NULL, &err);
        expect_refused(t, p, &err, PLUGIN_ERR_UNDEFINED, "mem:undef.so", "undef.so from memory");
        break;
    case 3:
        p = plugin_open_memory(garbage, sizeof garbage, "mem:garbage", NULL, &err);
        expect_refused(t, p, &err, PLUGIN_ERR_FORMAT, "mem:garbage", "garbage from memory");
        break;
    default:                    /* the ELF header alone: its program headers are past the end */
        p = plugin_open_memory(basic_image, 64, "mem:truncated", NULL, &err);
        expect_refused(t, p, &err, PLUGIN_ERR_FORMAT, "mem:truncated", "a truncated object");
    }
}

/* undef.so from memory with a resolve callback that supplies its missing function: it loads. */
static int twice_plus(int x)
{
    return 2 * x;
}

static void *resolve_absent(void *ctx, const char *name, const char *version)
{
    (void)version;
    __atomic_add_fetch((unsigned long *)ctx, 1, __ATOMIC_RELAXED);
    return strcmp(name, "plugin_test_absent_strong") ? NULL : (void *)twice_plus;
}

static void open_with_resolve(struct thread *t)
{
    unsigned long asked = 0;
    struct plugin_options opts = { .resolve = resolve_absent, .resolve_ctx = &asked };
    plugin_error err;
    if (t->memory_opens >= MEMORY_OPENS)
        return;
    t->memory++, t->memory_opens++;
    plugin *p = plugin_open_memory(undef_image, undef_size, "mem:undef.so+resolve", &opts, &err);
    if (!p)
        fail(t->id, "undef.so from memory with resolve: %s", err.message);
    else if (!asked || !sym(p, "call_absent") || CALL(int, p, "call_absent", 20) != 41)
        fail(t->id, "undef.so with resolve: call_absent(20) is not 41 (resolve asked %lu times)", asked);
}

/* A handle to work on: one published by any thread (acquire: the opener's release), or one of
 * this thread's own. -1 when there is none yet. */
static int pick_handle(struct thread *t, plugin **p)
{
    if (next(t) & 1) {
        int fi = (int)(next(t) % NFIXTURES);
        if ((*p = __atomic_load_n(&fixtures[fi].handle, __ATOMIC_ACQUIRE)))
            return fi;
    }
    if (!t->nmine)
        return -1;
    int k = (int)(next(t) % (unsigned)t->nmine);
    *p = t->mine[k];
    return t->fixture_of[k];
}

static void lookup_and_call(struct thread *t)
{
    plugin *p;
    int fi = pick_handle(t, &p);
    if (fi < 0)
        return;
    const struct fixture *f = &fixtures[fi];
    plugin_error err;
    t->lookups++;
    if (f->fn) {
        void *quick = plugin_lookup(p, f->fn, NULL), *full = plugin_lookup(p, f->fn, &err);
        if (!quick || quick != full || err.code != PLUGIN_OK)
            fail(t->id, "%s: lookup of %s: %p, then %p (%s)", f->name, f->fn, quick, full, err.message);
    }
    void *absent = plugin_lookup(p, "stress_no_such_symbol", NULL);
    void *absent_err = plugin_lookup(p, "stress_no_such_symbol", &err);
    if (absent || absent_err || err.code != PLUGIN_ERR_NOT_FOUND)
        fail(t->id, "%s: a name it does not export was found (code %d)", f->name, err.code);
    run_check(t, p, fi, plugin_path(p));
}

/* plugin_addr_info of a function of a handle (that handle's path, that function), and of the
 * host's own plugin_open (this executable, by name: -rdynamic exports it). */
static void addr_info(struct thread *t)
{
    struct plugin_addr_info info;
    t->addrs++;
    if (plugin_addr_info((const void *)plugin_open, &info) != 1 || strcmp(info.path, exe_path) ||
        !info.symbol || strcmp(info.symbol, "plugin_open") || info.symbol_addr != (void *)plugin_open)
        fail(t->id, "plugin_addr_info(plugin_open): %s, %s", info.path ? info.path : "(no path)",
             info.symbol ? info.symbol : "(no symbol)");
    plugin *p;
    int fi = pick_handle(t, &p);
    if (fi < 0 || !fixtures[fi].fn)
        return;
    const char *fn = fixtures[fi].fn;
    void *a = plugin_lookup(p, fn, NULL);
    if (plugin_addr_info(a, &info) != 1 || strcmp(info.path, plugin_path(p)) || !info.symbol ||
        strcmp(info.symbol, fn) || info.symbol_addr != a)
        fail(t->id, "plugin_addr_info(%s in %s): %s, %s", fn, plugin_path(p),
             info.path ? info.path : "(no path)", info.symbol ? info.symbol : "(no symbol)");
}

/* tv_global of a TLS fixture, set and read back in this thread: the plugin's functions and
 * plugin_lookup's address must agree, and the address must stay this thread's. */
static void thread_locals(struct thread *t, int step)
{
    int k = (int)(next(t) & 1), fi = TLS_FIRST + k;
    plugin *p = __atomic_load_n(&fixtures[fi].handle, __ATOMIC_ACQUIRE);
    if (!p) {
        open_file(t, fi);
        return;
    }
    t->tls++;
    int v = t->id * 100000 + step;
    CALL(void, p, "set_global", v);
    int *a = plugin_lookup(p, "tv_global", NULL);
    if (!a || *a != v || CALL(int, p, "get_global") != v || CALL(int *, p, "addr_global") != a)
        fail(t->id, "%s: tv_global: set %d, read %d at %p (the plugin's own address %p)", fixtures[fi].name, v,
             a ? *a : -1, (void *)a, (void *)CALL(int *, p, "addr_global"));
    if (t->tls_addr[k] && t->tls_addr[k] != a)
        fail(t->id, "%s: tv_global moved from %p to %p", fixtures[fi].name, (void *)t->tls_addr[k], (void *)a);
    t->tls_addr[k] = a;
}

static void *thread_main(void *arg)
{
    struct thread *t = arg;
    pthread_barrier_wait(t->barrier);
    for (int step = 0; step < STEPS; step++) {
        unsigned r = (unsigned)(next(t) % 100);
        int fi = (int)(next(t) % NFIXTURES);
        if (r < 30)
            open_file(t, fi);
        else if (r < 40)
            open_memory(t, fi);
        else if (r < 46)
            open_refused(t, (unsigned)next(t));
        else if (r < 48)
            open_with_resolve(t);
        else if (r < 75)
            lookup_and_call(t);
        else if (r < 85)
            addr_info(t);
        else
            thread_locals(t, step);
    }
    /* Every thread alive until all are done: a block freed at a thread's exit could be given
     * to a later thread, and the addresses compared after the round are those of live ones. */
    pthread_barrier_wait(t->barrier);
    return NULL;
}

/* ---- one round: a child process ---- */

/* The files every round reads: each fixture's bytes (memory images), undef.so, and a directory
 * of symlinks to the fixtures. Before any thread starts. */
static int prepare(void)
{
    if (chdir(FIXTURE_DIR) != 0) {
        fprintf(stderr, "stress: %s: %s\n", FIXTURE_DIR, strerror(errno));
        return -1;
    }
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
    snprintf(link_dir, sizeof link_dir, "/tmp/plugin-stress-XXXXXX");
    if (!mkdtemp(link_dir))
        return fprintf(stderr, "stress: mkdtemp: %s\n", strerror(errno)), -1;
    for (int i = 0; i < NFIXTURES; i++) {
        char path[4200], link[128];
        snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, fixtures[i].name);
        snprintf(link, sizeof link, "%s/link%d.so", link_dir, i);
        if (!(fixtures[i].image = read_whole(path, &fixtures[i].size)) || symlink(path, link) != 0)
            return fprintf(stderr, "stress: %s: %s\n", path, strerror(errno)), -1;
    }
    basic_image = fixtures[0].image, basic_size = fixtures[0].size;
    if (!(undef_image = read_whole(FIXTURE_DIR "/undef.so", &undef_size)))
        return fprintf(stderr, "stress: undef.so: %s\n", strerror(errno)), -1;
    return 0;
}

static void remove_links(void)
{
    for (int i = 0; i < NFIXTURES; i++) {
        char link[128];
        snprintf(link, sizeof link, "%s/link%d.so", link_dir, i);
        unlink(link);
    }
    rmdir(link_dir);
}

/* After the threads: no two threads had the same tv_global; counts for the summary. */
static void after(struct thread *th, unsigned long sums[6])
{
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < NTHREADS; i++)
            for (int j = i + 1; j < NTHREADS; j++)
                if (th[i].tls_addr[k] && th[i].tls_addr[k] == th[j].tls_addr[k])
                    fail(j, "%s: tv_global at %p in threads %d and %d", fixtures[TLS_FIRST + k].name,
                         (void *)th[i].tls_addr[k], i, j);
    for (int i = 0; i < NTHREADS; i++) {
        sums[0] += th[i].opens, sums[1] += th[i].memory, sums[2] += th[i].refused;
        sums[3] += th[i].lookups, sums[4] += th[i].addrs, sums[5] += th[i].tls;
    }
}

static int run_round(unsigned long seed)
{
    static struct thread th[NTHREADS];
    pthread_t tid[NTHREADS];
    pthread_barrier_t barrier;
    unsigned long sums[6] = { 0 };
    round_seed = seed;
    if (prepare() != 0)
        return 2;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        th[i] = (struct thread){ .id = i, .rng = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i + 1, .barrier = &barrier };
        if (pthread_create(&tid[i], NULL, thread_main, &th[i]) != 0)
            return fprintf(stderr, "stress: pthread_create failed\n"), 2;
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(tid[i], NULL);
    after(th, sums);
    remove_links();
    printf("round %#lx: %lu opens, %lu from memory, %lu refused, %lu lookups, %lu addr_info, %lu TLS: %s\n",
           seed, sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rounds until the time is up: each in a child (fork before any thread exists here). */
int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 20.0, start = now();
    int rounds = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    do {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            return perror("stress: fork"), 1;
        if (pid == 0)
            exit(run_round(0x5eed0000ul + (unsigned long)rounds));
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "stress: round %d failed (%s %d)\n", rounds,
                    WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            failed++;
        }
        rounds++;
    } while (now() - start < budget && !failed);
    printf("stress: %d rounds of %d threads x %d steps in %.1f s: %s\n", rounds, NTHREADS, STEPS,
           now() - start, failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
