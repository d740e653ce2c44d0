/*
 * dlmod_count.c — a module of examples/dlhost.c: counts the '/' in its argument, keeps a total
 * across runs in a static variable (a second dlopen of the same module sees the same one).
 */
#include <stdio.h>

static int total;

const char *module_name(void)
{
    return "count";
}

int module_run(const char *arg)
{
    int n = 0;
    for (const char *p = arg; *p; p++)
        n += *p == '/';
    total += n;
    printf("slashes: %d (total %d)\n", n, total);
    return total;
}
