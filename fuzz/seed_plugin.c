/*
 * seed_plugin.c — a small plugin that uses most of what the loader parses, built several ways by
 * mk/extra.mk (lazy/now binding, RELR, SysV hash, -Bsymbolic, a version script, stripped and
 * compact) as the seed corpus of fuzz_elf. Never run by the fuzzer: only parsed and relocated.
 *
 * It has: exported functions and variables (symbols, hash tables), a table of pointers (relative
 * and symbolic data relocations), calls into libc (PLT and GOT relocations, symbol versions), a
 * weak undefined reference, an IFUNC, an initializer and a finalizer (DT_INIT_ARRAY/FINI_ARRAY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int seed_value = 42;
static int hidden_value = 7;
const char *seed_strings[] = { "one", "two", "three" };
int *seed_ptrs[] = { &seed_value, &hidden_value };

extern int seed_optional(int) __attribute__((weak));

int seed_add(int a, int b)
{
    return a + b + hidden_value;
}

int seed_call_optional(int x)
{
    return seed_optional ? seed_optional(x) : -1;
}

size_t seed_len(unsigned i)
{
    return strlen(seed_strings[i % 3]);
}

char *seed_dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    if (p)
        snprintf(p, strlen(s) + 1, "%s", s);
    return p;
}

int (*const seed_ops[])(int, int) = { seed_add };

static int seed_fast_impl(int x) { return x * 2; }
static int (*seed_fast_resolver(void))(int) { return seed_fast_impl; }
int seed_fast(int x) __attribute__((ifunc("seed_fast_resolver")));

__attribute__((constructor)) static void seed_init(void) { seed_value++; }
__attribute__((destructor)) static void seed_fini(void) { seed_value--; }
