/*
 * static_host.c — a fully static executable (gcc -static, glibc) that loads a plugin. There is
 * no libc.so in this process: everything the plugin (fixtures/hostcall.c) uses, the host gives
 * through plugin_options.resolve. Run by tests/core/test_static.c; prints what happened.
 *
 *     static_host PLUGIN [IE_PLUGIN]
 *
 * IE_PLUGIN (fixtures/tls/static_ie.c) keeps a counter in initial-exec TLS: refused before the
 * host registers its static TLS pool by hand (plugin_static_tls_pool, no constructor involved),
 * loaded after, and counting separately in the main thread and in a new one.
 */
#include "plugin.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int add_calls;
static char notes[64];

int host_add(int a, int b)
{
    add_calls++;
    return a + b;
}

void host_note(const char *what)
{
    strncat(notes, what, sizeof notes - strlen(notes) - 1);
}

static void *resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;
    if (strcmp(name, "host_add") == 0)
        return (void *)host_add;
    if (strcmp(name, "host_note") == 0)
        return (void *)host_note;
    return NULL;
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

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: static_host PLUGIN [IE_PLUGIN]\n");
        return 2;
    }
    plugin_error err;

    /* Without resolve nothing defines host_add: the open must fail, and cleanly. */
    if (plugin_open(argv[1], &err) != NULL) {
        printf("without resolve: loaded?!\n");
        return 1;
    }
    printf("without resolve: %s\n", err.code == PLUGIN_ERR_UNDEFINED ? "undefined" : err.message);

    struct plugin_options opts = { .resolve = resolve };
    plugin *p = plugin_open_with(argv[1], &opts, &err);
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
    printf("inits=%d notes=%s add_calls=%d\n", *inits, notes, add_calls);
    printf("same handle: %s\n", plugin_open(argv[1], NULL) == p ? "yes" : "no");
    return argc == 3 ? static_tls(argv[2]) : 0;
}
