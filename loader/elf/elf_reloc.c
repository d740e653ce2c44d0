/*
 * elf_reloc.c — the relocation tables, and binding an ELF object.
 *
 * The tables (elf_walk_relocs, also what plugin info counts): DT_RELR (packed relative
 * relocations) first, then DT_RELA / DT_REL, then the PLT relocations (DT_JMPREL), each checked
 * before it is read. Binding (the front end's bind step) applies every entry now (like RTLD_NOW):
 * the arch module says what kind of work the type needs and how its value is computed; this file
 * finds S (elf_resolve.c), checks that the place lies inside a writable segment of the object (a
 * place in a read-only segment would be a text relocation: refused) and lets the arch module
 * store the value.
 *
 * IFUNC resolvers in objects of this open are called only after every object's ordinary
 * relocations are done (glibc does the same for IRELATIVE), because a resolver is code of the
 * object and may read its own GOT. Under PLUGIN_NO_RUN, a relocation that needs a resolver of an
 * object that has not been initialized fails the open (core/init.c, init_may_call_resolver).
 */
#include "elf/elf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct deferred {           /* a value that needs an IFUNC resolver of this open */
    struct image *im;
    const struct reloc_type *rt;
    uint64_t where;         /* vaddr */
    int64_t addend;
    uint64_t resolver;      /* address */
};

struct walk {
    struct load *ld;
    struct image *im;
    struct deferred *def;
    size_t ndef, cap;
    uint32_t counts[64];    /* per entry of the arch table */
    uint32_t last_sym;      /* one-entry cache: consecutive relocations often name one symbol */
    struct resolved last;
    uint32_t last_type;     /* one-entry cache of the type's description (runs of one type) */
    const struct reloc_type *last_rt;
    uint64_t wlo, whi;      /* the writable segment the last place was in: [wlo, whi) */
    uint32_t relative;      /* this CPU's RELATIVE type, and its index in the arch table */
    size_t relative_idx;
};

static int defer(struct walk *w, const struct reloc_type *rt, uint64_t where, int64_t addend, uint64_t resolver)
{
    if (w->ndef == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct deferred *n = realloc(w->def, cap * sizeof *n);
        if (!n)
            return diag_fail(w->ld->d, PLUGIN_ERR_NOMEM, w->im->path, "out of memory");
        w->def = n;
        w->cap = cap;
    }
    w->def[w->ndef++] = (struct deferred){ w->im, rt, where, addend, resolver };
    return 0;
}

/* The name of symbol symidx of im, for a message (the binding step checked the index). */
static const char *symbol_name(const struct image *im, uint32_t symidx)
{
    const struct elf_object *o = elf_of(im);
    return symidx < o->nsyms ? elf_str(o, o->symtab[symidx].st_name) : NULL;
}

static int symbol_value(struct walk *w, const struct reloc_type *rt, uint32_t symidx, uint64_t where,
                        int64_t addend, uint64_t *S, bool *deferred)
{
    *deferred = false;
    if (symidx == 0) {
        *S = 0;
        return 0;
    }
    if (symidx != w->last_sym) {
        if (elf_resolve_symbol(w->ld, w->im, symidx, &w->last))
            return -1;
        w->last_sym = symidx;
    }
    const struct resolved *r = &w->last;
    *S = r->addr;
    if (!r->sym || !r->ifunc)
        return 0;
    if (init_may_call_resolver(w->ld, w->im, r->def, rt->name, where, symbol_name(w->im, symidx)))
        return -1;
    if (r->def->is_host || r->def->state >= IMG_RELOCATED) {
        *S = w->im->arch->call_ifunc(r->addr);
        return 0;
    }
    *deferred = true;
    return defer(w, rt, where, addend, r->addr);
}

static int64_t implicit_addend(const void *p, unsigned width)
{
    if (width == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The place of a relocation: inside a writable segment. Places come in order, mostly within one
 * segment, so the segment of the last place is tried first. */
static int check_place(struct walk *w, const struct reloc_type *rt, uint64_t where)
{
    struct image *im = w->im;
    if (where >= w->wlo && where < w->whi && w->whi - where >= rt->width)
        return 0;
    if (image_range_ok(im, where, rt->width, RANGE_WRITE)) {
        for (size_t i = 0; i < im->nsegs; i++) {
            const struct segment *sg = &im->segs[i];
            if ((sg->flags & SEG_W) && where >= sg->vaddr && where - sg->vaddr < sg->memsz)
                w->wlo = sg->vaddr, w->whi = sg->vaddr + sg->memsz;
        }
        return 0;
    }
    if (image_range_ok(im, where, rt->width, RANGE_MAPPED)) {
        char what[96];
        snprintf(what, sizeof what, "%s at 0x%llx writes into a read-only segment", rt->name,
                 (unsigned long long)where);
        return policy_text_relocation(im->path, what, w->ld->d);
    }
    return diag_fail(w->ld->d, PLUGIN_ERR_FORMAT, im->path, "%s at 0x%llx is outside the mapped segments",
                     rt->name, (unsigned long long)where);
}

static int refuse(struct walk *w, const struct reloc_type *rt, uint32_t type, uint64_t where)
{
    struct image *im = w->im;
    if (!rt)
        return diag_fail(w->ld->d, PLUGIN_ERR_UNSUPPORTED, im->path, "unknown %s relocation type %u at 0x%llx",
                         im->arch->name, type, (unsigned long long)where);
    if (rt->kind == RK_COPY)
        return diag_fail(w->ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                         "%s at 0x%llx: copy relocations belong to executables, not shared objects",
                         rt->name, (unsigned long long)where);
    return diag_fail(w->ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                     "%s at 0x%llx is not supported in a shared object", rt->name, (unsigned long long)where);
}

/* One relocation. addend is used when has_addend (RELA); otherwise it is read from the place. */
static __attribute__((noinline)) int relocate_one(struct walk *w, uint32_t type, uint32_t symidx, uint64_t where, int64_t addend,
                        bool has_addend)
{
    struct image *im = w->im;
    if (type != w->last_type) {
        w->last_type = type;
        w->last_rt = arch_reloc_type(im->arch, type);
    }
    const struct reloc_type *rt = w->last_rt;
    if (rt && rt->kind == RK_NONE)
        return 0;
    if (!rt || rt->kind == RK_COPY || rt->kind == RK_UNSUPPORTED)
        return refuse(w, rt, type, where);
    if (check_place(w, rt, where))
        return -1;
    void *p = image_addr(im, where);
    int64_t A = has_addend ? addend : implicit_addend(p, rt->width);
    uint64_t S = 0;
    bool later = false;
    w->counts[rt - im->arch->types]++;
    if (rt->kind == RK_TLS)
        return elf_tls_relocate(w->ld, im, rt, symidx, where, A);
    if (rt->kind == RK_IRELATIVE)
        return init_may_call_resolver(w->ld, im, NULL, rt->name, where, NULL) ? -1
                                                                              : defer(w, rt, where, 0, im->bias + (uint64_t)A);
    if (rt->kind != RK_RELATIVE && symbol_value(w, rt, symidx, where, A, &S, &later))
        return -1;
    if (later)
        return 0;
    if (arch_reloc_apply(rt, p, S, A, im->bias, im->bias + where))
        return diag_fail(w->ld->d, PLUGIN_ERR_FORMAT, im->path, "%s at 0x%llx: the value does not fit the field",
                         rt->name, (unsigned long long)where);
    return 0;
}

/* A relocation table given by address, size and entry size tags; checked before it is read.
 * NULL: none; TABLE_BAD: malformed (an error was filled). */
#define TABLE_BAD ((const void *)-1)
static const void *table(const struct image *im, int addr_tag, uint64_t size, int ent_tag, size_t ent,
                         const char *what, struct diag *d)
{
    const struct elf_object *o = elf_of(im);
    if (!dyn_has(o, addr_tag) || size == 0)
        return NULL;
    if ((ent_tag >= 0 && dyn_has(o, ent_tag) && o->dyn[ent_tag] != ent) || size % ent ||
        !image_table_ok(im, o->dyn[addr_tag], size, 8)) {
        diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "%s table (0x%llx, %llu bytes) is malformed", what,
                  (unsigned long long)o->dyn[addr_tag], (unsigned long long)size);
        return TABLE_BAD;
    }
    return image_addr(im, o->dyn[addr_tag]);
}

struct tables {
    const Elf64_Rela *rela, *plt_rela;
    const Elf64_Rel *rel, *plt_rel;
    const uint64_t *relr;
    uint64_t relasz, relsz, pltsz, relrsz;
};

/* Find and check the four tables; the PLT relocations are not counted twice when the linker
 * included them in DT_RELASZ too. */
static int find_tables(const struct image *im, struct tables *t, struct diag *d)
{
    const struct elf_object *o = elf_of(im);
    uint64_t relasz = o->dyn[DT_RELASZ], relsz = o->dyn[DT_RELSZ], pltsz = o->dyn[DT_PLTRELSZ];
    if (dyn_has(o, DT_PLTREL) && o->dyn[DT_PLTREL] != DT_RELA && o->dyn[DT_PLTREL] != DT_REL)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "DT_PLTREL %llu is neither DT_RELA nor DT_REL",
                         (unsigned long long)o->dyn[DT_PLTREL]);
    bool plt_rela = !dyn_has(o, DT_PLTREL) || o->dyn[DT_PLTREL] == DT_RELA;
    uint64_t *sz = plt_rela ? &relasz : &relsz;
    int tag = plt_rela ? DT_RELA : DT_REL;
    if (dyn_has(o, DT_JMPREL) && dyn_has(o, tag) && o->dyn[tag] + *sz == o->dyn[DT_JMPREL] + pltsz &&
        *sz >= pltsz)
        *sz -= pltsz;       /* some linkers count the PLT relocations in DT_RELASZ too */
    const void *relr = table(im, DT_RELR, o->dyn[DT_RELRSZ], DT_RELRENT, 8, "DT_RELR", d);
    const void *rela = table(im, DT_RELA, relasz, DT_RELAENT, sizeof(Elf64_Rela), "DT_RELA", d);
    const void *rel = table(im, DT_REL, relsz, DT_RELENT, sizeof(Elf64_Rel), "DT_REL", d);
    const void *plt = table(im, DT_JMPREL, pltsz, -1, plt_rela ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel),
                            "DT_JMPREL", d);
    if (relr == TABLE_BAD || rela == TABLE_BAD || rel == TABLE_BAD || plt == TABLE_BAD)
        return -1;
    *t = (struct tables){ rela, plt_rela ? plt : NULL, rel, plt_rela ? NULL : plt, relr,
                          rela ? relasz : 0, rel ? relsz : 0, plt ? pltsz : 0, relr ? o->dyn[DT_RELRSZ] : 0 };
    return 0;
}

typedef int (*reloc_fn)(void *ctx, const struct elf_reloc *r);

static inline __attribute__((always_inline)) int each_rela(const Elf64_Rela *r, uint64_t size, reloc_fn fn, void *ctx)
{
    int rc = 0;
    for (uint64_t i = 0; r && !rc && i < size / sizeof *r; i++)
        rc = fn(ctx, &(struct elf_reloc){ ELF64_R_TYPE(r[i].r_info), ELF64_R_SYM(r[i].r_info), r[i].r_offset,
                                          r[i].r_addend, true, false });
    return rc;
}

static inline __attribute__((always_inline)) int each_rel(const Elf64_Rel *r, uint64_t size, reloc_fn fn, void *ctx)
{
    int rc = 0;
    for (uint64_t i = 0; r && !rc && i < size / sizeof *r; i++)
        rc = fn(ctx, &(struct elf_reloc){ ELF64_R_TYPE(r[i].r_info), ELF64_R_SYM(r[i].r_info), r[i].r_offset,
                                          0, false, false });
    return rc;
}

/* DT_RELR: an even word is an address to relocate; an odd word is a bitmap of the 63 words that
 * follow the last address (bit i set: relocate where + (i-1) * 8). */
static inline __attribute__((always_inline)) int each_relr(const uint64_t *r, uint64_t size, uint32_t type, reloc_fn fn, void *ctx)
{
    uint64_t where = 0;
    int rc = 0;
    for (uint64_t i = 0; r && !rc && i < size / 8; i++) {
        uint64_t e = r[i];
        if (!(e & 1)) {
            rc = fn(ctx, &(struct elf_reloc){ type, 0, e, 0, false, true });
            where = e + 8;
            continue;
        }
        for (uint64_t bits = e >> 1; bits && !rc; bits &= bits - 1)     /* each set bit, lowest first */
            rc = fn(ctx, &(struct elf_reloc){ type, 0, where + (uint64_t)__builtin_ctzll(bits) * 8, 0, false, true });
        where += 63 * 8;
    }
    return rc;
}

/* The walk itself, inlined into its two callers so that binding's callback (apply_one) is
 * inlined into the loops: a relative relocation then costs a few instructions, as in ld.so. */
static inline __attribute__((always_inline)) int walk_tables(const struct image *im, uint32_t relative_type,
                                                             reloc_fn fn, void *ctx, struct diag *d)
{
    struct tables t = { 0 };
    if (!elf_of(im)->has_dynamic)
        return 0;
    if (find_tables(im, &t, d))
        return -1;
    int rc = each_relr(t.relr, t.relrsz, relative_type, fn, ctx);
    rc = rc ? rc : each_rela(t.rela, t.relasz, fn, ctx);
    rc = rc ? rc : each_rel(t.rel, t.relsz, fn, ctx);
    rc = rc ? rc : each_rela(t.plt_rela, t.pltsz, fn, ctx);
    return rc ? rc : each_rel(t.plt_rel, t.pltsz, fn, ctx);
}

int elf_walk_relocs(const struct image *im, uint32_t relative_type, reloc_fn fn, void *ctx, struct diag *d)
{
    return walk_tables(im, relative_type, fn, ctx, d);
}

static void trace_counts(struct walk *w)
{
    struct image *im = w->im;
    for (size_t i = 0; i < im->arch->ntypes; i++)
        if (w->counts[i])
            diag_trace_ev(w->ld->d, TRACE_RELOC, ev_relocs(im->path, im->arch->types[i].name, w->counts[i]),
                          "%s: applied %u %s", im->path, w->counts[i], im->arch->types[i].name);
}

/* One relocation. RELATIVE (B + A into a 64-bit word; most relocations of most objects) in a
 * place of the writable segment the last one was in takes the short way: the checks and the
 * computation relocate_one would make, without the lookups. */
static inline __attribute__((always_inline)) int apply_one(void *ctx, const struct elf_reloc *r)
{
    struct walk *w = ctx;
    if (r->type == w->relative && r->where >= w->wlo && r->where < w->whi && w->whi - r->where >= 8) {
        void *p = image_addr(w->im, r->where);
        uint64_t v;
        if (r->has_addend)
            v = (uint64_t)r->addend;
        else
            memcpy(&v, p, 8);
        v += w->im->bias;
        memcpy(p, &v, 8);
        w->counts[w->relative_idx]++;
        return 0;
    }
    return relocate_one(w, r->type, r->sym, r->where, r->addend, r->has_addend) ? -1 : 0;
}

static int run_deferred(struct walk *w)
{
    for (size_t i = 0; i < w->ndef; i++) {
        struct deferred *df = &w->def[i];
        w->im = df->im;
        uint64_t S = df->im->arch->call_ifunc(df->resolver);
        if (arch_reloc_apply(df->rt, image_addr(df->im, df->where), S, df->addend, df->im->bias,
                             df->im->bias + df->where))
            return diag_fail(w->ld->d, PLUGIN_ERR_FORMAT, df->im->path, "%s at 0x%llx: the value does not fit",
                             df->rt->name, (unsigned long long)df->where);
    }
    if (w->ndef)
        diag_trace(w->ld->d, TRACE_RELOC, "called %zu IFUNC resolvers", w->ndef);
    return 0;
}

/*
 * Binding's own walk of the same tables, in the same order as walk_tables. RELATIVE relocations
 * (most of most objects: a linker puts them first in DT_RELA, and DT_RELR holds nothing else) run
 * as tight loops: the writable segment of the last place and the load address are held in locals,
 * which the stores into the object cannot change (through the walk they could, as far as the
 * compiler knows, so every entry reloaded them). A place outside that segment, or any other type,
 * goes through relocate_one, which checks it and moves the window to the place's segment.
 */
struct window {
    uint64_t lo, limit;     /* an 8-byte place at where fits when where - lo < limit */
    uintptr_t bias;
    uint32_t done;          /* RELATIVE relocations applied here (for the trace's counts) */
};

/* The window of [wlo, whi), the writable segment of the last place: places lo .. hi - 8, one
 * unsigned comparison each (a place below lo wraps around to a large difference); empty when
 * the segment is shorter than a word (or not known yet: wlo = whi = 0). */
static inline void window_load(struct window *win, const struct walk *w)
{
    win->lo = w->wlo;
    win->limit = w->whi - w->wlo >= 8 ? w->whi - w->wlo - 7 : 0;
    win->bias = w->im->bias;
}

static inline bool window_has(const struct window *win, uint64_t where)
{
    return where - win->lo < win->limit;
}

/* DT_RELA: runs of RELATIVE entries in the window, the rest one by one. */
static int bind_rela(struct walk *w, const Elf64_Rela *r, uint64_t size)
{
    struct window win = { 0, 0, 0, 0 };
    const uint32_t relative = w->relative;
    window_load(&win, w);
    uint64_t n = r ? size / sizeof *r : 0, slow = 0;
    for (const Elf64_Rela *e = r, *end = n ? r + n : r; e < end; e++) {
        uint32_t type = ELF64_R_TYPE(e->r_info);
        if (type == relative && window_has(&win, e->r_offset)) {
            uint64_t v = win.bias + (uint64_t)e->r_addend;
            memcpy((void *)(win.bias + e->r_offset), &v, 8);
            continue;
        }
        slow++;                             /* counted by relocate_one */
        if (relocate_one(w, type, ELF64_R_SYM(e->r_info), e->r_offset, e->r_addend, true))
            return -1;
        window_load(&win, w);
    }
    w->counts[w->relative_idx] += (uint32_t)(n - slow);
    return 0;
}

/* DT_RELR: every place holds its unrelocated value; the load address is added. The walk is
 * each_relr's; its callback, inlined, works on this window of locals. */
struct relr_walk {
    struct walk *w;
    struct window win;
};

static inline __attribute__((always_inline)) int relr_one(void *ctx, const struct elf_reloc *r)
{
    struct relr_walk *rw = ctx;
    if (window_has(&rw->win, r->where)) {
        uint64_t v;
        void *p = (void *)(rw->win.bias + r->where);
        memcpy(&v, p, 8);
        v += rw->win.bias;
        memcpy(p, &v, 8);
        rw->win.done++;
        return 0;
    }
    if (relocate_one(rw->w, r->type, 0, r->where, 0, false))
        return -1;
    window_load(&rw->win, rw->w);
    return 0;
}

static int bind_relr(struct walk *w, const uint64_t *r, uint64_t size)
{
    struct relr_walk rw = { w, { 0, 0, 0, 0 } };
    window_load(&rw.win, w);
    if (each_relr(r, size, w->relative, relr_one, &rw))
        return -1;
    w->counts[w->relative_idx] += rw.win.done;
    return 0;
}

/* A RELA table that writes a good part of a writable segment (a relocated word for every eight
 * of the segment's file-backed words: every page, unless they crowd together) is about to copy
 * nearly every page of it on write: the segment's file pages are populated at once (vm_prefault;
 * RELRO, usually most of it, already was). The segment is the first place's. */
static void prefault_dense(struct walk *w, const Elf64_Rela *r, uint64_t size)
{
    const struct image *im = w->im;
    uint64_t n = r ? size / sizeof *r : 0;
    for (size_t i = 0; n && i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if (!(sg->flags & SEG_W) || r[0].r_offset - sg->vaddr >= sg->filesz || n < sg->filesz / 64)
            continue;
        uint64_t lo = sg->vaddr, hi = sg->vaddr + sg->filesz;
        uint64_t relro_end = im->relro_vaddr + im->relro_memsz;
        if (im->relro_memsz && im->relro_vaddr <= lo && relro_end > lo)
            lo = relro_end < hi ? relro_end : hi;   /* RELRO, at the segment's start, was populated */
        vm_prefault(im, lo, hi - lo, w->ld->d);
    }
}

static int bind_tables(struct walk *w)
{
    struct tables t = { 0 };
    if (!elf_of(w->im)->has_dynamic)
        return 0;
    if (find_tables(w->im, &t, w->ld->d))
        return -1;
    const struct elf_object *o = elf_of(w->im);
    if (t.rela && vm_prefetch(w->im, o->dyn[DT_RELA], t.relasz))     /* read once, front to back */
        diag_trace(w->ld->d, TRACE_RELOC, "%s: DT_RELA (%llu bytes) mapped ahead", w->im->path, (unsigned long long)t.relasz);
    prefault_dense(w, t.rela, t.relasz);
    return bind_relr(w, t.relr, t.relrsz) || bind_rela(w, t.rela, t.relasz) ||
           each_rel(t.rel, t.relsz, apply_one, w) || bind_rela(w, t.plt_rela, t.pltsz) ||
           each_rel(t.plt_rel, t.pltsz, apply_one, w) ? -1 : 0;
}

/* The bind step of one image; *state is this open's walk (its deferred IFUNC values). */
int elf_bind(struct load *ld, struct image *im, void **state)
{
    struct walk *w = *state;
    if (!w && !(w = *state = calloc(1, sizeof *w)))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
    w->ld = ld;
    w->im = im;
    memset(w->counts, 0, sizeof w->counts);
    w->last_sym = 0;
    w->last_type = UINT32_MAX;
    w->wlo = w->whi = 0;
    w->relative = arch_relative_type(im->arch);
    const struct reloc_type *rel = arch_reloc_type(im->arch, w->relative);
    w->relative_idx = rel ? (size_t)(rel - im->arch->types) : 0;
    if (bind_tables(w))
        return -1;
    trace_counts(w);
    return 0;
}

int elf_bind_done(struct load *ld, void *state, bool run)
{
    struct walk *w = state;
    int rc = w && run ? run_deferred(w) : 0;
    (void)ld;
    if (w)
        free(w->def);
    free(w);
    return rc;
}
