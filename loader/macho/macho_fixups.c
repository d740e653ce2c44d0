/*
 * macho_fixups.c — rebase and bind a mapped Mach-O image: the loader's visitor of the one fixup
 * walk (macho_fixup_walk.c, which reads and checks the opcode streams or the chains). Here each
 * place is checked to be writable memory of the image, then written:
 *
 *   a rebase adds the slide (opcodes: to the unslid pointer the place holds; chained: to the
 *   target the pointer encodes, its top byte kept);
 *   a bind stores the symbol's address + addend, found by the image's rules (this image, the
 *   library of its ordinal, the host, the flat scope) or 0 for a missing weak import. Lazy binds
 *   (normally done by dyld_stub_binder on first call) are all done now, like weak binds.
 *
 * Then the thread-local descriptors are pointed at our getter (macho_tlv.c).
 */
#include "macho/macho_walk.h"

#include <string.h>

enum { BIND_SPECIAL_SELF = 0, BIND_SPECIAL_MAIN = -1, BIND_SPECIAL_FLAT = -2, BIND_SPECIAL_WEAK = -3 };

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
    *found = resolve_global_name(ld, c, addr, &where);
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

/* ---- the visitor ------------------------------------------------------------------------------ */

struct apply {
    struct load *ld;
    struct image *im;
};

static const char *const bind_what[] = { "bind", "lazy bind", "weak bind" };

/* Place i of at: 8 bytes of writable memory of the image. */
static int place(struct apply *a, const struct macho_places *at, uint64_t i, const char *what, uint64_t *where)
{
    *where = at->vaddr + i * at->stride;          /* inside the segment: checked by the walk */
    if (image_range_ok(a->im, *where, 8, RANGE_WRITE))
        return 0;
    return diag_fail(a->ld->d, PLUGIN_ERR_FORMAT, a->im->path, "%s at 0x%llx is outside the writable segments",
                     what, (unsigned long long)*where);
}

static int apply_rebase(void *ctx, const struct macho_places *at, const struct macho_rebase *r)
{
    struct apply *a = ctx;
    for (uint64_t i = 0; i < at->count; i++) {
        uint64_t where, v;
        if (place(a, at, i, r->chained ? "chained rebase" : "rebase", &where))
            return -1;
        if (r->chained) {
            v = (a->im->bias + r->target) | (uint64_t)r->high8 << 56;
        } else {
            memcpy(&v, image_addr(a->im, where), 8);
            v += a->im->bias;
        }
        memcpy(image_addr(a->im, where), &v, 8);
    }
    return 0;
}

static int apply_bind(void *ctx, const struct macho_places *at, const struct macho_bind *b)
{
    struct apply *a = ctx;
    uint64_t where, addr;
    if (place(a, at, 0, bind_what[b->kind], &where) ||
        macho_bind_value(a->ld, a->im, b->ordinal, b->symbol, b->weak, &addr))
        return -1;
    uint64_t v = addr ? addr + (uint64_t)b->addend : 0;
    for (uint64_t i = 0; i < at->count; i++) {
        if (place(a, at, i, bind_what[b->kind], &where))
            return -1;
        memcpy(image_addr(a->im, where), &v, 8);
    }
    return 0;
}

/* A chained pointer is read where it will be written. */
static int apply_read(void *ctx, uint64_t vaddr, uint64_t fileoff, uint64_t *word)
{
    struct apply *a = ctx;
    (void)fileoff;
    if (!image_range_ok(a->im, vaddr, 8, RANGE_WRITE))
        return diag_fail(a->ld->d, PLUGIN_ERR_FORMAT, a->im->path,
                         "chained fixups: a chain leaves the writable segments (0x%llx)", (unsigned long long)vaddr);
    memcpy(word, image_addr(a->im, vaddr), 8);
    return 0;
}

/* The tables in the mapped __LINKEDIT (checked to hold them at header time). */
static const uint8_t *apply_linkedit(void *ctx, const struct macho_range *r)
{
    struct apply *a = ctx;
    const uint8_t *p = macho_linkedit(a->im, r->off);
    if (!p)
        diag_fail(a->ld->d, PLUGIN_ERR_FORMAT, a->im->path, "fixup tables at offset 0x%x: no __LINKEDIT", r->off);
    return p;
}

int macho_apply_fixups(struct load *ld, struct image *im)
{
    struct apply a = { ld, im };
    const struct macho_fixup_visitor v = { &a, apply_rebase, apply_bind, apply_read, apply_linkedit };
    struct macho_fixup_summary sum;
    if (macho_walk_fixups(macho_of(im), MACHO_LOAD, &v, &sum, im->path, ld->d))
        return -1;
    return macho_tlv_setup(im, ld->d);
}
