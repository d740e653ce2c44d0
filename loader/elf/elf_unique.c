/*
 * elf_unique.c — unique symbols (STB_GNU_UNIQUE): one definition per name in the whole process.
 *
 * g++ gives this binding to what C++ requires to exist once however many objects define it: the
 * static locals of inline functions, the static members of class templates (std::locale ids,
 * guard variables). glibc keeps a table of them per namespace (dl-lookup.c, do_lookup_unique):
 * when the symbol search lands on a unique definition, the table's entry for that name is used
 * instead, or, when there is none yet, this definition becomes the entry. Names only: versions
 * play no part. First one in wins, everywhere: symbol binding, and dlsym.
 *
 * Ours is the same table for the objects we load:
 *   - when an open has mapped its objects and before anything is bound (elf_unique_register, in
 *     load order, which is the order of the local scope), each unique definition they export
 *     whose name has no entry yet makes one: the host's definition when the host has one (below),
 *     else this one. So a name is entered by the first object loaded that defines it, and a
 *     plugin_lookup of a name that nothing references answers the winner too;
 *   - a reference whose search lands on a unique definition binds to the entry
 *     (elf_unique_apply); the self-binding shortcut and DT_SYMBOLIC go through it as well;
 *   - plugin_lookup's table answers the entry (elf_exports.c, op_lookup).
 * The host's table is glibc's and private: we cannot read it. What glibc enters at startup is the
 * first unique definition in the global scope (every startup lookup walks that scope), unless an
 * object before it defines the name without the unique binding (then the lookups stop there and
 * nothing is entered); an object the host dlopen'ed later enters its own when the name had no
 * entry (its lookups reach itself). host_winner below makes that same choice from the
 * objects' symbol tables, assuming, as compilers emit them, that an object defining a unique
 * symbol also references it. Not seen: a host object dlopen'ed after our plugin keeps its own
 * definition (glibc does not know ours), and an entry of a host object that the host dlclose'd
 * later stays (glibc never unloads an object whose unique definition it entered).
 *
 * Entries made during an open are pending: kept in a table of their own, seen by that open's
 * binding only, until the open succeeds (elf_unique_commit moves them into the process's table);
 * a failed open frees them (elf_unique_discard), so nothing points into objects that were
 * unmapped, and nothing is left behind (no reader other than the open ever saw them: a hostile
 * file that fails to load again and again costs no memory). Writers hold the load lock. Readers
 * of the process's table take no lock: it is chains that only grow at their head, each link
 * published with a release store, and never shrink.
 */
#include "elf/elf.h"

#include <stdlib.h>
#include <string.h>

enum { UNIQUE_BUCKETS = 1024 };

struct unique {
    struct unique *next;            /* the bucket's chain (of the table it is in) */
    struct unique *pending_next;    /* entries of the open in progress */
    uint32_t hash;
    struct resolved def;
    char name[];
};

static struct unique *buckets[UNIQUE_BUCKETS];          /* the process's: read without a lock */
static struct unique *pending_buckets[UNIQUE_BUCKETS];  /* the open in progress's: load lock */
static struct unique *pending;      /* the same entries as one list (load lock) */

static uint32_t bucket_of(uint32_t hash)
{
    return hash % UNIQUE_BUCKETS;
}

/* The entry for name (hash: its GNU hash); pending ones too when mine (the open in progress,
 * which holds the load lock). */
static const struct unique *get(const char *name, uint32_t hash, bool mine)
{
    for (const struct unique *u = mine ? pending_buckets[bucket_of(hash)] : NULL; u; u = u->next)
        if (u->hash == hash && strcmp(u->name, name) == 0)
            return u;
    for (const struct unique *u = __atomic_load_n(&buckets[bucket_of(hash)], __ATOMIC_ACQUIRE); u;
         u = u->next) {
        if (u->hash == hash && strcmp(u->name, name) == 0)
            return u;
    }
    return NULL;
}

bool elf_unique_get(const char *name, struct resolved *out)
{
    const struct unique *u = get(name, elf_name_gnu_hash(name), false);
    if (u)
        *out = u->def;
    return u != NULL;
}

/* Enter def for name, pending until the open succeeds. false: out of memory. */
static bool put(const char *name, uint32_t hash, const struct resolved *def)
{
    size_t len = strlen(name);
    struct unique *u = malloc(sizeof *u + len + 1);
    if (!u)
        return false;
    memcpy(u->name, name, len + 1);
    u->hash = hash;
    u->def = *def;
    u->pending_next = pending;
    pending = u;
    u->next = pending_buckets[bucket_of(hash)];
    pending_buckets[bucket_of(hash)] = u;
    return true;
}

static bool is_unique(const struct resolved *r)
{
    return elf_resolved_unique(r);
}

/* The definition of name that glibc's own table holds, as far as the objects' tables tell: the
 * first definition in the global scope if it is unique (none if it is not), else the first unique
 * one among the other objects, in load order (not the vDSO). */
static bool host_winner(const char *name, struct resolved *out)
{
    struct sym_query q;
    sym_query_init(&q, name, NULL);
    q.newest = true;
    size_t n;
    struct image **list = host_scope(&n);
    for (size_t i = 0; i < n; i++)
        if (elf_find(list[i], &q, out))
            return is_unique(out);
    list = host_images(&n);
    for (size_t i = 0; i < n; i++)
        if (!elf_is_vdso(list[i]) && elf_find(list[i], &q, out) && is_unique(out))
            return true;
    return false;
}

/* The entry for name, made from the host's winner or else from def when there is none. */
static int enter(struct load *ld, const char *name, uint32_t hash, const struct resolved *def,
                 const struct unique **u)
{
    struct resolved host;
    if ((*u = get(name, hash, true)) != NULL)
        return 0;
    if (!put(name, hash, host_winner(name, &host) ? &host : def))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, image_name(def->def), "out of memory entering unique symbol %s",
                         name);
    *u = pending;
    return 0;
}

int elf_unique_apply_slow(struct load *ld, const char *name, struct resolved *out)
{
    const struct unique *u;
    if (enter(ld, name, elf_name_gnu_hash(name), out, &u))
        return -1;
    if (u->def.def != out->def || u->def.sym != out->sym)
        diag_trace(ld->d, TRACE_BINDINGS, "  %s is unique: the process's definition is %s's", name, image_name(u->def.def));
    *out = u->def;
    return 0;
}

/* One unique symbol i of im, found by the scan below: its entry, unless it cannot be found by
 * name (not exported, or a hidden version). */
static __attribute__((noinline)) int register_one(struct load *ld, struct image *im, uint32_t i)
{
    const struct elf_object *o = elf_of(im);
    const Elf64_Sym *s = &o->symtab[i];
    const char *name = elf_str(o, s->st_name);
    if (!name || !elf_symbol_exported(s) || (o->versym && (o->versym[i] & 0x8000)))
        return 0;
    const struct unique *u;
    struct resolved def = { elf_symbol_addr(im, s), im, s, ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC, NULL };
    return enter(ld, name, elf_name_gnu_hash(name), &def, &u);
}

/* The symbols of i..i+3 whose binding is unique, registered. */
static int register_four(struct load *ld, struct image *im, uint32_t i, uint32_t n)
{
    for (uint32_t k = i; k < i + 4 && k < n; k++)
        if (ELF64_ST_BIND(elf_of(im)->symtab[k].st_info) == STB_GNU_UNIQUE && register_one(ld, im, k))
            return -1;
    return 0;
}

/* The symbols a lookup can find (those the hash table covers) are scanned for the unique
 * binding, four at a time: a binding of 8 or more (st_info's top bit) is one of the OS- or
 * CPU-specific ones, of which unique (10) is the only one in use, so one test of the four
 * st_info bytes or'ed together clears them all. Most objects have none. */
int elf_unique_register(struct load *ld, struct image *im)
{
    const struct elf_object *o = elf_of(im);
    if (!o->symtab)
        return 0;
    uint32_t first = o->gnu.nbuckets ? o->gnu.symoffset : 1, n = o->nsyms;
    const Elf64_Sym *s = o->symtab;
    for (uint32_t i = first; i < n; i += 4) {
        unsigned char any = s[i].st_info;
        if (n - i >= 4)
            any |= s[i + 1].st_info | s[i + 2].st_info | s[i + 3].st_info;
        else
            for (uint32_t k = i + 1; k < n; k++)
                any |= s[k].st_info;
        if (__builtin_expect(any & 0x80, 0) && register_four(ld, im, i, n))
            return -1;
    }
    return 0;
}

/* The open succeeded: its entries join the process's table, each published whole (release). */
void elf_unique_commit(void)
{
    for (struct unique *u = pending, *next; u; u = next) {
        next = u->pending_next;
        pending_buckets[bucket_of(u->hash)] = NULL;
        u->next = buckets[bucket_of(u->hash)];
        __atomic_store_n(&buckets[bucket_of(u->hash)], u, __ATOMIC_RELEASE);
    }
    pending = NULL;
}

/* The open failed: its entries, which only it could see, are freed. */
void elf_unique_discard(void)
{
    for (struct unique *u = pending, *next; u; u = next) {
        next = u->pending_next;
        pending_buckets[bucket_of(u->hash)] = NULL;
        free(u);
    }
    pending = NULL;
}
