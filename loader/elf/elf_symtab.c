/*
 * elf_symtab.c — find a symbol's definition in one object, the way glibc's do_lookup_x does.
 *
 * GNU hash: the bloom filter rejects most misses with one word; otherwise the bucket gives the
 * first symbol of a chain whose words hold the symbols' hashes (low bit: end of chain). SysV hash
 * (DT_HASH) is the fallback: bucket, then a chain of symbol indices (bounded: a cyclic chain in a
 * hostile file must not loop forever).
 *
 * A candidate matches when it is defined, of a type that can be linked to, global or weak, not
 * hidden, its name is equal, and its version is acceptable (glibc's check_match):
 *   - a versioned reference matches a definition of the same version, or a definition whose
 *     version index has no name (VER_NDX_LOCAL, VER_NDX_GLOBAL: the base version, VER_FLG_BASE,
 *     is left out of the table as glibc leaves it out, see elf_dynamic.c), unless the reference
 *     or the definition is hidden; an object without DT_VERSYM matches on the name alone.
 *     plugin_lookup_version asks like dlvsym, with a hidden version: an exact name match only;
 *   - an unversioned reference takes an unversioned definition at once; otherwise the one
 *     non-hidden versioned definition (the default "@@" version) when there is exactly one.
 */
#include "elf/elf.h"

#include <string.h>

/* h = h * 33 + c for each byte; four bytes a step (h * 33^4 + c0 * 33^3 + c1 * 33^2 + c2 * 33 + c3,
 * the same sum mod 2^32), once strlen has found the end: a C++ name is often a hundred bytes. */
static uint32_t gnu_hash_of(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    uint32_t h = 5381;
    for (; end - p >= 4; p += 4)
        h = h * 1185921u + p[0] * 35937u + p[1] * 1089u + p[2] * 33u + p[3];
    for (; p < end; p++)
        h = h * 33 + *p;
    return h;
}

static uint32_t sysv_hash_of(const char *s)
{
    uint32_t h = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h << 4) + *p;
        uint32_t g = h & 0xf0000000;
        h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

uint32_t elf_name_gnu_hash(const char *name)
{
    return gnu_hash_of(name);
}

/* The name's hash for one table, computed once per lookup (the query caches it). */
static uint32_t query_hash(struct sym_query *q, int which)
{
    if (!q->hashed[which]) {
        q->hash[which] = which == 0 ? gnu_hash_of(q->name) : sysv_hash_of(q->name);
        q->hashed[which] = true;
    }
    return q->hash[which];
}

uint64_t elf_symbol_addr(const struct image *im, const Elf64_Sym *sym)
{
    return sym->st_shndx == SHN_ABS ? sym->st_value : im->bias + sym->st_value;
}

/* State of one lookup in one object: the single default-version candidate seen so far. */
struct match_state {
    const Elf64_Sym *versioned;
    unsigned nversioned;
};

static bool version_ok(const struct image *im, uint32_t idx, const struct sym_query *q,
                       struct match_state *st, const Elf64_Sym *sym)
{
    const struct elf_object *o = elf_of(im);
    if (!o->versym)
        return true;                        /* the object has no versions: accept */
    uint16_t vs = o->versym[idx];
    uint32_t ndx = vs & 0x7fff;
    bool hidden = (vs & 0x8000) != 0;
    if (q->version) {
        const char *have = ndx < o->nversions ? o->versions[ndx].name : NULL;
        if (have && strcmp(have, q->version->name) == 0)
            return true;
        return !(q->version->hidden || have || hidden) && ndx < o->nversions;
    }
    if (ndx >= (q->newest ? 2u : 3u)) {     /* versioned: remember the default one, decide later */
        if (!hidden && st->nversioned++ == 0)
            st->versioned = sym;
        return false;
    }
    return true;
}

/* A definition the search may return, whatever its name (defined, a linkable type, global, weak
 * or unique, not hidden). */
static bool sym_acceptable(const Elf64_Sym *sym)
{
    unsigned type = ELF64_ST_TYPE(sym->st_info), bind = ELF64_ST_BIND(sym->st_info);
    unsigned vis = ELF64_ST_VISIBILITY(sym->st_other);
    if (sym->st_shndx == SHN_UNDEF || (sym->st_value == 0 && sym->st_shndx != SHN_ABS && type != STT_TLS))
        return false;
    if (type != STT_NOTYPE && type != STT_OBJECT && type != STT_FUNC && type != STT_COMMON &&
        type != STT_TLS && type != STT_GNU_IFUNC)
        return false;
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
        return false;
    return vis != STV_HIDDEN && vis != STV_INTERNAL;
}

static bool sym_ok(const struct image *im, uint32_t idx, const struct sym_query *q, struct match_state *st)
{
    const struct elf_object *o = elf_of(im);
    const Elf64_Sym *sym = &o->symtab[idx];
    if (!sym_acceptable(sym))
        return false;
    const char *name = elf_str(o, sym->st_name);
    if (!name || strcmp(name, q->name) != 0)
        return false;
    return version_ok(im, idx, q, st, sym);
}

static const Elf64_Sym *find_gnu(const struct image *im, struct sym_query *q, struct match_state *st)
{
    const struct elf_object *o = elf_of(im);
    const struct gnu_hash *g = &o->gnu;
    uint32_t h = query_hash(q, 0);
    uint64_t word = g->bloom[(h / 64) & (g->bloom_size - 1)];
    uint64_t mask = (1ULL << (h % 64)) | (1ULL << ((h >> g->bloom_shift) % 64));
    if ((word & mask) != mask)
        return NULL;
    uint32_t i = g->buckets[h % g->nbuckets];
    if (i < g->symoffset)                   /* empty (0), or a bucket no chain word belongs to */
        return NULL;
    for (; i < o->nsyms; i++) {            /* chain words up to nsyms - 1 were checked at load */
        uint32_t ch = g->chain[i - g->symoffset];
        if ((ch | 1) == (h | 1) && sym_ok(im, i, q, st))
            return &o->symtab[i];
        if (ch & 1)
            break;
    }
    return NULL;
}

static const Elf64_Sym *find_sysv(const struct image *im, struct sym_query *q, struct match_state *st)
{
    const struct elf_object *o = elf_of(im);
    uint32_t i = o->sysv_buckets[query_hash(q, 1) % o->sysv_nbucket];
    for (uint32_t steps = 0; i != STN_UNDEF && i < o->nsyms && steps < o->nsyms; steps++) {
        if (sym_ok(im, i, q, st))
            return &o->symtab[i];
        i = o->sysv_chain[i];
    }
    return NULL;
}

/*
 * Whether elf_find_symbol(im, q), q being the name of im's own symbol idx and the version its
 * reference asks for, returns symbol idx itself, decided without hashing the name: idx's GNU
 * hash chain holds the hash, and the entries of that chain before idx are the only ones the
 * search would look at first. If none of them has the same hash and name, and the search accepts
 * idx (a definition, version included), the search stops at idx. Any doubt (an earlier entry of
 * the same name, a version the search weighs instead of matching, no GNU hash table): false, and
 * the caller searches. A chain is the run of entries up to one with the end bit, so idx's starts
 * after the previous chain's end.
 */
bool elf_search_finds_itself(const struct image *im, uint32_t idx, struct sym_query *q)
{
    const struct elf_object *o = elf_of(im);
    const struct gnu_hash *g = &o->gnu;
    if (!g->nbuckets || idx < g->symoffset || idx >= o->nsyms)
        return false;
    const uint32_t *chain = g->chain - g->symoffset;   /* chain[i]: symbol i's word, i >= symoffset */
    uint32_t h = chain[idx] | 1;
    for (uint32_t k = idx; k > g->symoffset && !(chain[k - 1] & 1); k--) {
        const char *other = elf_str(o, o->symtab[k - 1].st_name);
        if ((chain[k - 1] | 1) == h && (!other || strcmp(other, q->name) == 0))
            return false;
    }
    struct match_state st = { NULL, 0 };
    const Elf64_Sym *sym = &o->symtab[idx];
    return sym_acceptable(sym) && version_ok(im, idx, q, &st, sym);
}

const Elf64_Sym *elf_find_symbol(const struct image *im, struct sym_query *q)
{
    struct match_state st = { NULL, 0 };
    const Elf64_Sym *s = elf_of(im)->gnu.nbuckets ? find_gnu(im, q, &st) : find_sysv(im, q, &st);
    if (s)
        return s;
    return st.nversioned == 1 ? st.versioned : NULL;
}

bool elf_symbol_exported(const Elf64_Sym *s)
{
    int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
    int vis = ELF64_ST_VISIBILITY(s->st_other);
    return s->st_shndx != SHN_UNDEF && type != STT_SECTION && type != STT_FILE &&
           (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) &&
           (vis == STV_DEFAULT || vis == STV_PROTECTED);
}

const char *elf_symbol_version(const struct elf_object *o, uint32_t i, bool *hidden)
{
    *hidden = false;
    if (!o->versym || i >= o->nsyms)
        return NULL;
    uint16_t vs = o->versym[i];
    *hidden = (vs & 0x8000) != 0;           /* not the default version: name@V, not name@@V */
    uint32_t ndx = vs & 0x7fff;
    if (ndx <= VER_NDX_GLOBAL || ndx >= o->nversions || o->versions[ndx].file)
        return NULL;                        /* none, or a version needed from another file */
    return o->versions[ndx].name;
}
