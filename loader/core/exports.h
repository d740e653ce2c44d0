/*
 * exports.h — the table behind plugin_lookup(p, name): every name an object exports, each with
 * the answer plugin_lookup gives for it (core/exports.c builds it, the front end fills it).
 *
 * A format's own symbol tables are made for the loader's searches (ELF: a bloom filter, buckets,
 * chains compared entry by entry, versions; Mach-O: a trie walked byte by byte). plugin_lookup asks
 * one object for one name, many times, so each handle gets a table of its own on its first lookup:
 *   - the name is hashed a word (8 bytes) at a time, not a byte at a time;
 *   - a filter of one bit per hash (eight or more bits a name) rejects most misses with one load;
 *   - open addressing, at most half full: a slot is the hash and an entry number, so a probe
 *     compares a number, and a miss usually ends at the first empty slot without touching a string;
 *   - an entry holds the name, its length and the final address, so a hit is one comparison of
 *     bytes and no further work. Names whose answer depends on the moment (an IFUNC resolver's
 *     choice, a thread's own thread-local) are in the table marked "ask": the front end answers.
 * The front end decides what each name maps to (the same search a lookup would run), so the table
 * answers exactly as the front end would, only faster.
 *
 * Published once with a release store (struct image's exports) and never changed: readers take no
 * lock. Memory: 8.5 bytes a slot (two to four slots a name) and 24 bytes an entry, only for the
 * objects someone looks names up in.
 */
#ifndef PLUGIN_CORE_EXPORTS_H
#define PLUGIN_CORE_EXPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum export_answer {
    EXPORT_MISSING,     /* the object does not export the name */
    EXPORT_ADDRESS,     /* *addr is the answer */
    EXPORT_ASK,         /* exported, but the front end must answer (IFUNC, thread-local, ...) */
};

struct export_slot {
    uint32_t hash;
    uint32_t entry;     /* entry number + 1; 0: an empty slot */
};

struct export_entry {
    const char *name;   /* in the object's own string table */
    uintptr_t addr;
    uint32_t len;
    bool ask;
};

struct export_table {
    uint32_t mask;              /* slots - 1 (a power of two) */
    uint32_t nentries, cap;
    uint32_t filter_mask;       /* filter bits - 1: four bits a slot (512 at least), eight or more a name */
    uint64_t *filter;           /* one bit a hash sets (its low bits); after the slots */
    struct export_entry *entries;   /* cap of them, after the filter (same allocation) */
    struct export_slot slot[];
};

struct image;
/* The table of im, built by its front end on the first call (NULL: the front end builds none, or
 * no memory: ask the front end). */
const struct export_table *exports_of(struct image *im);

/* A table with room for n names; NULL when out of memory (or n absurd). */
struct export_table *exports_new(size_t n);
void exports_free(struct export_table *t);
/* Add name (its answer addr, or ask); false if the table is full. A name already present keeps
 * its first answer (true is returned). */
bool exports_add(struct export_table *t, const char *name, uintptr_t addr, bool ask);

/* Words of a name, read with memcpy: no alignment needed, no byte beyond the name read. */
static inline __attribute__((always_inline)) uint64_t exports_word(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}
static inline __attribute__((always_inline)) uint64_t exports_half(const char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The hash of the n bytes at s: one multiply per 8 bytes (FxHash's step: rotate, xor, multiply);
 * the last word overlaps the one before it rather than read past the end; the high half of the
 * last product is the hash (a product's high bits depend on all of its inputs). */
static inline __attribute__((always_inline)) uint32_t exports_hash(const char *s, size_t n)
{
    const uint64_t k = 0x517cc1b727220a95u;
    uint64_t h = n * k;
    if (__builtin_expect(n > 8, 1)) {
        const char *last = s + n - 8;
        for (; s < last; s += 8)
            h = ((h << 5 | h >> 59) ^ exports_word(s)) * k;
        h = ((h << 5 | h >> 59) ^ exports_word(last)) * k;
    } else if (__builtin_expect(n >= 4, 1)) {
        h = (h ^ (exports_half(s) | exports_half(s + n - 4) << 32)) * k;
    } else if (n > 0) {
        const unsigned char *u = (const unsigned char *)s;
        h = (h ^ ((uint64_t)u[0] << 16 | (uint64_t)u[n / 2] << 8 | u[n - 1])) * k;
    }
    return (uint32_t)(h >> 32);
}

/* The first slot a hash probes: its top bits (the table has mask + 1 slots). */
static inline __attribute__((always_inline)) uint32_t exports_home(const struct export_table *t, uint32_t h)
{
    return (uint32_t)(((uint64_t)h * (t->mask + 1)) >> 32);
}

/* The n bytes at a and b are equal: words compared, the last one overlapping. */
static inline __attribute__((always_inline)) bool exports_same(const char *a, const char *b, size_t n)
{
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    if (n < 8)
        return exports_half(a) == exports_half(b) && exports_half(a + n - 4) == exports_half(b + n - 4);
    for (size_t i = 0; i + 8 < n; i += 8)
        if (exports_word(a + i) != exports_word(b + i))
            return false;
    return exports_word(a + n - 8) == exports_word(b + n - 8);
}

/* What the table says of name. */
static inline __attribute__((always_inline)) enum export_answer exports_find(const struct export_table *t, const char *name, uintptr_t *addr)
{
    size_t n = strlen(name);
    uint32_t h = exports_hash(name, n), bit = h & t->filter_mask;
    if (!((t->filter[bit / 64] >> (bit % 64)) & 1))
        return EXPORT_MISSING;              /* no name of the table has this bit: a miss, at once */
    for (uint32_t i = exports_home(t, h);; i = (i + 1) & t->mask) {
        struct export_slot s = t->slot[i];
        if (s.entry == 0)
            return EXPORT_MISSING;
        const struct export_entry *e = &t->entries[s.entry - 1];
        if (s.hash == h && e->len == n && exports_same(e->name, name, n)) {
            *addr = e->addr;
            return e->ask ? EXPORT_ASK : EXPORT_ADDRESS;
        }
    }
}

#endif
