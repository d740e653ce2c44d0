/*
 * musl_host.c — a -static executable built with musl-gcc (mk/musl.mk): the one kind of process
 * where no dlopen exists at all. It links build/musl/libplugin.a, libelf and zlib built for musl
 * (scripts/musl-libelf.sh), and loads plugins built with musl-gcc -shared -fPIC
 * (fixtures/musl/): one calling musl's functions, with initializers; one with general- and
 * local-dynamic thread-locals used from two threads; one with initial-exec thread-locals, served
 * from the pool this host reserves (PLUGIN_STATIC_TLS_POOL). Run by tests/core/test_musl.c,
 * which checks every line it prints.
 *
 *     musl_host GREET_PLUGIN TLS_PLUGIN STATIC_IE_PLUGIN
 *
 * There is no libc.so in the process: greet.so's imports are served by resolve() below, which
 * returns the host's own copies of musl's functions and variables (linked in statically because
 * their addresses are taken here) and host_log, and it prints which names resolve served. tls.so
 * is opened without a callback: its imports come from the executable's own symbol table
 * (.symtab of /proc/self/exe), as for a static glibc host. Names resolve does not provide go to
 * stderr: it is asked first for every undefined or exported name (a plugin's own exports then bind to
 * themselves), for the toolchain's weak references (__cxa_finalize, ...: they stay 0), and for
 * glibc's TLS helpers, which the loader looks for and a musl process does not have.
 */
#include "plugin.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void host_log(const char *what)
{
    printf("host_log: %s\n", what);
}

/* What the host gives plugins: musl's functions and its own, by name. */
static const struct {
    const char *name;
    void *addr;
} provided[] = {
    { "printf", (void *)printf },   { "snprintf", (void *)snprintf }, { "strlen", (void *)strlen },
    { "malloc", (void *)malloc },   { "free", (void *)free },         { "toupper", (void *)toupper },
    { "memcpy", (void *)memcpy },   { "memset", (void *)memset },     { "environ", (void *)&environ },
    { "host_log", (void *)host_log },
};

#define NPROVIDED (sizeof provided / sizeof provided[0])
static int served[NPROVIDED];       /* which names resolve has answered */

static void *resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;          /* musl has no symbol versions */
    for (size_t i = 0; i < NPROVIDED; i++)
        if (strcmp(name, provided[i].name) == 0) {
            served[i] = 1;
            return provided[i].addr;
        }
    fprintf(stderr, "resolve: %s not provided\n", name);
    return NULL;
}

static void *must_lookup(plugin *p, const char *name)
{
    plugin_error err;
    void *a = plugin_lookup(p, name, &err);
    if (!a) {
        printf("lookup %s: %s\n", name, err.message);
        exit(1);
    }
    return a;
}

static int greet_plugin(const char *path, const struct plugin_options *opts)
{
    plugin_error err;
    plugin *p = plugin_open_with(path, opts, &err);
    if (!p) {
        printf("open greet: %s\n", err.message);
        return 1;
    }
    printf("resolve served:");
    for (size_t i = 0; i < NPROVIDED; i++)
        if (served[i])
            printf(" %s", provided[i].name);
    printf("\n");
    printf("initializers ran: %s; given argc %d, argv %s, envp %s\n", (const char *)must_lookup(p, "greet_inits"),
           *(int *)must_lookup(p, "greet_argc"), *(int *)must_lookup(p, "greet_argv_null") ? "NULL" : "set",
           *(int *)must_lookup(p, "greet_envp_ok") ? "environ" : "other");
    int (*greet)(const char *) = (int (*)(const char *))must_lookup(p, "greet");
    char *(*shout)(const char *) = (char *(*)(const char *))must_lookup(p, "shout");
    int n = greet("musl host");
    printf("greet printed %d bytes\n", n);
    char *s = shout("musl");
    printf("shout: %s\n", s ? s : "(null)");
    free(s);                /* the plugin's malloc is the host's: the same heap */
    printf("same handle: %s\n", plugin_open(path, NULL) == p ? "yes" : "no");
    return 0;
}

/* The TLS plugin's functions, shared with the second thread. */
struct tls_api {
    plugin *p;
    int (*get)(void);
    void (*set)(int);
    int *(*addr)(void);
    long (*zero)(void);
    const char *(*tag)(const char *);
};

/* In a thread the plugin has never seen: its own block, from the template. */
static void *tls_thread(void *arg)
{
    const struct tls_api *t = arg;
    static char line[200];
    int first = t->get();
    long zero = t->zero();
    t->set(22);
    snprintf(line, sizeof line, "tls thread: %d, zero %ld, set 22 -> %d, lookup %s, tag %s, addr %p",
             first, zero, t->get(), plugin_lookup(t->p, "tls_counter", NULL) == t->addr() ? "agrees" : "differs",
             t->tag("thread"), (void *)t->addr());
    return line;
}

static int tls_plugin(const char *path, const struct plugin_options *opts)
{
    plugin_error err;
    struct tls_api t = { .p = plugin_open_with(path, opts, &err) };
    if (!t.p) {
        printf("open tls: %s\n", err.message);
        return 1;
    }
    t.get = (int (*)(void))must_lookup(t.p, "tls_get");
    t.set = (void (*)(int))must_lookup(t.p, "tls_set");
    t.addr = (int *(*)(void))must_lookup(t.p, "tls_addr");
    t.zero = (long (*)(void))must_lookup(t.p, "tls_zero_value");
    t.tag = (const char *(*)(const char *))must_lookup(t.p, "tls_tag");
    int *mine = must_lookup(t.p, "tls_counter");
    printf("tls main: %d (its initializer ran here), lookup %s, tag %s\n", t.get(),
           mine == t.addr() ? "agrees" : "differs", t.tag("main"));
    t.set(11);

    pthread_t th;
    void *line;
    if (pthread_create(&th, NULL, tls_thread, &t) != 0 || pthread_join(th, &line) != 0) {
        printf("pthread_create failed\n");
        return 1;
    }
    char *at = strstr(line, ", addr ");
    void *theirs = NULL;
    if (!at || sscanf(at, ", addr %p", &theirs) != 1)
        return printf("tls thread: %s\n", (char *)line), 1;
    *at = '\0';
    printf("%s\n", (char *)line);
    printf("tls blocks: %s\n", theirs != (void *)mine ? "one per thread" : "shared?!");
    printf("tls main again: %d, zero %ld, tag %s\n", t.get(), t.zero(), t.tag(NULL));
    return 0;
}

/* Static TLS for initial-exec plugins: musl lays out the executable's initial-exec TLS (this
 * pool) in every thread, and runs the constructor that registers it. */
PLUGIN_STATIC_TLS_POOL(256);

static void *bump_twice(void *fn)
{
    long (*bump)(void) = (long (*)(void))fn;
    bump();
    return (void *)bump();
}

static int static_tls_plugin(const char *path, const struct plugin_options *opts)
{
    plugin_error err;
    plugin *p = plugin_open_with(path, opts, &err);
    if (!p) {
        printf("open static_ie: %s\n", err.message);
        return 1;
    }
    long (*bump)(void) = (long (*)(void))must_lookup(p, "static_ie_bump");
    pthread_t th;
    void *other;
    long mine = bump();
    if (pthread_create(&th, NULL, bump_twice, (void *)bump) != 0 || pthread_join(th, &other) != 0) {
        printf("pthread_create failed\n");
        return 1;
    }
    printf("static tls: main %ld, new thread %ld, main again %ld\n", mine, (long)other, bump());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: musl_host GREET_PLUGIN TLS_PLUGIN STATIC_IE_PLUGIN\n");
        return 2;
    }
    struct plugin_options opts = { .resolve = resolve };
    if (greet_plugin(argv[1], &opts) != 0 || tls_plugin(argv[2], NULL) != 0 ||
        static_tls_plugin(argv[3], &opts) != 0)
        return 1;
    return 0;
}
