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
 * 0x0303 on x86-64, FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64 = 0x0a03 on aarch64). Among the entries
 * of a name, as glibc 2.36's ld.so chooses:
 *   - an entry of a glibc-hwcaps subdirectory (hwcap with the DL_CACHE_HWCAP_EXTENSION form,
 *     see find_hwcaps) whose subdirectory this CPU uses and whose ISA level the CPU has: the
 *     best subdirectory wins (x86-64-v4 before -v3 before -v2; elf/hwcaps.c);
 *   - otherwise the first baseline entry (hwcap 0) in file order.
 * ldconfig lists a name's glibc-hwcaps entries before its baseline one and glibc relies on that
 * order; we scan linearly and need no trust in the file's order. Entries with legacy hwcap bits
 * (the pre-2.33 tls/, x86_64/ ... subdirectories) are not used.
 *
 * Everything is bounds-checked against the file size; a cache that is missing, short, of another
 * format or with an offset outside the file is treated as empty, never an error: ld.so itself
 * ignores a cache it cannot use.
 */
#include "core/internal.h"
#include "elf/hwcaps.h"
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

#define CACHE_LITTLE_ENDIAN 2u      /* the header's flags & 3 */

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

/* The hwcaps extension (glibc 2.33+): an extension directory at extension_offset (from the
 * start of the file) of { uint32 magic 0xeaa42174, uint32 count, count x { uint32 tag, flags,
 * offset, size } }; the section of tag 1 is an array of uint32 file offsets of the glibc-hwcaps
 * subdirectory names ("x86-64-v3"). Entries of those subdirectories have hwcap =
 * DL_CACHE_HWCAP_EXTENSION | isa_level << 32 | index into that array. As in glibc, a directory
 * that is malformed makes every such entry unusable (the baseline entries still serve), and a
 * section that is empty, misaligned or not a whole number of words is ignored. */
#define CACHE_EXT_MAGIC     0xeaa42174u
#define CACHE_EXT_HWCAPS    1u
#define HWCAP_EXTENSION     (1ull << 62)
#define HWCAP_ISA_MASK      0x3ffu

struct hwcaps_section {
    const uint8_t *file;        /* the whole cache file, which the offsets are relative to */
    uint64_t file_size;
    const uint8_t *index;       /* uint32 string offsets; NULL: no usable section */
    uint64_t count;
};

static struct hwcaps_section find_hwcaps(const uint8_t *file, uint64_t file_size, const uint8_t *hdr)
{
    struct hwcaps_section h = { file, file_size, NULL, 0 };
    uint64_t ext = rd32(hdr + 32);
    if (ext == 0 || ext % 4 || !range_in(ext, 8, file_size) || rd32(file + ext) != CACHE_EXT_MAGIC)
        return h;
    uint64_t count = rd32(file + ext + 4);
    if (!range_in(ext + 8, count * 16, file_size))
        return h;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *sec = file + ext + 8 + i * 16;
        uint64_t off = rd32(sec + 8), size = rd32(sec + 12);
        if (!range_in(off, size, file_size))
            return (struct hwcaps_section){ file, file_size, NULL, 0 };
        if (rd32(sec) == CACHE_EXT_HWCAPS)
            h.index = size && off % 4 == 0 && size % 4 == 0 ? file + off : NULL, h.count = size / 4;
    }
    if (!h.index)
        h.count = 0;
    return h;
}

/* The preference of an entry's glibc-hwcaps subdirectory (1 = best; 0: not for this CPU). */
static unsigned hwcaps_priority(const struct hwcaps_section *h, uint64_t hwcap)
{
    uint32_t idx = (uint32_t)hwcap;
    if (!elf_hwcaps_isa_ok((uint32_t)(hwcap >> 32) & HWCAP_ISA_MASK) || idx >= h->count)
        return 0;
    const char *sub = cache_str(h->file, h->file_size, rd32(h->index + 4 * (uint64_t)idx));
    return sub ? elf_hwcaps_priority(sub) : 0;
}

static bool is_hwcaps_entry(uint64_t hwcap)
{
    return ((hwcap >> 32) & ~(uint64_t)HWCAP_ISA_MASK) == HWCAP_EXTENSION >> 32;
}

/* The new-format header of a cache image (behind the libc5-era part, when there is one), and
 * the bytes from it to the end of the file; NULL when the image is not a cache we can read. A
 * cache written for the other byte order (flags) is refused, as glibc refuses it. */
static const uint8_t *new_header(const uint8_t *map, uint64_t size, uint64_t *left)
{
    const uint8_t *hdr = map;
    *left = size;
    if (size >= CACHE_OLD_HEADER && memcmp(map, CACHE_OLD_MAGIC, sizeof CACHE_OLD_MAGIC - 1) == 0) {
        uint64_t skip = CACHE_OLD_HEADER + (uint64_t)rd32(map + 12) * CACHE_OLD_ENTRY;
        skip = (skip + 7) & ~(uint64_t)7;
        if (skip > size)
            return NULL;
        hdr = map + skip;
        *left = size - skip;
    }
    if (*left < CACHE_NEW_HEADER || memcmp(hdr, CACHE_NEW_MAGIC, 17) != 0 ||
        memcmp(hdr + 17, CACHE_NEW_VERSION, 3) != 0)
        return NULL;
    if (hdr[28] != 0 && (hdr[28] & 3) != CACHE_LITTLE_ENDIAN)
        return NULL;
    return hdr;
}

/* Find name in a cache image of size bytes (any content). Returns a pointer into the image. */
static const char *cache_find(const uint8_t *map, uint64_t size, const char *name)
{
    uint64_t left;
    const uint8_t *hdr = new_header(map, size, &left);
    if (!hdr)
        return NULL;
    uint64_t nlibs = rd32(hdr + 20);
    if (!range_in(CACHE_NEW_HEADER, nlibs * CACHE_NEW_ENTRY, left))
        return NULL;
    struct hwcaps_section hw = { map, size, NULL, 0 };
    bool hw_read = false;
    const char *base = NULL, *best = NULL;
    unsigned best_prio = 0;
    int want = ldcache_native_flags();
    for (uint64_t i = 0; i < nlibs; i++) {
        const uint8_t *e = hdr + CACHE_NEW_HEADER + i * CACHE_NEW_ENTRY;
        uint64_t hwcap = rd64(e + 16);
        if ((int32_t)rd32(e) != want || (hwcap != 0 && !is_hwcaps_entry(hwcap)) || (hwcap == 0 && base))
            continue;
        const char *key = cache_str(hdr, left, rd32(e + 4));
        const char *value = key && strcmp(key, name) == 0 ? cache_str(hdr, left, rd32(e + 8)) : NULL;
        if (!value || value[0] != '/')
            continue;
        if (hwcap == 0) {
            base = value;
            continue;
        }
        if (!hw_read)
            hw = find_hwcaps(map, size, hdr), hw_read = true;
        unsigned prio = hwcaps_priority(&hw, hwcap);
        if (prio && (!best || prio < best_prio))
            best = value, best_prio = prio;
    }
    return best ? best : base;
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

const char *ldcache_find_in(const void *cache, uint64_t size, const char *name)
{
    return cache && name ? cache_find(cache, size, name) : NULL;
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
