/*
 * macho_fixup_walk.c — the one walk of a Mach-O object's fixups, both generations, for the loader
 * (which writes each value) and for `plugin info` (which counts them); see macho_walk.h.
 *
 *   LC_DYLD_INFO(_ONLY): byte-code streams. A rebase stream moves a cursor (segment, offset) over
 *   the places to slide; a bind stream also carries the current symbol, library ordinal and
 *   addend. A repeat is checked as a whole before the visitor sees it: every place it names lies
 *   inside the cursor's segment (overflow-safe), so a visitor that counts need not loop.
 *
 *   LC_DYLD_CHAINED_FIXUPS: the header, the imports table and starts_in_image are checked, then
 *   every chain of every page is followed: each 64-bit word is a rebase or a bind (an import
 *   ordinal checked against the table) plus the distance to the next one. A chain may not leave
 *   its page or its segment's file data, and the walk as a whole may not visit more places than
 *   the slice has 4-byte words (so a hostile file cannot make it run long).
 *
 * Every offset, count and size read here is checked before it is used; a malformed table is a
 * FORMAT error naming the table, the position and the bad value.
 */
#include "macho/macho_walk.h"

#include <string.h>

enum {
    PTR_ARM64E = 1, PTR_64 = 2, PTR_64_OFFSET = 6, PTR_ARM64E_USERLAND = 9, PTR_ARM64E_USERLAND24 = 12,
    START_NONE = 0xffff, START_MULTI = 0x8000, STREAM_REBASE = -1,
};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

struct walk {
    const struct macho *m;
    enum macho_mode mode;
    const struct macho_fixup_visitor *v;
    struct macho_fixup_summary *sum;
    const char *name;
    struct diag *d;
};

/* ---- byte-code streams ---------------------------------------------------------------------- */

struct cursor {
    struct walk *w;
    const uint8_t *p;
    size_t size, pos;
    const char *what;           /* "rebase", "bind", "lazy bind", "weak bind": for messages */
    unsigned seg;               /* the current place: segment seg + offset */
    uint64_t offset;
    bool have_seg;
    struct macho_bind b;        /* bind streams: the current symbol, ordinal, addend */
};

static int bad(struct cursor *c, const char *why)
{
    return diag_fail(c->w->d, PLUGIN_ERR_FORMAT, c->w->name, "%s info at byte %zu: %s", c->what, c->pos, why);
}

static int uleb(struct cursor *c, uint64_t *v)
{
    return macho_uleb(c->p, c->size, &c->pos, v) ? 0 : bad(c, "truncated or oversized ULEB128");
}

static int set_segment(struct cursor *c, unsigned seg)
{
    if (seg >= c->w->m->nsegs)
        return bad(c, "segment index out of range");
    c->seg = seg;
    c->have_seg = true;
    return uleb(c, &c->offset);
}

/* count places from the cursor, skip bytes apart, all inside the segment, to the visitor; the
 * cursor moves past them (it may wrap only past the segment: the next place is checked). */
static int run(struct cursor *c, uint64_t count, uint64_t skip, bool bind)
{
    uint64_t step, span, last;
    if (count == 0)
        return 0;
    if (bind && !c->b.symbol)
        return bad(c, "bind without a symbol");
    if (!c->have_seg)
        return bad(c, "a fixup before any segment was set");
    const struct macho_segment *g = &c->w->m->segs[c->seg];
    if (__builtin_add_overflow(skip, 8, &step) || __builtin_mul_overflow(count - 1, step, &span) ||
        __builtin_add_overflow(c->offset, span, &last) || g->vmsize < 8 || last > g->vmsize - 8)
        return bad(c, "a fixup lies outside its segment");
    struct macho_places at = { g->vmaddr + c->offset, step, count };
    const struct macho_fixup_visitor *v = c->w->v;
    c->offset = last + step;
    if (bind)
        return v->bind(v->ctx, &at, &c->b) ? -1 : 0;
    return v->rebase(v->ctx, &at, &(struct macho_rebase){ false, 0, 0 }) ? -1 : 0;
}

static int rebase_op(struct cursor *c, uint8_t op, uint8_t imm)
{
    uint64_t a = 0, b = 0;
    switch (op) {
    case 0x00: c->pos = c->size; return 0;                              /* DONE */
    case 0x10: return imm == 1 ? 0 : bad(c, "rebase type is not a pointer");
    case 0x20: return set_segment(c, imm);                              /* SET_SEGMENT_AND_OFFSET_ULEB */
    case 0x30: if (uleb(c, &a)) return -1; c->offset += a; return 0;    /* ADD_ADDR_ULEB */
    case 0x40: c->offset += (uint64_t)imm * 8; return 0;                /* ADD_ADDR_IMM_SCALED */
    case 0x50: return run(c, imm, 0, false);                            /* DO_REBASE_IMM_TIMES */
    case 0x60: return uleb(c, &a) || run(c, a, 0, false);               /* DO_REBASE_ULEB_TIMES */
    case 0x70: return uleb(c, &a) || run(c, 1, a, false);               /* DO_REBASE_ADD_ADDR_ULEB */
    case 0x80: return uleb(c, &a) || uleb(c, &b) || run(c, a, b, false); /* ..._TIMES_SKIPPING_ULEB */
    default: return bad(c, "unknown rebase opcode");
    }
}

static int bind_symbol(struct cursor *c, uint8_t imm)
{
    const uint8_t *nul = memchr(c->p + c->pos, '\0', c->size - c->pos);
    if (!nul)
        return bad(c, "unterminated symbol name");
    c->b.symbol = (const char *)c->p + c->pos;
    c->b.weak = imm & 1;                                                /* BIND_SYMBOL_FLAGS_WEAK_IMPORT */
    c->pos = (size_t)(nul - c->p) + 1;
    return 0;
}

/* Threaded binds (arm64e): described as skipped, the rest of the stream unread; not loaded. */
static int threaded(struct cursor *c)
{
    if (c->w->mode == MACHO_LOAD)
        return bad(c, "unknown or arm64e (threaded) bind opcode");
    c->w->sum->skipped = "threaded (arm64e) bind opcodes";
    c->pos = c->size;
    return 0;
}

static int bind_op(struct cursor *c, uint8_t op, uint8_t imm)
{
    uint64_t a = 0, s = 0;
    switch (op) {
    case 0x00: if (c->b.kind != MACHO_BIND_LAZY) c->pos = c->size; return 0;   /* DONE (lazy: entry end) */
    case 0x10: c->b.ordinal = imm; return 0;
    case 0x20: if (uleb(c, &a)) return -1; c->b.ordinal = (int64_t)a; return 0;
    case 0x30: c->b.ordinal = imm ? (int64_t)(int8_t)(0xf0 | imm) : 0; return 0;
    case 0x40: return bind_symbol(c, imm);
    case 0x50: return imm == 1 ? 0 : bad(c, "bind type is not a pointer");
    case 0x60: return macho_sleb(c->p, c->size, &c->pos, &c->b.addend) ? 0 : bad(c, "bad SLEB128 addend");
    case 0x70: return set_segment(c, imm);
    case 0x80: if (uleb(c, &a)) return -1; c->offset += a; return 0;    /* ADD_ADDR_ULEB */
    case 0x90: return run(c, 1, 0, true);                               /* DO_BIND */
    case 0xa0: return uleb(c, &a) || run(c, 1, a, true);                /* DO_BIND_ADD_ADDR_ULEB */
    case 0xb0: return run(c, 1, (uint64_t)imm * 8, true);               /* ..._ADD_ADDR_IMM_SCALED */
    case 0xc0: return uleb(c, &a) || uleb(c, &s) || run(c, a, s, true); /* ..._ULEB_TIMES_SKIPPING_ULEB */
    case 0xd0: return threaded(c);
    default: return bad(c, "unknown or arm64e (threaded) bind opcode");
    }
}

/* One stream: kind is STREAM_REBASE or the enum macho_bind_kind of a bind stream. */
static int stream(struct walk *w, const struct macho_range *r, const char *what, int kind)
{
    if (!r->present || !r->size)
        return 0;
    const uint8_t *p = w->v->linkedit(w->v->ctx, r);
    if (!p)
        return -1;
    struct cursor c = { .w = w, .p = p, .size = r->size, .what = what };
    c.b.kind = kind == STREAM_REBASE ? MACHO_BIND_REGULAR : (enum macho_bind_kind)kind;
    while (c.pos < c.size) {
        uint8_t x = c.p[c.pos++];
        if (kind == STREAM_REBASE ? rebase_op(&c, x & 0xf0, x & 0x0f) : bind_op(&c, x & 0xf0, x & 0x0f))
            return -1;
    }
    return 0;
}

/* ---- chained fixups --------------------------------------------------------------------------- */

struct chains {
    struct walk *w;
    const uint8_t *p;           /* the LC_DYLD_CHAINED_FIXUPS payload */
    uint32_t size, imports_off, symbols_off;
    uint64_t budget;            /* places the walk may still visit */
};

struct ptr_layout {             /* how a 64-bit chained pointer format is read */
    unsigned stride;            /* bytes per unit of "next" */
    unsigned bind_bit;
    uint64_t next_mask;         /* of w >> 51 */
    uint64_t ordinal_mask;
    bool decoded;               /* targets and addends decoded (DYLD_CHAINED_PTR_64 and _64_OFFSET) */
    bool offset;                /* a rebase target is an offset from the image's base (_64_OFFSET) */
};

static bool layout_of(uint16_t fmt, struct ptr_layout *l)
{
    if (fmt == PTR_64 || fmt == PTR_64_OFFSET)
        *l = (struct ptr_layout){ 4, 63, 0xfff, 0xffffff, true, fmt == PTR_64_OFFSET };
    else if (fmt == PTR_ARM64E || fmt == PTR_ARM64E_USERLAND)
        *l = (struct ptr_layout){ 8, 62, 0x7ff, 0xffff, false, false };
    else if (fmt == PTR_ARM64E_USERLAND24)
        *l = (struct ptr_layout){ 8, 62, 0x7ff, 0xffffff, false, false };
    else
        return false;
    return true;
}

static int cbad(struct chains *ch, const char *why, uint64_t v)
{
    return diag_fail(ch->w->d, PLUGIN_ERR_FORMAT, ch->w->name, "chained fixups: %s (0x%llx)", why,
                     (unsigned long long)v);
}

static const char *pointer_format_name(uint16_t fmt)
{
    static const char *const names[] = {
        NULL, "DYLD_CHAINED_PTR_ARM64E", "DYLD_CHAINED_PTR_64", "DYLD_CHAINED_PTR_32",
        "DYLD_CHAINED_PTR_32_CACHE", "DYLD_CHAINED_PTR_32_FIRMWARE", "DYLD_CHAINED_PTR_64_OFFSET",
        "DYLD_CHAINED_PTR_ARM64E_KERNEL", "DYLD_CHAINED_PTR_64_KERNEL_CACHE", "DYLD_CHAINED_PTR_ARM64E_USERLAND",
        "DYLD_CHAINED_PTR_ARM64E_FIRMWARE", "DYLD_CHAINED_PTR_X86_64_KERNEL_CACHE",
        "DYLD_CHAINED_PTR_ARM64E_USERLAND24",
    };
    return fmt < sizeof names / sizeof names[0] && names[fmt] ? names[fmt] : "unknown";
}

/* A segment's pointer format: noted; 0 walk it (layout in l), 1 skip it (described), -1 refused. */
static int segment_layout(struct chains *ch, uint16_t fmt, struct ptr_layout *l)
{
    struct macho_fixup_summary *sum = ch->w->sum;
    bool seen = false;
    for (size_t i = 0; i < sum->nptr_formats; i++)
        seen |= sum->ptr_formats[i] == fmt;
    if (!seen && sum->nptr_formats < MACHO_MAX_PTR_FORMATS)
        sum->ptr_formats[sum->nptr_formats++] = fmt;
    bool known = layout_of(fmt, l);
    if (ch->w->mode == MACHO_LOAD && (!known || !l->decoded))
        return diag_fail(ch->w->d, PLUGIN_ERR_UNSUPPORTED, ch->w->name,
                         "chained pointer format %s (%u) is not supported", pointer_format_name(fmt), fmt);
    if (known)
        return 0;
    sum->skipped = "a pointer format that is not counted";
    return 1;
}

/* Import i: library ordinal, weak flag, name (when names are plain) and addend. */
static int import(struct chains *ch, uint32_t i, struct macho_bind *b)
{
    static const uint32_t esz[4] = { 0, 4, 8, 16 };
    uint32_t fmt = ch->w->sum->imports_format;
    uint64_t name_off;
    if (i >= ch->w->sum->nimports)
        return cbad(ch, "import index out of range", i);
    const uint8_t *e = ch->p + ch->imports_off + (uint64_t)i * esz[fmt];   /* inside the table: checked */
    if (fmt == 3) {
        uint64_t w = le64(e);
        b->ordinal = (int16_t)(w & 0xffff), b->weak = (w >> 16) & 1, name_off = w >> 32;
        b->addend = (int64_t)le64(e + 8);
    } else {
        uint32_t w = le32(e);
        b->ordinal = (int8_t)(w & 0xff), b->weak = (w >> 8) & 1, name_off = w >> 9;
        b->addend = fmt == 2 ? (int32_t)le32(e + 4) : 0;
    }
    if (ch->w->sum->symbols_format != 0)
        return 0;                                   /* compressed names: described only */
    uint64_t at = (uint64_t)ch->symbols_off + name_off;
    if (at >= ch->size || !memchr(ch->p + at, '\0', ch->size - at))
        return cbad(ch, "import name out of range", name_off);
    b->symbol = (const char *)ch->p + at;
    return 0;
}

/* The chained pointer at vaddr (in segment g's file data): its rebase or bind to the visitor;
 * *next receives the stride count to the next one. */
static int fixup_one(struct chains *ch, const struct ptr_layout *l, const struct macho_segment *g, uint64_t vaddr,
                     uint64_t *next)
{
    const struct macho_fixup_visitor *v = ch->w->v;
    const struct macho_places at = { vaddr, 8, 1 };
    uint64_t w;
    if (v->read(v->ctx, vaddr, g->fileoff + (vaddr - g->vmaddr), &w))
        return -1;
    *next = (w >> 51) & l->next_mask;
    if ((w >> l->bind_bit) & 1) {
        struct macho_bind b = { MACHO_BIND_REGULAR, NULL, 0, 0, false };
        if (import(ch, (uint32_t)(w & l->ordinal_mask), &b))
            return -1;
        b.addend += l->decoded ? (int64_t)((w >> 24) & 0xff) : 0;
        return v->bind(v->ctx, &at, &b) ? -1 : 0;
    }
    struct macho_rebase r = { true, 0, 0 };
    if (l->decoded) {
        r.target = (w & 0xfffffffffULL) + (l->offset ? ch->w->m->base_vaddr : 0);
        r.high8 = (uint8_t)(w >> 36);
    }
    return v->rebase(v->ctx, &at, &r) ? -1 : 0;
}

/* One page's chain from start; page_vaddr + page_size < 2^63 (checked by the caller). */
static int walk_page(struct chains *ch, const struct ptr_layout *l, const struct macho_segment *g,
                     uint64_t page_vaddr, uint16_t page_size, uint16_t start)
{
    uint64_t off = start;
    for (;;) {
        uint64_t at = page_vaddr + off, next;
        if (off + 8 > page_size || at < g->vmaddr || g->filesize < 8 || at - g->vmaddr > g->filesize - 8)
            return cbad(ch, "a chain leaves its page or its segment's file data", at);
        if (ch->budget-- == 0)
            return cbad(ch, "the chains visit more places than the file has", at);
        if (fixup_one(ch, l, g, at, &next))
            return -1;
        if (!next)
            return 0;
        off += next * l->stride;
        if (off >= page_size)
            return cbad(ch, "a chain runs off its page", page_vaddr + off);
    }
}

/* The dyld_chained_starts_in_segment at payload offset seg_off, for segment i. */
static int walk_segment(struct chains *ch, uint64_t seg_off, uint32_t i)
{
    if (!range_in(seg_off, 22, ch->size))
        return cbad(ch, "starts_in_segment out of range", seg_off);
    const uint8_t *s = ch->p + seg_off;
    uint32_t size = le32(s);
    uint16_t page_size = le16(s + 4), fmt = le16(s + 6), pages = le16(s + 20);
    uint64_t vm;                                    /* segment_offset: from the image's base */
    struct ptr_layout l = { 0 };
    if (!page_size || size < 22 + 2u * pages || !range_in(seg_off, size, ch->size) ||
        !add_ok(ch->w->m->base_vaddr, le64(s + 8), &vm) || !range_in(vm, (uint64_t)pages * page_size, UINT64_MAX >> 1))
        return cbad(ch, "starts_in_segment is malformed", seg_off);
    int rc = segment_layout(ch, fmt, &l);
    for (uint32_t p = 0; rc == 0 && p < pages; p++) {
        uint16_t start = le16(s + 22 + 2 * p);
        if (start == START_NONE)
            continue;
        if (start & START_MULTI)
            return cbad(ch, "multiple chain starts per page are not supported", start);
        if (walk_page(ch, &l, &ch->w->m->segs[i], vm + (uint64_t)p * page_size, page_size, start))
            return -1;
    }
    return rc < 0 ? -1 : 0;
}

/* The header (dyld_chained_fixups_header) and the imports table. */
static int chained_header(struct chains *ch)
{
    static const uint32_t esz[4] = { 0, 4, 8, 16 };
    struct macho_fixup_summary *sum = ch->w->sum;
    if (ch->size < 28)
        return cbad(ch, "header too small", ch->size);
    ch->imports_off = le32(ch->p + 8), ch->symbols_off = le32(ch->p + 12);
    sum->nimports = le32(ch->p + 16), sum->imports_format = le32(ch->p + 20), sum->symbols_format = le32(ch->p + 24);
    if (le32(ch->p) != 0 || sum->imports_format < 1 || sum->imports_format > 3)
        return cbad(ch, "unknown version or imports format", sum->imports_format);
    if (sum->symbols_format != 0 && ch->w->mode == MACHO_LOAD)
        return diag_fail(ch->w->d, PLUGIN_ERR_UNSUPPORTED, ch->w->name, "chained fixups with compressed symbol names");
    if (!range_in(ch->imports_off, (uint64_t)sum->nimports * esz[sum->imports_format], ch->size) ||
        ch->symbols_off > ch->size)
        return cbad(ch, "imports table is not inside the chained fixups", sum->nimports);
    return 0;
}

static int run_chained(struct walk *w)
{
    const struct macho *m = w->m;
    struct chains ch = { w, w->v->linkedit(w->v->ctx, &m->chained), m->chained.size, 0, 0, m->slice_size / 4 + 1 };
    if (!ch.p || chained_header(&ch))
        return -1;
    uint32_t starts = le32(ch.p + 4);
    if (!range_in(starts, 4, ch.size))
        return cbad(&ch, "starts_in_image out of range", starts);
    uint32_t nseg = le32(ch.p + starts);
    if (nseg > m->nsegs || !range_in(starts + 4ULL, 4ULL * nseg, ch.size))
        return cbad(&ch, "starts_in_image counts too many segments", nseg);
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t so = le32(ch.p + starts + 4 + 4 * (size_t)i);
        if (so && walk_segment(&ch, (uint64_t)starts + so, i))
            return -1;
    }
    return 0;
}

int macho_walk_fixups(const struct macho *m, enum macho_mode mode, const struct macho_fixup_visitor *v,
                      struct macho_fixup_summary *sum, const char *name, struct diag *d)
{
    struct walk w = { m, mode, v, sum, name, d };
    memset(sum, 0, sizeof *sum);
    if (m->chained.present) {
        sum->kind = MACHO_FIXUPS_CHAINED;
        return run_chained(&w);
    }
    if (!m->dyld_info)
        return 0;
    sum->kind = MACHO_FIXUPS_OPCODES;
    return stream(&w, &m->rebase, "rebase", STREAM_REBASE) || stream(&w, &m->bind, "bind", MACHO_BIND_REGULAR) ||
                   stream(&w, &m->lazy_bind, "lazy bind", MACHO_BIND_LAZY) ||
                   stream(&w, &m->weak_bind, "weak bind", MACHO_BIND_WEAK)
               ? -1
               : 0;
}
