/*
 * symmap.h — a table from symbol names to addresses, for sets of names that no object file's
 * hash table covers: the exports a host registers (core/host_exports.c) and the symbol table of
 * a static executable (elf/elf_selfsyms.c), which may hold tens of thousands of names.
 *
 * Open addressing with linear probing over a power-of-two number of slots, kept at most half
 * full, so a lookup is one hash and usually one or two probes. The table keeps the name
 * pointers it is given: the caller keeps the strings alive as long as the table. Not locked: the
 * callers hold the load lock.
 */
#ifndef PLUGIN_CORE_SYMMAP_H
#define PLUGIN_CORE_SYMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symmap_entry {
    const char *name;       /* NULL: an empty slot */
    uint64_t value;         /* the address (or what the owner makes of it) */
    uint32_t hash;
    uint32_t flags;         /* the owner's (elf_selfsyms.c: an IFUNC not resolved yet) */
};

struct symmap {
    struct symmap_entry *slots;
    size_t mask;            /* number of slots - 1 (0 with no slots) */
    size_t count;
};

/* Room for extra more names without allocating again: 0, or -1 when out of memory (the table is
 * unchanged then). */
int symmap_reserve(struct symmap *m, size_t extra);
/* The entry of name, or NULL. */
struct symmap_entry *symmap_get(const struct symmap *m, const char *name);
/* Add name (after symmap_reserve made room; never allocates): the new entry, or the one already
 * there for that name, which is left as it is (*added tells which); NULL when no room was
 * reserved. */
struct symmap_entry *symmap_put(struct symmap *m, const char *name, uint64_t value, uint32_t flags, bool *added);
void symmap_free(struct symmap *m);

#endif /* PLUGIN_CORE_SYMMAP_H */
