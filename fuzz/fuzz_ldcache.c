/*
 * fuzz_ldcache.c — libFuzzer target: untrusted bytes as the ld.so cache (/etc/ld.so.cache), read
 * by the loader's own parser (loader/elf/ldcache.c) when a dependency is searched.
 *
 * The input is the cache's bytes, read by ldcache_find_in, the lookup the dependency search
 * makes (header, new-format entries, the glibc-hwcaps extension, string offsets), over exactly
 * the input's buffer (so ASan sees any read past it), for a few names: common sonames, and a
 * name taken from the input itself (its bytes after the first NUL at offset 48 or later, the
 * kind of string an entry points at). Once per input it is also read from a file (a memfd)
 * through ldcache_lookup_in, as the dependency search maps /etc/ld.so.cache. A malformed cache
 * must be ignored: NULL, never a crash; a path it returns is a terminated string inside the
 * input.
 * Seeds: this system's /etc/ld.so.cache and truncated copies (mk/extra.mk).
 */
#include "elf/ldcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char memfd_path[64];

static void lookup(const uint8_t *data, size_t size, const char *name)
{
    const char *path = ldcache_find_in(data, size, name);
    if (path && ((const uint8_t *)path < data || (const uint8_t *)path >= data + size ||
                 !memchr(path, '\0', size - (size_t)((const uint8_t *)path - data))))
        abort();                        /* the path is a string inside the cache */
}

/* The file path of the lookup: the input as a file, mapped by the parser. */
static void lookup_file(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz-ldcache", 0);
        if (memfd < 0)
            abort();
        snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    free(ldcache_lookup_in(memfd_path, "libc.so.6"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lookup_file(data, size);
    static const char *const names[] = { "libc.so.6", "libz.so.1", "libm.so.6", "libstdc++.so.6", "" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        lookup(data, size, names[i]);
    const uint8_t *nul = size > 48 ? memchr(data + 48, '\0', size - 48) : NULL;
    if (nul && (size_t)(nul - data) + 1 < size) {
        char name[256];
        size_t n = strnlen((const char *)nul + 1, size - (size_t)(nul - data) - 1);
        if (n > 0 && n < sizeof name) {
            memcpy(name, nul + 1, n);
            name[n] = '\0';
            lookup(data, size, name);
        }
    }
    return 0;
}
