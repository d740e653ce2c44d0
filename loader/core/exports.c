/*
 * exports.c — building the table behind plugin_lookup (core/exports.h), and getting it for a
 * handle: built by the image's front end (fmt->exports) on the handle's first lookup, under a
 * lock, then published with a release store; from then on lookups read it without a lock.
 */
#include "core/exports.h"
#include "core/format.h"

#include <pthread.h>
#include <stdlib.h>

struct export_table *exports_new(size_t n)
{
    if (n > (1u << 28))
        return NULL;                        /* not a table worth building: the search serves */
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    size_t head = sizeof(struct export_table) + slots * sizeof(struct export_slot);
    head = (head + 7) & ~(size_t)7;
    size_t filter_bits = slots * 4 < 512 ? 512 : slots * 4;    /* 4 bits a slot, 512 at least */
    size_t filter_words = filter_bits / 64;
    size_t entries = head + filter_words * sizeof(uint64_t);
    struct export_table *t = calloc(1, entries + (n ? n : 1) * sizeof(struct export_entry));
    if (!t)
        return NULL;
    t->mask = (uint32_t)(slots - 1);
    t->cap = (uint32_t)n;
    t->filter_mask = (uint32_t)(filter_bits - 1);
    t->filter = (uint64_t *)((char *)t + head);
    t->entries = (struct export_entry *)((char *)t + entries);
    return t;
}

void exports_free(struct export_table *t)
{
    free(t);
}

bool exports_add(struct export_table *t, const char *name, uintptr_t addr, bool ask)
{
    size_t n = strlen(name);
    if (n > UINT32_MAX)
        return false;
    uint32_t h = exports_hash(name, n);
    uint32_t i = exports_home(t, h);
    for (; t->slot[i].entry; i = (i + 1) & t->mask) {
        const struct export_entry *e = &t->entries[t->slot[i].entry - 1];
        if (t->slot[i].hash == h && e->len == n && exports_same(e->name, name, n))
            return true;                    /* the first answer stands */
    }
    if (t->nentries == t->cap)
        return false;
    t->entries[t->nentries] = (struct export_entry){ name, addr, (uint32_t)n, ask };
    t->slot[i] = (struct export_slot){ h, ++t->nentries };
    uint32_t bit = h & t->filter_mask;
    t->filter[bit / 64] |= (uint64_t)1 << (bit % 64);
    return true;
}

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

const struct export_table *exports_of(struct image *im)
{
    const struct export_table *t = __atomic_load_n(&im->exports, __ATOMIC_ACQUIRE);
    if (t || !im->fmt->exports)
        return t;
    pthread_mutex_lock(&build_lock);
    struct export_table *built = im->exports;
    if (!built && (built = im->fmt->exports(im)) != NULL)
        __atomic_store_n(&im->exports, built, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&build_lock);
    return built;
}
