/*
 * elf_exports.c — the table behind plugin_lookup(p, name): every name the object exports,
 * mapped to the definition the symbol search would choose for it.
 *
 * The ELF hash tables are made for the dynamic linker's searches: a bloom filter, a bucket, a
 * chain compared entry by entry, and for a versioned definition a walk to the chain's end (the
 * default version must be the only one). plugin_lookup asks one object for one name, many times,
 * so it gets a table of its own, built on the first call: open addressing, each slot holding the
 * name's hash and the symbol index, so most probes compare a number, not a string. What each name
 * maps to is decided by the search itself at build time (elf_find_symbol, as plugin_lookup asked
 * before), so the table answers exactly as the search would, only faster. A name that is not in
 * the table is not exported: a miss costs the hash and, most of the time, one probe.
 *
 * Built under a lock and published with a release store; readers take no lock. Memory: 8 bytes
 * a slot, two slots per exported name at most, only for objects someone looks names up in.
 */
#include "elf/elf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct export_slot {
    uint32_t hash;
    uint32_t idx;           /* symbol index; 0: empty */
};

struct elf_exports {
    uint32_t mask;          /* slots - 1 (a power of two) */
    unsigned shift;         /* 32 - log2(slots): the top bits of the mixed hash pick the first slot */
    struct export_slot slot[];
};

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

/* The name's hash: one multiply-add per byte (GNU's), mixed by a multiply before it picks a
 * slot. A name is a few dozen bytes; anything cleverer costs more than it saves. */
static uint32_t name_hash(const char *name)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = h * 33 + *p;
    return h;
}

/* The slot of name in t: its own, or the empty one where it would go. */
static struct export_slot *probe(const struct elf_exports *t, const struct elf_object *o, const char *name,
                                 uint32_t h)
{
    for (uint32_t i = (h * 2654435761u) >> t->shift;; i = (i + 1) & t->mask) {
        struct export_slot *s = (struct export_slot *)&t->slot[i];
        if (s->idx == 0)
            return s;
        if (s->hash == h && strcmp(o->strtab + o->symtab[s->idx].st_name, name) == 0)
            return s;
    }
}

/* A symbol the search could return for its name (elf_symtab.c's sym_ok, less the version). */
static const char *candidate(const struct elf_object *o, uint32_t i)
{
    const Elf64_Sym *s = &o->symtab[i];
    return elf_symbol_exported(s) ? elf_str(o, s->st_name) : NULL;
}

static struct elf_exports *build(const struct image *im)
{
    const struct elf_object *o = elf_of(im);
    uint32_t n = 0;
    for (uint32_t i = 1; i < o->nsyms; i++)
        n += candidate(o, i) != NULL;
    if (n > (1u << 28))
        return NULL;                        /* not a table worth building: the search serves */
    uint32_t slots = 16;
    unsigned shift = 28;
    while (slots < 2 * n)
        slots *= 2, shift--;
    struct elf_exports *t = calloc(1, sizeof *t + (size_t)slots * sizeof t->slot[0]);
    if (!t)
        return NULL;
    t->mask = slots - 1;
    t->shift = shift;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const char *name = candidate(o, i);
        uint32_t h = name ? name_hash(name) : 0;
        struct export_slot *s = name ? probe(t, o, name, h) : NULL;
        if (!s || s->idx)
            continue;                       /* not exported, or the name is in already */
        struct sym_query q;
        sym_query_init(&q, name, NULL);
        q.newest = true;
        const Elf64_Sym *def = elf_find_symbol(im, &q);
        if (def)
            *s = (struct export_slot){ h, (uint32_t)(def - o->symtab) };
    }
    return t;
}

const Elf64_Sym *elf_export_find(const struct image *im, const char *name)
{
    struct elf_object *o = elf_of(im);
    struct elf_exports *t = __atomic_load_n(&o->exports, __ATOMIC_ACQUIRE);
    if (!t && o->symtab) {
        pthread_mutex_lock(&build_lock);
        if (!(t = o->exports) && (t = build(im)))
            __atomic_store_n(&o->exports, t, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&build_lock);
    }
    if (!t) {                               /* no symbols, or no memory for the table: search */
        struct sym_query q;
        sym_query_init(&q, name, NULL);
        q.newest = true;
        return o->symtab ? elf_find_symbol(im, &q) : NULL;
    }
    uint32_t h = name_hash(name);
    const struct export_slot *s = probe(t, o, name, h);
    return s->idx ? &o->symtab[s->idx] : NULL;
}

void elf_exports_free(struct elf_object *o)
{
    free(o->exports);
    o->exports = NULL;
}
