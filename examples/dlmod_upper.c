/*
 * dlmod_upper.c — a module of examples/dlhost.c: prints its argument in capitals (toupper and
 * printf come from the C library the host has).
 */
#include <ctype.h>
#include <stdio.h>

const char *module_name(void)
{
    return "upper";
}

int module_run(const char *arg)
{
    int n = 0;
    for (; arg[n]; n++)
        putchar(toupper((unsigned char)arg[n]));
    putchar('\n');
    return n;
}
