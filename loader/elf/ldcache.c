/*
 * ldcache.c — read /etc/ld.so.cache ourselves (glibc's "glibc-ld.so.cache1.1" format).
 *
 * Layout (all little-endian on our CPUs, offsets from the start of the new-format header):
 *   header   char magic[17] "glibc-ld.so.cache", char version[3] "1.1", uint32 nlibs,
 *            uint32 len_strings, uint8 flags, 3 bytes padding, uint32 extension_offset,
 *            uint32 unused[3]                                                   (48 bytes)
 *   entries  nlibs x { int32 flags, uint32 key, uint32 value, uint32 osversion, uint64 hwcap }
 *   strings  key (the soname) and value (the path) are offsets of NUL-terminated strings.
 * Older ldconfig wrote the libc5-era format ("ld.so-1.7.0", nlibs, 12-byte entries) first and the
 * new format after it, aligned to 8; we skip the old part and read the new one.
 *
 * An entry is used when its flags are exactly this CPU's (FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 =
 * 0x0303 on x86-64, FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64 = 0x0a03 on aarch64) and its hwcap is 0:
 * glibc also has entries for glibc-hwcaps subdirectories (x86-64-v3, ...), which it prefers
 * when the CPU qualifies; we take the baseline library, which every CPU of the family runs. The
 * first acceptable entry in file order wins, as in glibc (which finds the first entry of a name
 * and walks forward). The scan is linear: no trust in the file's sort order is needed.
 *
 * Everything is bounds-checked against the file size; a cache that is missing, short, of another
 * format or with an offset outside the file is treated as empty, never an error: ld.so itself
 * ignores a cache it cannot use.
 */
#include "core/internal.h"
#include "elf/ldcache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_NEW_MAGIC     "glibc-ld.so.cache"
#define CACHE_NEW_VERSION   "1.1"
#define CACHE_OLD_MAGIC     "ld.so-1.7.0"
#define CACHE_NEW_HEADER    48u
#define CACHE_NEW_ENTRY     24u
#define CACHE_OLD_HEADER    16u     /* magic[11], padding, uint32 nlibs */
#define CACHE_OLD_ENTRY     12u     /* int32 flags, uint32 key, uint32 value */

#define FLAG_ELF_LIBC6      0x0003
#define FLAG_X8664_LIB64    0x0300
#define FLAG_AARCH64_LIB64  0x0a00

int ldcache_native_flags(void)
{
#if defined(__x86_64__)
    return FLAG_ELF_LIBC6 | FLAG_X8664_LIB64;
#elif defined(__aarch64__)
    return FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64;
#else
    return -1;
#endif
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The NUL-terminated string at off of a map of size bytes, or NULL when it does not end inside. */
static const char *cache_str(const uint8_t *base, uint64_t size, uint64_t off)
{
    if (off >= size)
        return NULL;
    const void *nul = memchr(base + off, '\0', size - off);
    return nul ? (const char *)base + off : NULL;
}

/* Find name in a cache image of size bytes (any content). Returns a pointer into the image. */
static const char *cache_find(const uint8_t *map, uint64_t size, const char *name)
{
    const uint8_t *hdr = map;
    uint64_t left = size;
    if (size >= CACHE_OLD_HEADER && memcmp(map, CACHE_OLD_MAGIC, sizeof CACHE_OLD_MAGIC - 1) == 0) {
        uint64_t skip = CACHE_OLD_HEADER + (uint64_t)rd32(map + 12) * CACHE_OLD_ENTRY;
        skip = (skip + 7) & ~(uint64_t)7;
        if (skip > size)
            return NULL;
        hdr = map + skip;
        left = size - skip;
    }
    if (left < CACHE_NEW_HEADER || memcmp(hdr, CACHE_NEW_MAGIC, 17) != 0 ||
        memcmp(hdr + 17, CACHE_NEW_VERSION, 3) != 0)
        return NULL;
    uint64_t nlibs = rd32(hdr + 20);
    if (!range_in(CACHE_NEW_HEADER, nlibs * CACHE_NEW_ENTRY, left))
        return NULL;
    int want = ldcache_native_flags();
    for (uint64_t i = 0; i < nlibs; i++) {
        const uint8_t *e = hdr + CACHE_NEW_HEADER + i * CACHE_NEW_ENTRY;
        if ((int32_t)rd32(e) != want || rd64(e + 16) != 0)
            continue;
        const char *key = cache_str(hdr, left, rd32(e + 4));
        if (!key || strcmp(key, name) != 0)
            continue;
        const char *value = cache_str(hdr, left, rd32(e + 8));
        if (value && value[0] == '/')
            return value;
    }
    return NULL;
}

/* Map a whole file read-only; NULL when it cannot be (missing, empty, not a regular file). */
static const uint8_t *map_file(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return NULL;
    *size = (uint64_t)st.st_size;
    return m;
}

char *ldcache_lookup_in(const char *cache_path, const char *name)
{
    uint64_t size;
    const uint8_t *m = cache_path && name ? map_file(cache_path, &size) : NULL;
    if (!m)
        return NULL;
    const char *v = cache_find(m, size, name);
    char *r = v ? strdup(v) : NULL;
    munmap((void *)m, size);
    return r;
}

/* The process-wide cache: mapped once (load lock held), kept for the life of the process. A file
 * that changes afterwards is not seen again, as ld.so does not re-read it either. */
static const char *cache_path;
static const uint8_t *cache_map;
static uint64_t cache_size;
static bool cache_tried;

void ldcache_use_file(const char *path)
{
    if (cache_map)
        munmap((void *)cache_map, cache_size);
    cache_map = NULL;
    cache_size = 0;
    cache_tried = false;
    free((void *)cache_path);
    cache_path = path ? strdup(path) : NULL;
}

const char *ldcache_lookup(const char *name)
{
    if (!cache_tried) {
        cache_tried = true;
        cache_map = map_file(cache_path ? cache_path : "/etc/ld.so.cache", &cache_size);
    }
    return cache_map ? cache_find(cache_map, cache_size, name) : NULL;
}
