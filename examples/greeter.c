/*
 * greeter.c — the example plugin of Go's plugin package, in C:
 *
 *     package main                          // Go
 *     import "fmt"
 *     var V int
 *     func F() { fmt.Printf("Hello, number %d\n", V) }
 *
 * Built with `gcc -shared -fPIC -o greeter.so greeter.c`. The host (host.c) finds V and F with
 * plugin_lookup, writes 7 into V and calls F. F's printf is the host's printf: the loader binds
 * the plugin's reference to the libc.so.6 that is already in the process.
 */
#include <stdio.h>

int V;

void F(void)
{
    printf("Hello, number %d\n", V);
}
