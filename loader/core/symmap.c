/*
 * symmap.c — a name-to-address table (open addressing, linear probing; see symmap.h).
 *
 * Names are hashed with 32-bit FNV-1a (each byte xor'ed in, then multiplied by the FNV prime):
 * simple, and good enough for identifiers. The table doubles when it would become more than
 * half full, so a probe sequence stays short and always ends at an empty slot.
 */
#include "core/symmap.h"

#include <stdlib.h>
#include <string.h>

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The slot of name (hash h): its entry, or the empty slot where it would go. */
static struct symmap_entry *probe(const struct symmap *m, const char *name, uint32_t h)
{
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        struct symmap_entry *e = &m->slots[i];
        if (!e->name || (e->hash == h && strcmp(e->name, name) == 0))
            return e;
    }
}

int symmap_reserve(struct symmap *m, size_t extra)
{
    if (extra > SIZE_MAX / 4 - m->count)
        return -1;
    size_t want = m->count + extra, slots = m->slots ? m->mask + 1 : 0;
    if (want * 2 <= slots)
        return 0;
    size_t n = 16;
    while (n < want * 2)
        n *= 2;
    struct symmap_entry *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    struct symmap bigger = { s, n - 1, 0 };
    for (size_t i = 0; i < slots; i++)          /* move every entry to its slot in the new table */
        if (m->slots[i].name)
            *probe(&bigger, m->slots[i].name, m->slots[i].hash) = m->slots[i];
    bigger.count = m->count;
    free(m->slots);
    *m = bigger;
    return 0;
}

struct symmap_entry *symmap_get(const struct symmap *m, const char *name)
{
    if (!m->slots)
        return NULL;
    struct symmap_entry *e = probe(m, name, name_hash(name));
    return e->name ? e : NULL;
}

struct symmap_entry *symmap_put(struct symmap *m, const char *name, uint64_t value, uint32_t flags, bool *added)
{
    *added = false;
    if (!m->slots || (m->count + 1) * 2 > m->mask + 1)
        return NULL;                            /* no room reserved: the caller's mistake */
    uint32_t h = name_hash(name);
    struct symmap_entry *e = probe(m, name, h);
    *added = !e->name;
    if (*added) {
        *e = (struct symmap_entry){ name, value, h, flags };
        m->count++;
    }
    return e;
}

void symmap_free(struct symmap *m)
{
    free(m->slots);
    *m = (struct symmap){ NULL, 0, 0 };
}
