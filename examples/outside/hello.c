/*
 * hello.c — a program built outside this source tree, against an installed libplugin: it
 * includes only <plugin.h> and gets its flags from pkg-config (see the Makefile next to it).
 *
 *     hello PLUGIN.so NAME
 *
 * Prints the library's version, opens the plugin, calls greet(buf, size, NAME) and prints what
 * it wrote and the plugin's call counter. The same source serves a dynamic and a -static build:
 * a static program has no libc.so.6 for the plugin's imports to bind to, so it hands the
 * plugin its own snprintf through the resolve callback (a dynamic one does too; there the
 * process's libc would have served anyway). Exit status 0, or 1 with the loader's message.
 */
#include <plugin.h>

#include <stdio.h>
#include <string.h>

static void *resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;
    if (strcmp(name, "snprintf") == 0)
        return (void *)snprintf;
    return NULL;                        /* anything else: the loader's usual search */
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hello PLUGIN.so NAME\n");
        return 2;
    }
    printf("libplugin %s (header %s)\n", plugin_version(), PLUGIN_VERSION);

    plugin_error err;
    struct plugin_options opts = { .resolve = resolve };
    plugin *p = plugin_open_with(argv[1], &opts, &err);
    void *sym = p ? plugin_lookup(p, "greet", &err) : NULL;
    int *calls = p ? plugin_lookup(p, "greet_calls", &err) : NULL;
    if (!sym || !calls) {
        fprintf(stderr, "hello: %s\n", err.message);
        return 1;
    }
    int (*greet)(char *, size_t, const char *);
    memcpy(&greet, &sym, sizeof greet); /* a data pointer carrying a function's address (POSIX) */

    char text[128];
    greet(text, sizeof text, argv[2]);
    printf("%s\n", text);
    printf("greet_calls = %d\n", *calls);
    return 0;
}
