/*
 * macho_fixups.c — rebase and bind a mapped Mach-O image, both generations:
 *
 *   LC_DYLD_INFO(_ONLY): byte-code streams. A rebase stream moves a cursor (segment, offset) and
 *   adds the slide at each place it names; a bind stream also carries the current symbol, dylib
 *   ordinal and addend, and stores the symbol's address + addend. Lazy binds (normally done by
 *   dyld_stub_binder on first call) are all done now, like weak binds.
 *
 *   LC_DYLD_CHAINED_FIXUPS: for each segment and each page, the offset of the first fixup; each
 *   fixup is a 64-bit word that is either a rebase (target) or a bind (import ordinal, addend),
 *   plus the distance to the next one in the page (DYLD_CHAINED_PTR_64 and _64_OFFSET, 4-byte
 *   stride). The imports table names each import's library ordinal, weak flag and symbol.
 *
 * Every place written must lie inside a writable segment of the image; every stream read is
 * bounded; a chain that leaves its page, an unknown opcode or pointer format is an error.
 */
#include "macho/macho.h"

#include <string.h>

enum {
    BIND_SPECIAL_SELF = 0, BIND_SPECIAL_MAIN = -1, BIND_SPECIAL_FLAT = -2, BIND_SPECIAL_WEAK = -3,
    DYLD_CHAINED_PTR_64 = 2, DYLD_CHAINED_PTR_64_OFFSET = 6,
};

/* The value a bind stores: the symbol's address, found by the image's rules. */
static void stub_binder_trap(void)
{
    __builtin_trap();           /* every lazy pointer is bound at load: this is never reached */
}

static const char *variadic[] = {
    "printf", "fprintf", "sprintf", "snprintf", "dprintf", "asprintf", "scanf", "fscanf", "sscanf",
    "syslog", "open", "openat", "fcntl", "ioctl", "execl", "execlp", "execle", "prctl", NULL,
};

static bool is_variadic(const char *name)
{
    for (size_t i = 0; variadic[i]; i++)
        if (!strcmp(name, variadic[i]))
            return true;
    return false;
}

static bool find_in_macho(const struct image *im, const char *sym, uint64_t *addr)
{
    struct macho_export e;
    if (!im || !macho_of(im) || !macho_of(im)->trie || !macho_trie_find(macho_of(im)->trie, macho_of(im)->trie_size, sym, &e) ||
        (e.flags & (MACHO_EXPORT_REEXPORT | MACHO_EXPORT_STUB_AND_RESOLVER)) ||
        (e.flags & MACHO_EXPORT_KIND_MASK) == MACHO_EXPORT_KIND_THREAD_LOCAL)
        return false;
    *addr = (e.flags & MACHO_EXPORT_KIND_MASK) == MACHO_EXPORT_KIND_ABSOLUTE ? e.address
                                                                           : im->bias + macho_of(im)->base_vaddr + e.address;
    return true;
}

static int host_bind(struct load *ld, struct image *im, const char *sym, uint64_t *addr, bool *found)
{
    const char *c = sym[0] == '_' ? sym + 1 : sym;     /* the C name */
    const char *where;
    *found = resolve_host_name(ld, c, addr, &where);
    if (*found && macho_of(im)->cputype == MACHO_CPU_ARM64 && is_variadic(c))
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                         "binds %s, a variadic function: Apple's arm64 ABI passes variadic arguments on the stack, "
                         "Linux's in registers", c);
    if (*found)
        diag_trace(ld->d, "%s: bound %s to %s (0x%llx)", im->path, sym, where, (unsigned long long)*addr);
    return 0;
}

static int macho_bind_value(struct load *ld, struct image *im, int64_t ordinal, const char *sym, bool weak, uint64_t *addr)
{
    bool found = false;
    if ((*addr = macho_tlv_special(sym)))
        return 0;
    if (!strcmp(sym, "dyld_stub_binder")) {
        *addr = (uint64_t)(uintptr_t)stub_binder_trap;
        return 0;
    }
    if (ordinal == BIND_SPECIAL_SELF)
        found = find_in_macho(im, sym, addr);
    else if (ordinal > 0 && (uint64_t)ordinal <= im->nneeded && im->needed[ordinal - 1])
        found = find_in_macho(im->needed[ordinal - 1], sym, addr);
    else if (ordinal > 0 && (uint64_t)ordinal > im->nneeded)
        return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "bind of %s names library ordinal %lld of %zu", sym,
                         (long long)ordinal, im->nneeded);
    if (!found && host_bind(ld, im, sym, addr, &found))
        return -1;
    for (size_t i = 0; !found && (ordinal == BIND_SPECIAL_FLAT || ordinal == BIND_SPECIAL_WEAK) && i < ld->nscope; i++)
        found = find_in_macho(ld->scope[i], sym, addr);
    if (found)
        return 0;
    *addr = 0;
    if (weak || ordinal == BIND_SPECIAL_WEAK)
        return 0;
    return diag_fail(ld->d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s (library ordinal %lld)", sym,
                     (long long)ordinal);
}

/* ---- byte-code streams ---------------------------------------------------------------------- */

struct cursor {
    struct load *ld;
    struct image *im;
    const uint8_t *p;
    size_t size, pos;
    const char *what;           /* "rebase", "bind", ... for messages */
    uint64_t seg_addr, offset;  /* the current place: segment vmaddr + offset */
    bool have_seg;
};

static int bad(struct cursor *c, const char *why)
{
    return diag_fail(c->ld->d, PLUGIN_ERR_FORMAT, c->im->path, "%s info at byte %zu: %s", c->what, c->pos, why);
}

static int uleb(struct cursor *c, uint64_t *v)
{
    return macho_uleb(c->p, c->size, &c->pos, v) ? 0 : bad(c, "truncated or oversized ULEB128");
}

static int set_segment(struct cursor *c, unsigned seg)
{
    const struct macho *m = macho_of(c->im);
    if (seg >= m->nsegs)
        return bad(c, "segment index out of range");
    c->seg_addr = m->segs[seg].vmaddr;
    c->have_seg = true;
    return uleb(c, &c->offset);
}

/* The place the cursor names, checked: inside a writable segment, 8 bytes. */
static int place(struct cursor *c, uint64_t *where)
{
    *where = c->seg_addr + c->offset;
    if (!c->have_seg || !image_range_ok(c->im, *where, 8, RANGE_WRITE))
        return diag_fail(c->ld->d, PLUGIN_ERR_FORMAT, c->im->path, "%s at 0x%llx is outside the writable segments",
                         c->what, (unsigned long long)*where);
    return 0;
}

static int rebase_at(struct cursor *c)
{
    uint64_t where, v;
    if (place(c, &where))
        return -1;
    memcpy(&v, image_addr(c->im, where), 8);
    v += c->im->bias;
    memcpy(image_addr(c->im, where), &v, 8);
    return 0;
}

/* Repeats are bounded: a count beyond the image or a skip that wraps around is malformed. */
static int repeat_ok(struct cursor *c, uint64_t count, uint64_t skip)
{
    return count <= (c->im->hi - c->im->lo) / 8 && skip < (1ULL << 40) ? 0 : bad(c, "repeat count or skip out of range");
}

static int rebase_repeat(struct cursor *c, uint64_t count, uint64_t skip)
{
    if (repeat_ok(c, count, skip))
        return -1;
    for (uint64_t i = 0; i < count; i++) {
        if (rebase_at(c))
            return -1;
        c->offset += skip + 8;
    }
    return 0;
}

static int run_rebase(struct cursor *c)
{
    while (c->pos < c->size) {
        uint8_t b = c->p[c->pos++], op = b & 0xf0, imm = b & 0x0f;
        uint64_t a = 0, s = 0;
        switch (op) {
        case 0x00: return 0;                                            /* DONE */
        case 0x10: if (imm != 1) return bad(c, "rebase type is not a pointer"); break;
        case 0x20: if (set_segment(c, imm)) return -1; break;
        case 0x30: if (uleb(c, &a)) return -1; c->offset += a; break;
        case 0x40: c->offset += (uint64_t)imm * 8; break;
        case 0x50: if (rebase_repeat(c, imm, 0)) return -1; break;
        case 0x60: if (uleb(c, &a) || rebase_repeat(c, a, 0)) return -1; break;
        case 0x70: if (uleb(c, &a) || rebase_repeat(c, 1, a)) return -1; break;
        case 0x80: if (uleb(c, &a) || uleb(c, &s) || rebase_repeat(c, a, s)) return -1; break;
        default: return bad(c, "unknown rebase opcode");
        }
    }
    return 0;
}

struct bind_state {
    int64_t ordinal, addend;
    const char *sym;
    bool weak;
};

static int bind_at(struct cursor *c, const struct bind_state *b)
{
    uint64_t where, addr;
    if (!b->sym)
        return bad(c, "bind without a symbol");
    if (place(c, &where) || macho_bind_value(c->ld, c->im, b->ordinal, b->sym, b->weak, &addr))
        return -1;
    uint64_t v = addr ? addr + (uint64_t)b->addend : 0;
    memcpy(image_addr(c->im, where), &v, 8);
    return 0;
}

static int bind_repeat(struct cursor *c, const struct bind_state *b, uint64_t count, uint64_t skip)
{
    if (repeat_ok(c, count, skip))
        return -1;
    for (uint64_t i = 0; i < count; i++) {
        if (bind_at(c, b))
            return -1;
        c->offset += skip + 8;
    }
    return 0;
}

static int bind_symbol(struct cursor *c, struct bind_state *b, uint8_t imm)
{
    const uint8_t *nul = memchr(c->p + c->pos, '\0', c->size - c->pos);
    if (!nul)
        return bad(c, "unterminated symbol name");
    b->sym = (const char *)c->p + c->pos;
    b->weak = imm & 1;
    c->pos = (size_t)(nul - c->p) + 1;
    return 0;
}

static int bind_op(struct cursor *c, struct bind_state *b, uint8_t op, uint8_t imm, bool lazy)
{
    uint64_t a = 0, s = 0;
    switch (op) {
    case 0x00: if (!lazy) c->pos = c->size; return 0;                  /* DONE (lazy: entry end) */
    case 0x10: b->ordinal = imm; return 0;
    case 0x20: if (uleb(c, &a)) return -1; b->ordinal = (int64_t)a; return 0;
    case 0x30: b->ordinal = imm ? (int64_t)(int8_t)(0xf0 | imm) : 0; return 0;
    case 0x40: return bind_symbol(c, b, imm);
    case 0x50: return imm == 1 ? 0 : bad(c, "bind type is not a pointer");
    case 0x60: return macho_sleb(c->p, c->size, &c->pos, &b->addend) ? 0 : bad(c, "bad SLEB128 addend");
    case 0x70: return set_segment(c, imm);
    case 0x80: if (uleb(c, &a)) return -1; c->offset += a; return 0;
    case 0x90: return bind_repeat(c, b, 1, 0);
    case 0xa0: return uleb(c, &a) || bind_repeat(c, b, 1, a);
    case 0xb0: return bind_repeat(c, b, 1, (uint64_t)imm * 8);
    case 0xc0: return uleb(c, &a) || uleb(c, &s) || bind_repeat(c, b, a, s);
    default: return bad(c, "unknown or arm64e (threaded) bind opcode");
    }
}

static int run_bind(struct cursor *c, bool lazy)
{
    struct bind_state b = { 0, 0, NULL, false };
    while (c->pos < c->size) {
        uint8_t x = c->p[c->pos++];
        if (bind_op(c, &b, x & 0xf0, x & 0x0f, lazy))
            return -1;
    }
    return 0;
}

static int stream(struct load *ld, struct image *im, const struct macho_range *r, const char *what, int kind)
{
    if (!r->present || !r->size)
        return 0;
    struct cursor c = { ld, im, macho_linkedit(im, r->off), r->size, 0, what, 0, 0, false };
    if (!c.p)
        return bad(&c, "no __LINKEDIT");
    return kind == 0 ? run_rebase(&c) : run_bind(&c, kind == 2);
}

/* ---- chained fixups --------------------------------------------------------------------------- */

struct chained {
    struct load *ld;
    struct image *im;
    const uint8_t *p;           /* the LC_DYLD_CHAINED_FIXUPS payload */
    uint32_t size, imports_off, symbols_off, nimports, imports_format;
};

static int cbad(struct chained *ch, const char *why, uint64_t v)
{
    return diag_fail(ch->ld->d, PLUGIN_ERR_FORMAT, ch->im->path, "chained fixups: %s (0x%llx)", why,
                     (unsigned long long)v);
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Import i: library ordinal, weak flag, name and addend. */
static int import(struct chained *ch, uint32_t i, int64_t *ord, bool *weak, const char **name, int64_t *addend)
{
    static const uint32_t esz[4] = { 0, 4, 8, 16 };
    uint64_t off = ch->imports_off + (uint64_t)i * esz[ch->imports_format], name_off;
    if (i >= ch->nimports || !range_in(off, esz[ch->imports_format], ch->size))
        return cbad(ch, "import index out of range", i);
    const uint8_t *e = ch->p + off;
    if (ch->imports_format == 3) {
        uint64_t w;
        memcpy(&w, e, 8);
        *ord = (int64_t)(int16_t)(w & 0xffff), *weak = (w >> 16) & 1, name_off = w >> 32;
        memcpy(addend, e + 8, 8);
    } else {
        uint32_t w = rd32(e);
        *ord = (int64_t)(int8_t)(w & 0xff), *weak = (w >> 8) & 1, name_off = w >> 9;
        *addend = ch->imports_format == 2 ? (int32_t)rd32(e + 4) : 0;
    }
    uint64_t at = ch->symbols_off + name_off;
    if (at >= ch->size || !memchr(ch->p + at, '\0', ch->size - at))
        return cbad(ch, "import name out of range", name_off);
    *name = (const char *)ch->p + at;
    return 0;
}

/* One 64-bit chained pointer at vaddr; *next receives the stride count to the next one. */
static int fixup_one(struct chained *ch, uint16_t fmt, uint64_t vaddr, uint64_t *next)
{
    uint64_t w, v;
    memcpy(&w, image_addr(ch->im, vaddr), 8);
    *next = (w >> 51) & 0xfff;
    if (w >> 63) {                                                  /* bind */
        int64_t ord = 0, addend = 0;
        bool weak = false;
        const char *name = NULL;
        uint64_t addr;
        if (import(ch, (uint32_t)(w & 0xffffff), &ord, &weak, &name, &addend) ||
            macho_bind_value(ch->ld, ch->im, ord, name, weak, &addr))
            return -1;
        addend += (int64_t)((w >> 24) & 0xff);
        v = addr ? addr + (uint64_t)addend : 0;
    } else {                                                        /* rebase */
        uint64_t target = w & 0xfffffffffULL, high8 = (w >> 36) & 0xff;
        /* PTR_64: target is a vmaddr; PTR_64_OFFSET: an offset from the image's base. */
        uint64_t base = fmt == DYLD_CHAINED_PTR_64_OFFSET ? macho_of(ch->im)->base_vaddr : 0;
        v = (ch->im->bias + base + target) | high8 << 56;
    }
    memcpy(image_addr(ch->im, vaddr), &v, 8);
    return 0;
}

static int walk_page(struct chained *ch, uint16_t fmt, uint64_t page_vaddr, uint16_t page_size, uint16_t start)
{
    uint64_t off = start;
    for (;;) {
        uint64_t next;
        if (off + 8 > page_size || !image_range_ok(ch->im, page_vaddr + off, 8, RANGE_WRITE))
            return cbad(ch, "a chain leaves its page or the writable segments", page_vaddr + off);
        if (fixup_one(ch, fmt, page_vaddr + off, &next))
            return -1;
        if (!next)
            return 0;
        off += next * 4;
        if (off >= page_size)
            return cbad(ch, "a chain runs off its page", page_vaddr + off);
    }
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

static int walk_segment(struct chained *ch, uint32_t seg_off)
{
    if (!range_in(seg_off, 22, ch->size))
        return cbad(ch, "starts_in_segment out of range", seg_off);
    const uint8_t *s = ch->p + seg_off;
    uint32_t size = rd32(s);
    uint16_t page_size = rd16(s + 4), fmt = rd16(s + 6), pages = rd16(s + 20);
    uint64_t seg_vaddr;
    memcpy(&seg_vaddr, s + 8, 8);                  /* segment_offset: from the image's base */
    seg_vaddr += macho_of(ch->im)->base_vaddr;
    if (fmt != DYLD_CHAINED_PTR_64 && fmt != DYLD_CHAINED_PTR_64_OFFSET)
        return diag_fail(ch->ld->d, PLUGIN_ERR_UNSUPPORTED, ch->im->path,
                         "chained pointer format %s (%u) is not supported", pointer_format_name(fmt), fmt);
    if (!page_size || size < 22 + 2u * pages || !range_in(seg_off, size, ch->size))
        return cbad(ch, "starts_in_segment is malformed", seg_off);
    for (uint32_t p = 0; p < pages; p++) {
        uint16_t start = rd16(s + 22 + 2 * p);
        if (start == 0xffff)
            continue;
        if (start & 0x8000)
            return cbad(ch, "multiple chain starts per page are not supported", start);
        if (walk_page(ch, fmt, seg_vaddr + (uint64_t)p * page_size, page_size, start))
            return -1;
    }
    return 0;
}

static int run_chained(struct load *ld, struct image *im)
{
    const struct macho_range *r = &macho_of(im)->chained;
    struct chained ch = { ld, im, macho_linkedit(im, r->off), r->size, 0, 0, 0, 0 };
    if (!ch.p || ch.size < 28)
        return cbad(&ch, "header too small", ch.size);
    uint32_t starts = rd32(ch.p + 4), symfmt = rd32(ch.p + 24);
    ch.imports_off = rd32(ch.p + 8), ch.symbols_off = rd32(ch.p + 12), ch.nimports = rd32(ch.p + 16);
    ch.imports_format = rd32(ch.p + 20);
    if (rd32(ch.p) != 0 || ch.imports_format < 1 || ch.imports_format > 3)
        return cbad(&ch, "unknown version or imports format", ch.imports_format);
    if (symfmt != 0)
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path, "chained fixups with compressed symbol names");
    if (!range_in(starts, 4, ch.size))
        return cbad(&ch, "starts_in_image out of range", starts);
    uint32_t nseg = rd32(ch.p + starts);
    if (nseg > macho_of(im)->nsegs || !range_in(starts + 4, 4ULL * nseg, ch.size))
        return cbad(&ch, "starts_in_image counts too many segments", nseg);
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t so = rd32(ch.p + starts + 4 + 4 * i);
        if (so && walk_segment(&ch, starts + so))
            return -1;
    }
    return 0;
}

int macho_apply_fixups(struct load *ld, struct image *im)
{
    struct macho *m = macho_of(im);
    int rc = m->chained_fixups ? (m->chained.present ? run_chained(ld, im) : 0)
                               : stream(ld, im, &m->rebase, "rebase", 0) || stream(ld, im, &m->bind, "bind", 1) ||
                                     stream(ld, im, &m->lazy_bind, "lazy bind", 2) ||
                                     stream(ld, im, &m->weak_bind, "weak bind", 1);
    return rc ? rc : macho_tlv_setup(im, ld->d);
}
