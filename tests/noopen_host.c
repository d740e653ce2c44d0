/*
 * noopen_host.c — an executable linked against libnoopen.so, an object linked -z nodlopen
 * (DF_1_NOOPEN): the system loader loads it with the program, and then opening it, or a plugin
 * that needs it, is no dlopen of it: glibc's dlopen returns the object already there, and so
 * must plugin_open. Run by tests/elf/test_nodlopen.c; prints what happened, exits 0 when both
 * opens worked and the plugin reached the executable's copy.
 *
 *     noopen_host LIBNOOPEN NOOPEN_USER
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stdio.h>

int noopen(void);

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: noopen_host LIBNOOPEN NOOPEN_USER\n");
        return 2;
    }
    plugin_error err;
    void *glibc = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);     /* the oracle */
    printf("glibc dlopen of the loaded object: %s\n", glibc ? "ok" : dlerror());
    plugin *lib = plugin_open(argv[1], &err);
    printf("plugin_open of the loaded object: %s\n", lib ? "ok" : err.message);
    plugin *user = plugin_open(argv[2], &err);
    printf("plugin_open of a plugin that needs it: %s\n", user ? "ok" : err.message);
    if (!lib || !user || !glibc)
        return 1;
    int (*f)(void) = (int (*)(void))plugin_lookup(user, "noopen_user", &err);
    void *mine = plugin_lookup(lib, "noopen", &err);
    printf("noopen_user() = %d; the executable's noopen: %s\n", f ? f() : -1,
           mine == (void *)noopen ? "same" : "different");
    return f && f() == 17 && mine == (void *)noopen ? 0 : 1;
}
