/*
 * host.c — the demo host: a C program that loads plugins with libplugin (no libdl), the way a
 * Go program uses the plugin package:
 *
 *     p, err := plugin.Open("greeter.so")                          // Go
 *     v, err := p.Lookup("V")
 *     f, err := p.Lookup("F")
 *     *v.(*int) = 7
 *     f.(func())() // prints "Hello, number 7"
 *
 * usage: host GREETER.so [WORDCOUNT.so]
 * Exit status 0 when everything worked, 1 (with the loader's message) when something failed.
 */
#include <plugin.h>

#include <stdio.h>
#include <string.h>

static int fail(const plugin_error *err)
{
    fprintf(stderr, "host: %s\n", err->message);
    return 1;
}

static int greet(const char *path)
{
    plugin_error err;
    printf("host: plugin_open(\"%s\")\n", path);
    plugin *p = plugin_open(path, &err);
    if (!p)
        return fail(&err);
    int *v = plugin_lookup(p, "V", &err);
    if (!v)
        return fail(&err);
    void *sym = plugin_lookup(p, "F", &err);
    if (!sym)
        return fail(&err);
    void (*f)(void);
    memcpy(&f, &sym, sizeof f);     /* a data pointer carrying a function's address (POSIX) */
    printf("host: V is at %p and holds %d; F is at %p\n", (void *)v, *v, sym);
    printf("host: *v = 7; f();\n");
    *v = 7;
    f();
    printf("host: opening it again gives the same handle: %s\n",
           plugin_open(path, &err) == p ? "yes" : "no");
    if (plugin_lookup(p, "printf", &err) == NULL)
        printf("host: plugin_lookup(p, \"printf\") fails, as it should: %s\n", err.message);
    return 0;
}

static int count(const char *path)
{
    plugin_error err;
    const char *text = "the quick brown fox jumps over the lazy dog";
    printf("\nhost: plugin_open(\"%s\")\n", path);
    plugin *p = plugin_open(path, &err);
    if (!p)
        return fail(&err);
    void *sym = plugin_lookup(p, "count_words", &err);
    if (!sym)
        return fail(&err);
    long (*count_words)(const char *);
    memcpy(&count_words, &sym, sizeof count_words);
    printf("host: count_words(\"%s\") = %ld\n", text, count_words(text));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: host GREETER.so [WORDCOUNT.so]\n");
        return 2;
    }
    if (greet(argv[1]) != 0)
        return 1;
    if (argc == 3 && count(argv[2]) != 0)
        return 1;
    return 0;
}
