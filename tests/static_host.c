/*
 * static_host.c — a fully static executable (gcc -static, glibc) that loads plugins. There is
 * no libc.so in this process: a plugin's imports come from the resolve callback, the exports the
 * host registered, or the executable's own symbol table (.symtab). Run by
 * tests/core/test_static.c (also a stripped copy of it); prints what happened.
 *
 *     static_host callback HOSTCALL [IE_PLUGIN]
 *         fixtures/hostcall.c (-nostdlib) with a resolve callback that supplies host_add (the
 *         callback wins over .symtab, which has host_add too) and not host_note (which then comes
 *         from .symtab). IE_PLUGIN (fixtures/tls/static_ie.c) keeps a counter in initial-exec TLS:
 *         refused before the host registers its static TLS pool by hand (plugin_static_tls_pool,
 *         no constructor involved), loaded after, and counting separately in two threads.
 *     static_host symtab STATIC_LIBC
 *         fixtures/static_libc.c, an ordinary glibc plugin, with no callback: libc and the host
 *         from .symtab. Prints how the IFUNCs were bound (the trace).
 *     static_host exports STATIC_LIBC
 *         the same without .symtab (run on a stripped copy): the open fails naming a symbol,
 *         then the host registers its exports and the open works.
 */
#include "plugin.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_counter;                   /* the plugin increments it: found in .symtab, or exported */
static int add_calls, callback_add_calls;
static char notes[64];

/* PLUGIN_EXPORTS' constructor registers host_counter before main: so, stripped, the first
 * failure names another symbol, and the plugin's increments land here. */
PLUGIN_EXPORTS(early_exports, PLUGIN_EXPORT(host_counter));

/* An IFUNC of the host that the host never calls (so no IRELATIVE relocation, no PLT entry):
 * a plugin that imports it gets what its resolver returns, the resolver called then. */
static int resolver_calls;

static int ifunc_answer(void)
{
    return 42;
}

static int (*host_ifunc_resolver(void))(void)
{
    resolver_calls++;
    return ifunc_answer;
}

int host_ifunc(void) __attribute__((ifunc("host_ifunc_resolver")));

int host_add(int a, int b)
{
    add_calls++;
    return a + b;
}

void host_note(const char *what)
{
    strncat(notes, what, sizeof notes - strlen(notes) - 1);
}

static int callback_add(int a, int b)
{
    callback_add_calls++;
    return a + b;
}

static void *resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;
    return strcmp(name, "host_add") == 0 ? (void *)callback_add : NULL;
}

static __thread unsigned char tls_pool[128] __attribute__((tls_model("initial-exec"), aligned(64)));

static void *bump_twice(void *fn)
{
    long (*bump)(void) = (long (*)(void))fn;
    bump();
    return (void *)bump();
}

static int static_tls(const char *path)
{
    plugin_error err;
    if (plugin_open(path, &err) || !strstr(err.message, "PLUGIN_STATIC_TLS_POOL")) {
        printf("without a pool: %s\n", err.message);
        return 1;
    }
    printf("without a pool: refused\n");
    if (plugin_static_tls_pool(tls_pool, sizeof tls_pool, &err) != 0) {
        printf("pool: %s\n", err.message);
        return 1;
    }
    plugin *p = plugin_open(path, &err);
    long (*bump)(void) = p ? (long (*)(void))plugin_lookup(p, "static_ie_bump", &err) : NULL;
    if (!bump) {
        printf("with a pool: %s\n", err.message);
        return 1;
    }
    pthread_t t;
    void *other;
    long mine = bump();
    pthread_create(&t, NULL, bump_twice, (void *)bump);
    pthread_join(t, &other);
    printf("with a pool: main %ld, new thread %ld, main again %ld\n", mine, (long)other, bump());
    return 0;
}

static int with_callback(int argc, char **argv)
{
    plugin_error err;
    struct plugin_options opts = { .resolve = resolve };
    plugin *p = plugin_open_with(argv[2], &opts, &err);
    if (!p) {
        printf("open: %s\n", err.message);
        return 1;
    }
    int (*compute)(int) = (int (*)(int))plugin_lookup(p, "compute", &err);
    int *inits = plugin_lookup(p, "hostcall_inits", &err);
    if (!compute || !inits) {
        printf("lookup: %s\n", err.message);
        return 1;
    }
    printf("compute(5)=%d\n", compute(5));
    printf("compute(-10)=%d\n", compute(-10));
    printf("inits=%d notes=%s callback_add_calls=%d add_calls=%d\n", *inits, notes, callback_add_calls, add_calls);
    printf("same handle: %s\n", plugin_open(argv[2], NULL) == p ? "yes" : "no");
    return argc == 4 ? static_tls(argv[3]) : 0;
}

/* The trace lines about the executable's symbol table and the IFUNCs bound from it. */
static void keep_trace(void *ctx, const struct plugin_trace_event *ev)
{
    (void)ctx;
    const char *line = ev->text;
    if (strstr(line, "symbol table") && (strstr(line, "executable") || strstr(line, "bound str") ||
                                         strstr(line, "bound memcpy")))
        printf("trace: %s\n", strstr(line, "bound ") ? strstr(line, "bound ") : line);
    else if (strstr(line, "IFUNC of the executable"))
        printf("trace: %s\n", line);
}

/* Call what static_libc.so exports, each result checked against what the host computes. */
static int use_static_libc(plugin *p)
{
    plugin_error err;
    char *(*describe)(int, int) = (char *(*)(int, int))plugin_lookup(p, "static_libc_describe", &err);
    long (*index_of)(const char *, int) = (long (*)(const char *, int))plugin_lookup(p, "static_libc_index", &err);
    void (*pfree)(void *) = (void (*)(void *))plugin_lookup(p, "static_libc_free", &err);
    int (*perrno)(const char *) = (int (*)(const char *))plugin_lookup(p, "static_libc_errno", &err);
    if (!describe || !index_of || !pfree || !perrno) {
        printf("lookup: %s\n", err.message);
        return 1;
    }
    char *s = describe(2, 3);
    printf("describe: %s (add_calls %d, host_counter %d)\n", s ? s : "(null)", add_calls, host_counter);
    free(s);                                        /* the plugin's malloc, the host's free */
    char *mine = malloc(32);
    pfree(mine);                                    /* and the reverse */
    printf("index: %ld %ld\n", index_of("static", 't'), index_of("static", 'z'));
    errno = 0;
    int seen = perrno("99999999999999999999999");
    printf("errno: plugin saw %s, host sees %s\n", seen == ERANGE ? "ERANGE" : "other",
           errno == EDOM ? "EDOM" : "other");
    int (*ifunc)(void) = (int (*)(void))plugin_lookup(p, "static_libc_ifunc", &err);
    int answer = ifunc ? ifunc() : -1;
    printf("host ifunc: %d, resolver calls %d\n", answer, resolver_calls);
    return 0;
}

static int from_symtab(const char *path)
{
    plugin_error err;
    struct plugin_options opts = { .trace = keep_trace };
    plugin *p = plugin_open_with(path, &opts, &err);
    if (!p) {
        printf("open: %s\n", err.message);
        return 1;
    }
    return use_static_libc(p);
}

/* Stripped: nothing but what the host registers. strlen & co. are IFUNCs: their address here is
 * the executable's own PLT entry, which jumps to the implementation its startup chose. */
static const struct plugin_export libc_exports[] = {
    PLUGIN_EXPORT(snprintf), PLUGIN_EXPORT(strlen), PLUGIN_EXPORT(memcpy), PLUGIN_EXPORT(strchr),
    PLUGIN_EXPORT(malloc), PLUGIN_EXPORT(free), PLUGIN_EXPORT(strtol), PLUGIN_EXPORT(__errno_location),
    PLUGIN_EXPORT(host_add), { "host_ifunc", (void *)ifunc_answer },
};

static int from_exports(const char *path)
{
    plugin_error err;
    if (plugin_open(path, &err)) {
        printf("without exports: loaded?!\n");
        return 1;
    }
    printf("without exports: %s: %s\n", plugin_strerror(err.code), err.message);
    if (plugin_register_exports(libc_exports, sizeof libc_exports / sizeof libc_exports[0], &err)) {
        printf("register: %s\n", err.message);
        return 1;
    }
    plugin *p = plugin_open(path, &err);
    if (!p) {
        printf("open: %s\n", err.message);
        return 1;
    }
    return use_static_libc(p);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "callback") == 0 && argc <= 4)
        return with_callback(argc, argv);
    if (argc == 3 && strcmp(argv[1], "symtab") == 0)
        return from_symtab(argv[2]);
    if (argc == 3 && strcmp(argv[1], "exports") == 0)
        return from_exports(argv[2]);
    fprintf(stderr, "usage: static_host callback HOSTCALL [IE_PLUGIN] | symtab PLUGIN | exports PLUGIN\n");
    return 2;
}
