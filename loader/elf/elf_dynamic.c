/*
 * elf_dynamic.c — decode PT_DYNAMIC once into a table indexed by tag (musl's habit), then set up
 * what lookups need: the string table, the symbol table and its size (which ELF only records
 * inside the hash tables), the GNU and SysV hash tables, and the version table.
 *
 * Every address taken from the dynamic section is checked to lie inside a PT_LOAD of the object,
 * every table's size is computed with overflow checks, and the string table must end with a NUL
 * so that any in-range offset names a terminated string.
 *
 * Objects of the system loader ("host" images) go through the same code. The only difference: on
 * x86-64 and aarch64 glibc rewrites some d_ptr values of the objects it loads into absolute
 * addresses, so for those a pointer that already lies inside the object is taken back to a vaddr.
 */
#include "elf/elf.h"

#include <stdlib.h>
#include <string.h>

static int dyn_index(int64_t tag)
{
    if (tag >= 0 && tag < DYN_GNU_HASH)
        return (int)tag;
    switch (tag) {
    case DT_GNU_HASH:   return DYN_GNU_HASH;
    case DT_VERSYM:     return DYN_VERSYM;
    case DT_VERDEF:     return DYN_VERDEF;
    case DT_VERDEFNUM:  return DYN_VERDEFNUM;
    case DT_VERNEED:    return DYN_VERNEED;
    case DT_VERNEEDNUM: return DYN_VERNEEDNUM;
    case DT_FLAGS_1:    return DYN_FLAGS_1;
    default:            return -1;
    }
}

static int decode_entries(struct image *im, bool host, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    for (size_t i = 0; i < o->ndynamic; i++) {
        const Elf64_Dyn *e = &o->dynamic[i];
        if (e->d_tag == DT_NULL)
            return 0;
        int idx = dyn_index(e->d_tag);
        if (idx < 0)
            continue;
        uint64_t v = e->d_un.d_val;
        if (host && v >= im->bias + im->lo && v < im->bias + im->hi)
            v -= im->bias;              /* a pointer glibc already relocated */
        o->dyn[idx] = v;
        o->dyn_present |= 1ULL << idx;
    }
    return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "PT_DYNAMIC has no DT_NULL terminator");
}

/* Every name the dynamic table gives by string offset (DT_NEEDED, DT_RPATH, DT_RUNPATH) lies in
 * the string table (which ends with a NUL, so each is terminated). */
static int check_names(struct image *im, struct diag *d)
{
    const struct elf_object *o = elf_of(im);
    for (size_t i = 0; i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++) {
        int64_t tag = o->dynamic[i].d_tag;
        if ((tag == DT_NEEDED || tag == DT_RPATH || tag == DT_RUNPATH) && !elf_str(o, o->dynamic[i].d_un.d_val))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "%s entry %zu: string offset 0x%llx is past DT_STRSZ",
                             tag == DT_NEEDED ? "DT_NEEDED" : tag == DT_RPATH ? "DT_RPATH" : "DT_RUNPATH", i,
                             (unsigned long long)o->dynamic[i].d_un.d_val);
    }
    return 0;
}

static int setup_strtab(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (!dyn_has(o, DT_STRTAB) || !dyn_has(o, DT_STRSZ) || o->dyn[DT_STRSZ] == 0)
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "no dynamic string table (DT_STRTAB/DT_STRSZ)");
    if (!image_table_ok(im, o->dyn[DT_STRTAB], o->dyn[DT_STRSZ], 1))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "string table (DT_STRTAB 0x%llx, DT_STRSZ 0x%llx) is not inside a read-only segment's file data",
                         (unsigned long long)o->dyn[DT_STRTAB], (unsigned long long)o->dyn[DT_STRSZ]);
    o->strtab = image_addr(im, o->dyn[DT_STRTAB]);
    o->strsz = o->dyn[DT_STRSZ];
    if (o->strtab[o->strsz - 1] != '\0')
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "string table does not end with a NUL");
    if (dyn_has(o, DT_SONAME) && !(im->soname = elf_str(o, o->dyn[DT_SONAME])))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_SONAME 0x%llx is past DT_STRSZ",
                         (unsigned long long)o->dyn[DT_SONAME]);
    return check_names(im, d);
}

/* The highest bucket of a GNU hash table: the start of the chain that ends the table. Every
 * bucket is checked (none may point below symoffset). For an object of the system loader's
 * (mapped and searched by ld.so, which checks none of it), the last non-empty bucket: linkers
 * lay the hashed symbols out in bucket order, so it is the same one, found without a scan. */
static uint32_t gnu_highest_bucket(const struct image *im, const struct gnu_hash *g, uint32_t *below)
{
    uint32_t max = 0;
    *below = 0;
    if (im->is_host) {
        for (uint32_t last = g->nbuckets; last > 0 && !max; last--)
            max = g->buckets[last - 1];
        return max;
    }
    for (uint32_t i = 0; i < g->nbuckets; i++) {
        if (g->buckets[i] && g->buckets[i] < g->symoffset && !*below)
            *below = g->buckets[i];
        if (g->buckets[i] > max)
            max = g->buckets[i];
    }
    return max;
}

/* The symbol count a GNU hash table implies: the end of the longest-numbered chain (chains are
 * laid out in symbol order), found by walking from the highest bucket, each word checked. Then
 * every chain word from symoffset on must lie in the table, in one segment: a lookup may start
 * at any bucket and walk up to nsyms - 1 (not only from the highest bucket on). */
static int gnu_hash_count(struct image *im, struct gnu_hash *g, uint64_t chain_va, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    uint32_t below, max = gnu_highest_bucket(im, g, &below);
    if (below || (max && max < g->symoffset))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "DT_GNU_HASH bucket %u is below symoffset %u", below ? below : max, g->symoffset);
    o->nsyms = g->symoffset;
    for (uint64_t i = max; max != 0; i++) {
        uint64_t at = chain_va + (i - g->symoffset) * 4;
        if (i >= UINT32_MAX || !image_table_ok(im, at, 4, 4))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_GNU_HASH chain runs off the segment");
        if (*(const uint32_t *)image_addr(im, at) & 1) {    /* the word just checked */
            o->nsyms = (uint32_t)i + 1;
            break;
        }
    }
    g->nchain = o->nsyms - g->symoffset;
    if (!image_table_ok(im, chain_va, (uint64_t)g->nchain * 4, 4))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "DT_GNU_HASH chains (%u words) are not inside one read-only segment", g->nchain);
    return 0;
}

/* DT_GNU_HASH: header, bloom filter, buckets, then one chain word per hashed symbol. */
static int setup_gnu_hash(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    uint64_t va = o->dyn[DYN_GNU_HASH];
    if (!image_table_ok(im, va, 16, 8))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_GNU_HASH 0x%llx is misaligned or not in a read-only segment",
                         (unsigned long long)va);
    const uint32_t *h = image_addr(im, va);
    struct gnu_hash *g = &o->gnu;
    *g = (struct gnu_hash){ h[0], h[1], h[2], h[3], NULL, NULL, NULL, 0 };
    if (!g->nbuckets || !g->bloom_size || (g->bloom_size & (g->bloom_size - 1)) || g->bloom_shift >= 32)
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "DT_GNU_HASH header is invalid (nbuckets %u, bloom_size %u, bloom_shift %u)",
                         g->nbuckets, g->bloom_size, g->bloom_shift);
    uint64_t head = 16 + (uint64_t)g->bloom_size * 8 + (uint64_t)g->nbuckets * 4;
    if (!image_table_ok(im, va, head, 8))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_GNU_HASH tables extend outside the segments");
    g->bloom = image_addr(im, va + 16);
    g->buckets = image_addr(im, va + 16 + (uint64_t)g->bloom_size * 8);
    g->chain = image_addr(im, va + head);
    return gnu_hash_count(im, g, va + head, d);
}

static int setup_sysv_hash(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    uint64_t va = o->dyn[DT_HASH];
    if (!image_table_ok(im, va, 8, 4))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_HASH 0x%llx is misaligned or not in a read-only segment",
                         (unsigned long long)va);
    const uint32_t *h = image_addr(im, va);
    uint32_t nbucket = h[0], nchain = h[1];
    if (!nbucket || !image_table_ok(im, va, 8 + ((uint64_t)nbucket + nchain) * 4, 4))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_HASH (nbucket %u, nchain %u) is invalid",
                         nbucket, nchain);
    o->sysv_nbucket = nbucket;
    o->sysv_buckets = h + 2;
    o->sysv_chain = h + 2 + nbucket;
    if (!dyn_has(o, DYN_GNU_HASH))
        o->nsyms = nchain;
    else if (nchain < o->nsyms)
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "DT_HASH counts %u symbols, DT_GNU_HASH %u", nchain, o->nsyms);
    return 0;
}

/*
 * ELF records the size of the dynamic symbol table nowhere but in the hash tables, and those
 * only cover the symbols that can be looked up: undefined symbols past the last hashed one are
 * not counted (an object with no definitions has a GNU hash that counts none). Relocations may
 * name them, so their bound is the table's extent: up to the string table when that follows it
 * (as every linker lays them out), else to the end of the segment.
 */
static uint32_t symtab_extent(const struct image *im)
{
    const struct elf_object *o = elf_of(im);
    uint64_t start = o->dyn[DT_SYMTAB], end = start;
    for (size_t i = 0; i < im->nsegs; i++)
        if (start >= im->segs[i].vaddr && start < im->segs[i].vaddr + im->segs[i].memsz)
            end = im->segs[i].vaddr + im->segs[i].memsz;
    if (o->dyn[DT_STRTAB] > start && o->dyn[DT_STRTAB] < end)
        end = o->dyn[DT_STRTAB];
    uint64_t n = (end - start) / sizeof(Elf64_Sym);
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    return n > o->nsyms ? (uint32_t)n : o->nsyms;
}

static int setup_symtab(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (!dyn_has(o, DT_SYMTAB))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "no dynamic symbol table (DT_SYMTAB)");
    if (dyn_has(o, DT_SYMENT) && o->dyn[DT_SYMENT] != sizeof(Elf64_Sym))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_SYMENT %llu is not %zu",
                         (unsigned long long)o->dyn[DT_SYMENT], sizeof(Elf64_Sym));
    if (!dyn_has(o, DYN_GNU_HASH) && !dyn_has(o, DT_HASH))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "no symbol hash table (DT_GNU_HASH or DT_HASH)");
    if (dyn_has(o, DYN_GNU_HASH) && setup_gnu_hash(im, d))
        return -1;
    if (dyn_has(o, DT_HASH) && setup_sysv_hash(im, d))
        return -1;
    if (!image_table_ok(im, o->dyn[DT_SYMTAB], (uint64_t)o->nsyms * sizeof(Elf64_Sym), 8))
        return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im),
                         "symbol table (DT_SYMTAB 0x%llx, %u symbols) is misaligned or not in a read-only segment",
                         (unsigned long long)o->dyn[DT_SYMTAB], o->nsyms);
    o->symtab = image_addr(im, o->dyn[DT_SYMTAB]);
    o->nsyms_max = symtab_extent(im);
    if (dyn_has(o, DYN_VERSYM)) {
        if (!image_table_ok(im, o->dyn[DYN_VERSYM], (uint64_t)o->nsyms * 2, 2))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_VERSYM is misaligned or not in a read-only segment");
        o->versym = image_addr(im, o->dyn[DYN_VERSYM]);
        while (o->nsyms_max > o->nsyms &&
               !image_table_ok(im, o->dyn[DYN_VERSYM], (uint64_t)o->nsyms_max * 2, 2))
            o->nsyms_max = o->nsyms + (o->nsyms_max - o->nsyms) / 2;
    }
    return 0;
}

/*
 * The version table: index → version name, from DT_VERDEF (versions this object defines) and
 * DT_VERNEED (versions it needs from each library), in one walk: the table starts with room for
 * the counts the dynamic section gives and grows when an index is larger. Each record is
 * range-checked; counts bound the walks.
 */
struct vtab {
    struct version *v;
    uint32_t cap;       /* entries allocated (zeroed) */
    uint32_t max;       /* largest index seen */
};

/* Room for indices below cap (zeroed); false when out of memory. */
static bool vtab_reserve(struct vtab *t, uint32_t cap)
{
    if (cap <= t->cap)
        return true;
    struct version *v = realloc(t->v, cap * sizeof *v);
    if (!v)
        return false;
    memset(v + t->cap, 0, (cap - t->cap) * sizeof *v);
    t->v = v, t->cap = cap;
    return true;
}

/* Entry ndx (a 15-bit index), grown into if needed; NULL when out of memory. */
static struct version *vtab_at(struct vtab *t, uint32_t ndx)
{
    uint32_t cap = t->cap ? t->cap : 8;
    while (cap <= ndx)
        cap *= 2;
    if (!vtab_reserve(t, cap))
        return NULL;
    if (ndx > t->max)
        t->max = ndx;
    return &t->v[ndx];
}

static int walk_verdef(struct image *im, struct vtab *t, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    uint64_t va = o->dyn[DYN_VERDEF], n = o->dyn[DYN_VERDEFNUM];
    for (uint64_t k = 0; k < n && k < 65536; k++) {
        if (!image_table_ok(im, va, sizeof(Elf64_Verdef), 4))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_VERDEF entry %llu is out of range",
                             (unsigned long long)k);
        const Elf64_Verdef *vd = image_addr(im, va);
        const Elf64_Verdaux *aux = image_addr(im, va + vd->vd_aux);
        if (vd->vd_version != 1 || !image_table_ok(im, va + vd->vd_aux, sizeof *aux, 4) ||
            !elf_str(o, aux->vda_name))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_VERDEF entry %llu is malformed",
                             (unsigned long long)k);
        struct version *v = vtab_at(t, vd->vd_ndx & 0x7fff);
        if (!v)
            return diag_fail(d, PLUGIN_ERR_NOMEM, image_name(im), "out of memory");
        /* The base version (VER_FLG_BASE: the soname) names the file, not a version of its
         * symbols: glibc leaves it out of the table, so a definition at VER_NDX_GLOBAL has no
         * version name and matches a versioned reference (check_match). */
        if (!(vd->vd_flags & VER_FLG_BASE))
            *v = (struct version){ elf_str(o, aux->vda_name), NULL, false, false };
        if (!vd->vd_next)
            break;
        va += vd->vd_next;
    }
    return 0;
}

static int walk_verneed(struct image *im, struct vtab *t, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    uint64_t va = o->dyn[DYN_VERNEED], n = o->dyn[DYN_VERNEEDNUM];
    for (uint64_t k = 0; k < n && k < 65536; k++) {
        const Elf64_Verneed *vn = image_addr(im, va);
        if (!image_table_ok(im, va, sizeof *vn, 4) || vn->vn_version != 1 || !elf_str(o, vn->vn_file))
            return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_VERNEED entry %llu is malformed",
                             (unsigned long long)k);
        uint64_t ava = va + vn->vn_aux;
        for (uint32_t j = 0; j < vn->vn_cnt; j++) {
            const Elf64_Vernaux *a = image_addr(im, ava);
            if (!image_table_ok(im, ava, sizeof *a, 4) || !elf_str(o, a->vna_name))
                return diag_fail(d, PLUGIN_ERR_FORMAT, image_name(im), "DT_VERNEED entry %llu aux %u is malformed",
                                 (unsigned long long)k, j);
            struct version *v = vtab_at(t, a->vna_other & 0x7fff);
            if (!v)
                return diag_fail(d, PLUGIN_ERR_NOMEM, image_name(im), "out of memory");
            *v = (struct version){ elf_str(o, a->vna_name), elf_str(o, vn->vn_file),
                                   (a->vna_other & 0x8000) != 0, (a->vna_flags & VER_FLG_WEAK) != 0 };
            if (!a->vna_next)
                break;
            ava += a->vna_next;
        }
        if (!vn->vn_next)
            break;
        va += vn->vn_next;
    }
    return 0;
}

static int setup_versions(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (!o->versym)
        return 0;
    bool def = dyn_has(o, DYN_VERDEF), need = dyn_has(o, DYN_VERNEED);
    struct vtab t = { NULL, 0, 1 };
    uint64_t guess = 2 + (def ? o->dyn[DYN_VERDEFNUM] : 0) + (need ? 4 * o->dyn[DYN_VERNEEDNUM] : 0);
    if (!vtab_reserve(&t, (uint32_t)(guess < 0x8000 ? guess : 0x8000)))
        return diag_fail(d, PLUGIN_ERR_NOMEM, image_name(im), "out of memory");
    if ((def && walk_verdef(im, &t, d)) || (need && walk_verneed(im, &t, d))) {
        free(t.v);
        return -1;
    }
    struct version *fit = realloc(t.v, (t.max + 1) * sizeof *t.v);    /* the guess was an upper bound */
    o->versions = fit ? fit : t.v;
    o->nversions = t.max + 1;
    return 0;
}

static int decode_common(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (setup_strtab(im, d) || setup_symtab(im, d) || setup_versions(im, d))
        return -1;
    uint64_t flags = dyn_has(o, DT_FLAGS) ? o->dyn[DT_FLAGS] : 0;
    im->symbolic = dyn_has(o, DT_SYMBOLIC) || (flags & DF_SYMBOLIC);
    return 0;
}

int elf_decode_dynamic(struct image *im, enum elf_purpose why, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (!o->has_dynamic)
        return 0;                               /* described only: a static executable */
    o->dynamic = image_addr(im, (uint64_t)(uintptr_t)o->dynamic);
    if (decode_entries(im, false, d) || decode_common(im, d))
        return -1;
    if (why == ELF_DESCRIBE)
        return 0;
    uint64_t flags = dyn_has(o, DT_FLAGS) ? o->dyn[DT_FLAGS] : 0;
    uint64_t flags1 = dyn_has(o, DYN_FLAGS_1) ? o->dyn[DYN_FLAGS_1] : 0;
    if (dyn_has(o, DT_TEXTREL) || (flags & DF_TEXTREL))
        return policy_text_relocation(im->path, dyn_has(o, DT_TEXTREL) ? "DT_TEXTREL is set" : "DF_TEXTREL is set", d);
    if (flags1 & DF_1_PIE)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path,
                         "is a position-independent executable (DF_1_PIE), not a shared object");
    if (flags1 & DF_1_NOOPEN)                   /* glibc refuses it in every dlopen, dependencies too */
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path,
                         "shared object cannot be dlopen()ed (linked with -z nodlopen, DF_1_NOOPEN)");
    return elf_check_init_tables(im, d);
}

int elf_decode_host_dynamic(struct image *im, struct diag *d)
{
    return decode_entries(im, true, d) || decode_common(im, d) ? -1 : 0;
}

void elf_object_free(struct image *im)
{
    struct elf_object *o = elf_of(im);
    if (!o)
        return;
    free(o->phdrs);
    free(o->versions);
    free(o);
    im->fmt_data = NULL;
}
