/*
 * dlmod_upper.c — a module of examples/dlhost.c: prints its argument in capitals.
 *
 * It uses only printf from the C library: in a -static host a module can call only the C library
 * functions linked into the executable (there is no libc.so.6 to bring the others), and dlhost
 * itself uses printf. That is why the capitals are made here rather than with toupper/putchar,
 * and why the format is not plain "%s\n" (which gcc turns into a call of puts).
 */
#include <stdio.h>

const char *module_name(void)
{
    return "upper";
}

int module_run(const char *arg)
{
    char out[256];
    int n = 0;
    for (; arg[n] && n < (int)sizeof out - 1; n++)
        out[n] = arg[n] >= 'a' && arg[n] <= 'z' ? (char)(arg[n] - 'a' + 'A') : arg[n];
    out[n] = '\0';
    printf("> %s\n", out);                /* a format gcc keeps as printf (not puts) */
    return n;
}
