/*
 * bench_plugin.c — the small plugin the benchmark opens (built by mk/extra.mk into
 * $(BUILD)/bench/). A typical tiny plugin: a few exported functions and variables, a table of
 * pointers (data relocations), and calls into libc (PLT / GOT relocations bound at load time).
 */
#include <stdio.h>
#include <string.h>

int bench_counter = 1;
const char *bench_names[] = { "alpha", "beta", "gamma", "delta" };

int bench_add(int a, int b)
{
    return a + b + bench_counter;
}

size_t bench_name_len(unsigned i)
{
    return strlen(bench_names[i % 4]);
}

int bench_format(char *buf, size_t n, int v)
{
    return snprintf(buf, n, "value %d", v);
}

int (*const bench_ops[])(int, int) = { bench_add };
