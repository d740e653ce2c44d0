/*
 * greet.c — the plugin of the out-of-tree example: one function that writes a greeting.
 *
 * An ordinary shared object (cc -shared -fPIC), linked against nothing but the C library. Its
 * only import is snprintf: in a dynamic host it binds to the process's libc.so.6; in a -static
 * host, which has no libc.so.6, to the snprintf the host hands over (hello.c, resolve).
 */
#include <stddef.h>
#include <stdio.h>

int greet_calls;

int greet(char *buf, size_t size, const char *who)
{
    greet_calls++;
    return snprintf(buf, size, "hello, %s, from a plugin", who);
}
