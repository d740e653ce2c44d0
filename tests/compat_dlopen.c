/*
 * compat_dlopen.c — glibc's answer for `make compat` (scripts/compat.sh): dlopen(FILE,
 * RTLD_NOW | RTLD_LOCAL), exit 0 when it loads, else print dlerror() and exit 1. A comparison
 * tool, never part of the library (which does not use libdl).
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: compat_dlopen FILE\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    printf("loaded %s\n", argv[1]);
    return 0;
}
