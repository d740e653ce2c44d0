/*
 * macho_describe.c — describe a Mach-O file without loading it (macho_describe.h): for each slice,
 * the reader's header and load commands (MACHO_DESCRIBE), the fixups counted by a visitor of the
 * one fixup walk (reading chained pointers from the file's bytes), and the exports of the trie
 * (macho_trie_check, then macho_trie_walk), sorted by C name.
 *
 * Nothing here validates on its own: the reader and the walk do, so the CLI and the loader refuse
 * the same files. The linkedit tables are read from the source (already checked to lie inside
 * __LINKEDIT, inside the slice), each into a buffer the description owns.
 */
#include "macho/macho_describe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct describing {
    struct source *s;
    struct macho_described *sd;
    struct diag *d;
};

/* The r->size bytes of range r of the slice, read into a buffer sd owns. */
static const uint8_t *slice_bytes(struct describing *x, const struct macho_range *r)
{
    struct macho_described *sd = x->sd;
    uint8_t *b = sd->ndata < MACHO_DESCRIBE_MAX_DATA ? malloc(r->size ? r->size : 1) : NULL;
    if (!b) {
        diag_fail(x->d, PLUGIN_ERR_NOMEM, sd->name, "out of memory");
        return NULL;
    }
    sd->data[sd->ndata++] = b;
    return source_read(x->s, sd->m.slice_off + r->off, b, r->size, x->d) ? NULL : b;
}

/* ---- the counting visitor ---- */

static int count_rebase(void *ctx, const struct macho_places *at, const struct macho_rebase *r)
{
    (void)r;
    ((struct describing *)ctx)->sd->counts.rebases += at->count;
    return 0;
}

static int count_bind(void *ctx, const struct macho_places *at, const struct macho_bind *b)
{
    struct macho_fixup_counts *c = &((struct describing *)ctx)->sd->counts;
    uint64_t *n = b->kind == MACHO_BIND_LAZY ? &c->lazy_binds : b->kind == MACHO_BIND_WEAK ? &c->weak_binds : &c->binds;
    *n += at->count;
    return 0;
}

static int read_word(void *ctx, uint64_t vaddr, uint64_t fileoff, uint64_t *word)
{
    struct describing *x = ctx;
    uint8_t b[8];
    (void)vaddr;
    if (source_read(x->s, x->sd->m.slice_off + fileoff, b, 8, x->d))
        return -1;
    *word = 0;
    for (int i = 7; i >= 0; i--)
        *word = *word << 8 | b[i];
    return 0;
}

static const uint8_t *linkedit(void *ctx, const struct macho_range *r)
{
    return slice_bytes(ctx, r);
}

/* ---- the exports ---- */

struct collect {
    struct macho_described *sd;
    size_t cap;
};

static int add_export(void *ctx, const char *name, const struct macho_export *e)
{
    struct collect *c = ctx;
    struct macho_described *sd = c->sd;
    if (sd->nexports == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct macho_named_export *n = realloc(sd->exports, cap * sizeof *n);
        if (!n)
            return -1;
        sd->exports = n;
        c->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    sd->exports[sd->nexports++] = (struct macho_named_export){ copy, *e };
    return 0;
}

const char *macho_c_name(const char *raw)
{
    return raw[0] == '_' ? raw + 1 : raw;
}

static int by_c_name(const void *a, const void *b)
{
    const struct macho_named_export *x = a, *y = b;
    int c = strcmp(macho_c_name(x->name), macho_c_name(y->name));
    c = c ? c : strcmp(x->name, y->name);
    return c ? c : x->e.address < y->e.address ? -1 : x->e.address > y->e.address;
}

/* The trie (LC_DYLD_EXPORTS_TRIE, else LC_DYLD_INFO's), checked as the loader checks it, then every
 * export, sorted. */
static int read_exports(struct describing *x)
{
    struct macho_described *sd = x->sd;
    const struct macho_range *r = sd->m.exports_trie.present ? &sd->m.exports_trie : &sd->m.exports;
    const uint8_t *t;
    size_t count;
    struct collect c = { sd, 0 };
    if (!(sd->have_trie = r->present))
        return 0;
    if (!(t = slice_bytes(x, r)) || macho_trie_check(t, r->size, &count, sd->name, x->d))
        return -1;
    if (macho_trie_walk(t, r->size, add_export, &c) != 0)
        return diag_fail(x->d, PLUGIN_ERR_NOMEM, sd->name, "out of memory");
    if (sd->nexports != count)
        return diag_fail(x->d, PLUGIN_ERR_FORMAT, sd->name, "export trie spells a name longer than the trie");
    if (sd->nexports > 1)
        qsort(sd->exports, sd->nexports, sizeof *sd->exports, by_c_name);
    return 0;
}

/* ---- the whole file ---- */

/* Slice i: its name for messages, its headers, its fixups counted, its exports. */
static int describe_slice(struct macho_description *out, size_t i, const struct macho_slice *at, struct source *s,
                          struct diag *d)
{
    struct macho_described *sd = &out->slices[i];
    char cpu[32];
    int n = out->fat_magic ? asprintf(&sd->name, "%s: slice %zu (%s)", s->name, i,
                                      macho_cpu_name(at->cputype, at->cpusubtype, cpu, sizeof cpu))
                           : asprintf(&sd->name, "%s", s->name);
    if (n < 0) {
        sd->name = NULL;
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    }
    struct source named = *s;
    struct describing x = { &named, sd, d };
    const struct macho_fixup_visitor v = { &x, count_rebase, count_bind, read_word, linkedit };
    named.name = sd->name;
    sd->at = *at;
    if (macho_read_slice(&sd->m, &named, at, MACHO_DESCRIBE, d))
        return -1;
    if (sd->m.unsupported)
        return 0;
    return macho_walk_fixups(&sd->m, MACHO_DESCRIBE, &v, &sd->fixups, sd->name, d) || read_exports(&x) ? -1 : 0;
}

int macho_describe(struct macho_description *out, struct source *s, struct diag *d)
{
    struct macho_slices f;
    memset(out, 0, sizeof *out);
    if (macho_read_slices(&f, s, d))
        return -1;
    out->fat_magic = f.fat_magic;
    if (!(out->slices = calloc(f.n, sizeof *out->slices))) {
        macho_slices_free(&f);
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < f.n && rc == 0; i++, out->nslices++)
        rc = describe_slice(out, i, &f.v[i], s, d);
    macho_slices_free(&f);
    return rc;
}

void macho_description_free(struct macho_description *out)
{
    for (size_t i = 0; i < out->nslices; i++) {
        struct macho_described *sd = &out->slices[i];
        for (size_t j = 0; j < sd->nexports; j++)
            free(sd->exports[j].name);
        for (size_t j = 0; j < sd->ndata; j++)
            free(sd->data[j]);
        free(sd->exports);
        free(sd->name);
        macho_free(&sd->m);
    }
    free(out->slices);
    memset(out, 0, sizeof *out);
}
