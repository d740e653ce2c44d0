/*
 * macho_fixups_count.c — count the fixups of a Mach-O slice for `plugin info`, from the file
 * alone (nothing is mapped or written):
 *
 *   LC_DYLD_INFO(_ONLY): the rebase, bind, lazy bind and weak bind opcode streams are run with a
 *   cursor (segment, offset) and each place they name is counted; a repeat is counted at once,
 *   after checking that its last place still lies inside the segment.
 *
 *   LC_DYLD_CHAINED_FIXUPS: the header and imports table are checked, then every chain of every
 *   page is followed through the file's bytes, counting rebases and binds. A chain may not leave
 *   its page or its segment's file data, and the walk as a whole may not visit more places than
 *   the file has 4-byte words (so a malicious file cannot make it run long).
 *
 * 64-bit formats are counted: DYLD_CHAINED_PTR_64 and _64_OFFSET (4-byte stride) and the arm64e
 * userland ones (8-byte stride); other formats are named but their fixups are not counted.
 */
#include "macho_read.h"

#include <string.h>

enum {
    PTR_ARM64E = 1, PTR_64 = 2, PTR_64_OFFSET = 6, PTR_ARM64E_USERLAND = 9, PTR_ARM64E_USERLAND24 = 12,
    START_NONE = 0xffff, START_MULTI = 0x8000,
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p + 4) << 32 | le32(p);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

/* ---- opcode streams ------------------------------------------------------------------------- */

struct cursor {
    const struct mo_file *f;
    struct mo_slice *s;
    const uint8_t *p;
    size_t size, pos;
    const char *what;           /* "rebase info", ... for messages */
    uint64_t *count;
    unsigned seg;
    uint64_t offset;
    bool have_seg;
};

static int bad(struct cursor *c, const char *why)
{
    return mo_fail(c->f, c->s, "%s at byte %zu: %s", c->what, c->pos, why);
}

static int uleb(struct cursor *c, uint64_t *v)
{
    return macho_uleb(c->p, c->size, &c->pos, v) ? 0 : bad(c, "truncated or oversized ULEB128");
}

static int set_segment(struct cursor *c, unsigned seg)
{
    if (seg >= c->s->nsegs)
        return bad(c, "segment index out of range");
    c->seg = seg;
    c->have_seg = true;
    return uleb(c, &c->offset);
}

/* n pointers at the cursor, skip bytes apart: all inside the segment; counted, cursor moved. */
static int places(struct cursor *c, uint64_t n, uint64_t skip)
{
    uint64_t step, span, last;
    if (n == 0)
        return 0;
    if (!c->have_seg)
        return bad(c, "a fixup before any segment was set");
    uint64_t vmsize = c->s->segs[c->seg].vmsize;
    if (__builtin_add_overflow(skip, 8, &step) || __builtin_mul_overflow(n - 1, step, &span) ||
        __builtin_add_overflow(c->offset, span, &last) || vmsize < 8 || last > vmsize - 8)
        return bad(c, "a fixup lies outside its segment");
    *c->count += n;
    c->offset = last + step;    /* may wrap only past the segment: the next place is checked */
    return 0;
}

static int rebase_op(struct cursor *c, uint8_t op, uint8_t imm)
{
    uint64_t a = 0, b = 0;
    switch (op) {
    case 0x00: c->pos = c->size; return 0;                             /* DONE */
    case 0x10: return 0;                                               /* SET_TYPE_IMM */
    case 0x20: return set_segment(c, imm);
    case 0x30: if (uleb(c, &a)) return -1; c->offset += a; return 0;   /* ADD_ADDR_ULEB */
    case 0x40: c->offset += (uint64_t)imm * 8; return 0;               /* ADD_ADDR_IMM_SCALED */
    case 0x50: return places(c, imm, 0);                               /* DO_REBASE_IMM_TIMES */
    case 0x60: return uleb(c, &a) || places(c, a, 0);                  /* DO_REBASE_ULEB_TIMES */
    case 0x70: return uleb(c, &a) || places(c, 1, a);                  /* DO_REBASE_ADD_ADDR_ULEB */
    case 0x80: return uleb(c, &a) || uleb(c, &b) || places(c, a, b);   /* ..._TIMES_SKIPPING_ULEB */
    default: return bad(c, "unknown rebase opcode");
    }
}

static int bind_op(struct cursor *c, uint8_t op, uint8_t imm, bool lazy)
{
    uint64_t a = 0, b = 0;
    int64_t addend;
    const uint8_t *nul;
    switch (op) {
    case 0x00: if (!lazy) c->pos = c->size; return 0;                 /* DONE (lazy: one entry) */
    case 0x10: case 0x30: case 0x50: return 0;                         /* ordinal, special, type */
    case 0x20: return uleb(c, &a);                                     /* DYLIB_ORDINAL_ULEB */
    case 0x40:                                                         /* SYMBOL_TRAILING_FLAGS */
        if (!(nul = memchr(c->p + c->pos, '\0', c->size - c->pos)))
            return bad(c, "unterminated symbol name");
        c->pos = (size_t)(nul - c->p) + 1;
        return 0;
    case 0x60: return macho_sleb(c->p, c->size, &c->pos, &addend) ? 0 : bad(c, "bad SLEB128 addend");
    case 0x70: return set_segment(c, imm);
    case 0x80: if (uleb(c, &a)) return -1; c->offset += a; return 0;   /* ADD_ADDR_ULEB */
    case 0x90: return places(c, 1, 0);                                 /* DO_BIND */
    case 0xa0: return uleb(c, &a) || places(c, 1, a);                  /* DO_BIND_ADD_ADDR_ULEB */
    case 0xb0: return places(c, 1, (uint64_t)imm * 8);                 /* ..._IMM_SCALED */
    case 0xc0: return uleb(c, &a) || uleb(c, &b) || places(c, a, b);   /* ..._TIMES_SKIPPING */
    case 0xd0: c->s->fx.not_counted = "threaded (arm64e) bind opcodes"; c->pos = c->size; return 0;
    default: return bad(c, "unknown bind opcode");
    }
}

/* kind: 0 rebase, 1 bind or weak bind, 2 lazy bind. */
static int run_stream(const struct mo_file *f, struct mo_slice *s, const struct macho_range *r, const char *what,
                      int kind, uint64_t *count)
{
    if (!r->present)
        return 0;
    struct cursor c = { f, s, s->p + r->off, r->size, 0, what, count, 0, 0, false };
    while (c.pos < c.size) {
        uint8_t b = c.p[c.pos++];
        if (kind == 0 ? rebase_op(&c, b & 0xf0, b & 0x0f) : bind_op(&c, b & 0xf0, b & 0x0f, kind == 2))
            return -1;
    }
    return 0;
}

/* ---- chained fixups ------------------------------------------------------------------------- */

struct chains {
    const struct mo_file *f;
    struct mo_slice *s;
    const uint8_t *p;           /* the LC_DYLD_CHAINED_FIXUPS payload */
    uint32_t size;
    uint64_t budget;            /* places the walk may still visit */
};

struct ptr_layout {             /* how a 64-bit chained pointer format is read */
    unsigned stride;            /* bytes per unit of "next" */
    unsigned bind_bit;
    uint64_t next_mask;         /* of w >> 51 */
    uint64_t ordinal_mask;
};

static bool layout_of(uint16_t fmt, struct ptr_layout *l)
{
    if (fmt == PTR_64 || fmt == PTR_64_OFFSET)
        *l = (struct ptr_layout){ 4, 63, 0xfff, 0xffffff };
    else if (fmt == PTR_ARM64E || fmt == PTR_ARM64E_USERLAND)
        *l = (struct ptr_layout){ 8, 62, 0x7ff, 0xffff };
    else if (fmt == PTR_ARM64E_USERLAND24)
        *l = (struct ptr_layout){ 8, 62, 0x7ff, 0xffffff };
    else
        return false;
    return true;
}

static void note_format(struct mo_fixups *fx, uint16_t fmt)
{
    for (size_t i = 0; i < fx->nptr_formats; i++)
        if (fx->ptr_formats[i] == fmt)
            return;
    if (fx->nptr_formats < MO_MAX_PTR_FORMATS)
        fx->ptr_formats[fx->nptr_formats++] = fmt;
}

/* One page's chain: vm is the page's address, g the segment that must hold it in file data. */
static int walk_page(struct chains *ch, const struct ptr_layout *l, const struct macho_segment *g, uint64_t vm,
                     uint16_t page_size, uint16_t start)
{
    struct mo_fixups *fx = &ch->s->fx;
    uint64_t off = start;
    for (;;) {
        uint64_t at = vm + off, w;          /* vm < 2^63: checked by the caller */
        if (page_size < 8 || off > page_size - 8u || at < g->vmaddr || g->filesize < 8 || at - g->vmaddr > g->filesize - 8)
            return mo_fail(ch->f, ch->s, "chained fixups: a pointer leaves its page or %s's file data (at 0x%llx)",
                           g->name, (unsigned long long)at);
        if (ch->budget-- == 0)
            return mo_fail(ch->f, ch->s, "chained fixups: the chains visit more places than the file has");
        w = le64(ch->s->p + g->fileoff + (at - g->vmaddr));
        if ((w >> l->bind_bit) & 1) {
            if ((w & l->ordinal_mask) >= fx->nimports)
                return mo_fail(ch->f, ch->s, "chained fixups: a bind at 0x%llx names import %llu of %u",
                               (unsigned long long)at, (unsigned long long)(w & l->ordinal_mask), fx->nimports);
            fx->binds++;
        } else {
            fx->rebases++;
        }
        uint64_t next = (w >> 51) & l->next_mask;
        if (!next)
            return 0;
        off += next * l->stride;
    }
}

/* The dyld_chained_starts_in_segment at seg_off (from the starts_in_image), for segment i. */
static int walk_segment(struct chains *ch, uint32_t seg_off, uint32_t i)
{
    if (!range_in(seg_off, 22, ch->size) || i >= ch->s->nsegs)
        return mo_fail(ch->f, ch->s, "chained fixups: starts of segment %u out of range (0x%x)", i, seg_off);
    const uint8_t *p = ch->p + seg_off;
    uint32_t size = le32(p);
    uint16_t page_size = le16(p + 4), fmt = le16(p + 6), pages = le16(p + 20);
    uint64_t vm = ch->s->base_vaddr + le64(p + 8);
    const struct macho_segment *g = &ch->s->segs[i];
    struct ptr_layout l;
    if (size < 22 + 2u * pages || !range_in(seg_off, size, ch->size) || !page_size ||
        !range_in(vm, (uint64_t)pages * page_size, UINT64_MAX >> 1))
        return mo_fail(ch->f, ch->s, "chained fixups: starts of segment %s are malformed", g->name);
    note_format(&ch->s->fx, fmt);
    if (!layout_of(fmt, &l)) {
        ch->s->fx.not_counted = "a pointer format that is not counted";
        return 0;
    }
    for (uint32_t pg = 0; pg < pages; pg++) {
        uint16_t start = le16(p + 22 + 2 * pg);
        if (start == START_NONE)
            continue;
        if (start & START_MULTI)
            return mo_fail(ch->f, ch->s, "chained fixups: several chain starts in one page (a 32-bit format)");
        if (walk_page(ch, &l, g, vm + (uint64_t)pg * page_size, page_size, start))
            return -1;
    }
    return 0;
}

static int count_chained(const struct mo_file *f, struct mo_slice *s)
{
    static const uint32_t import_size[4] = { 0, 4, 8, 16 };
    struct mo_fixups *fx = &s->fx;
    struct chains ch = { f, s, s->p + s->chained.off, s->chained.size, s->size / 4 + 1 };
    if (ch.size < 28 || le32(ch.p) != 0)
        return mo_fail(f, s, "chained fixups: header too small or unknown version");
    uint32_t starts = le32(ch.p + 4), imports = le32(ch.p + 8), symbols = le32(ch.p + 12);
    fx->nimports = le32(ch.p + 16);
    fx->imports_format = le32(ch.p + 20);
    fx->symbols_format = le32(ch.p + 24);
    if (fx->imports_format < 1 || fx->imports_format > 3)
        return mo_fail(f, s, "chained fixups: unknown imports format %u", fx->imports_format);
    if (!range_in(imports, (uint64_t)fx->nimports * import_size[fx->imports_format], ch.size) || symbols > ch.size)
        return mo_fail(f, s, "chained fixups: imports table (%u imports) is not inside the data", fx->nimports);
    if (!range_in(starts, 4, ch.size))
        return mo_fail(f, s, "chained fixups: starts_in_image out of range (0x%x)", starts);
    uint32_t nseg = le32(ch.p + starts);
    if (nseg > s->nsegs || !range_in(starts + 4, 4ULL * nseg, ch.size))
        return mo_fail(f, s, "chained fixups: starts_in_image counts %u segments of %zu", nseg, s->nsegs);
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t so = le32(ch.p + starts + 4 + 4 * i);
        if (so && walk_segment(&ch, starts + so, i))
            return -1;
    }
    return 0;
}

int mo_count_fixups(const struct mo_file *f, struct mo_slice *s)
{
    struct mo_fixups *fx = &s->fx;
    if (s->chained.present) {
        fx->kind = MO_FIXUPS_CHAINED;
        return count_chained(f, s);
    }
    if (!s->info_cmd)
        return 0;
    fx->kind = MO_FIXUPS_OPCODES;
    fx->info_cmd = s->info_cmd;
    return run_stream(f, s, &s->rebase, "rebase info", 0, &fx->rebases) ||
           run_stream(f, s, &s->bind, "bind info", 1, &fx->binds) ||
           run_stream(f, s, &s->lazy_bind, "lazy bind info", 2, &fx->lazy_binds) ||
           run_stream(f, s, &s->weak_bind, "weak bind info", 1, &fx->weak_binds);
}
