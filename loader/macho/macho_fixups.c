/*
 * macho_fixups.c — rebase and bind a mapped Mach-O image: the loader's visitor of the one fixup
 * walk (macho_fixup_walk.c, which reads and checks the opcode streams or the chains). Here each
 * place is checked to be writable memory of the image, then written:
 *
 *   a rebase adds the slide (opcodes: to the unslid pointer the place holds; chained: to the
 *   target the pointer encodes, its top byte kept);
 *   a bind stores the symbol's address + addend, found by the image's rules (this image, the
 *   library of its ordinal — re-exports followed, macho_find.c —, the host, the flat scope) or 0
 *   for a missing weak import. Lazy binds (normally done by dyld_stub_binder on first call) are
 *   all done now. Weak-def binds (ordinal -3, the weak-bind stream) are coalesced as dyld does:
 *   the first Mach-O image in load order that defines the name, a non-weak definition first.
 *
 * Then the thread-local descriptors are pointed at our getter (macho_tlv.c).
 */
#include "macho/macho_walk.h"

#include <stdio.h>
#include <string.h>

enum {
    BIND_SPECIAL_SELF = 0, BIND_SPECIAL_MAIN = -1, BIND_SPECIAL_FLAT = -2, BIND_SPECIAL_WEAK = -3,
    MH_WEAK_DEFINES_ = 0x8000,
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

/* A definition a bind can take: not a thread-local (its address is a descriptor's) nor a
 * stub-and-resolver export. */
static bool bindable(const struct macho_def *def)
{
    return !(def->e.flags & MACHO_EXPORT_STUB_AND_RESOLVER) &&
           (def->e.flags & MACHO_EXPORT_KIND_MASK) != MACHO_EXPORT_KIND_THREAD_LOCAL;
}

/* sym in the Mach-O image im (re-exports followed): 1 found (*addr), 0 not, -1 error. A
 * re-export of a system library is asked from the host, under its name there. */
static int host_bind(struct load *ld, struct image *im, const char *sym, uint64_t *addr, bool *found);

static int find_in_macho(struct load *ld, struct image *from, const struct image *im, const char *sym, uint64_t *addr)
{
    struct macho_def def;
    bool found = false;
    int rc = macho_find(im, sym, false, &def, ld->d);
    if (rc < 0)
        return -1;
    if (rc == MACHO_FOUND_HOST)
        return host_bind(ld, from, def.name, addr, &found) ? -1 : found;
    if (rc != MACHO_FOUND || !bindable(&def))
        return 0;
    *addr = macho_def_addr(&def);
    return 1;
}

/* The host's definition of the C name of sym: the resolve callback's answer stands as it is (a
 * host may give an adapter that takes Apple's conventions, variadic ones included); then the
 * process's objects, where on arm64 a variadic function is refused: Apple passes variadic
 * arguments on the stack, Linux in registers. */
static int host_bind(struct load *ld, struct image *im, const char *sym, uint64_t *addr, bool *found)
{
    const char *c = sym[0] == '_' ? sym + 1 : sym;     /* the C name */
    const char *where = "the resolve callback";
    const struct plugin_options *o = ld->opts;
    void *given = o && o->resolve ? o->resolve(o->resolve_ctx, c, NULL) : NULL;
    *addr = (uint64_t)(uintptr_t)given;
    *found = given != NULL;
    if (!*found) {
        /* The same open without its callback (already asked): the global scope alone. */
        struct plugin_options none = o ? *o : (struct plugin_options){ 0 };
        struct load processes_only = *ld;
        none.resolve = NULL;
        processes_only.opts = &none;
        *found = resolve_global_name(&processes_only, c, addr, &where);
        if (*found && macho_of(im)->cputype == MACHO_CPU_ARM64 && is_variadic(c))
            return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                             "binds %s, a variadic function of %s: Apple's arm64 ABI passes variadic arguments on the "
                             "stack, Linux's in registers (a resolve callback may supply an adapter)", c, where);
    }
    if (*found)
        diag_trace_ev(ld->d, TRACE_BINDINGS, ev_bind(im->path, sym, NULL, where, *addr), "%s: bound %s to %s (0x%llx)",
                      im->path, sym, where, (unsigned long long)*addr);
    return 0;
}

/* dyld's coalescing of weak definitions, for one image: an image with weak definitions
 * (MH_WEAK_DEFINES) is asked for its own definition (shallow: re-exported dylibs are not
 * searched). The first definition found is kept, unless a later one is not weak and it is. */
static int coalesce_one(struct load *ld, const struct image *im, const char *sym, struct macho_def *best, bool *done)
{
    struct macho_def def;
    if (im->fmt != &macho_format || !(macho_of(im)->flags & MH_WEAK_DEFINES_))
        return 0;
    int rc = macho_find(im, sym, true, &def, ld->d);
    if (rc < 0)
        return -1;
    if (rc != MACHO_FOUND || !bindable(&def))
        return 0;
    bool weak = (def.e.flags & MACHO_EXPORT_WEAK) != 0;
    if (!best->im || !weak)
        *best = def;
    *done = !weak;                              /* a non-weak definition ends the search */
    return 0;
}

/* Every Mach-O image of the process in load order: ours published by earlier opens, then this
 * open's, as dyld walks its list of loaded images. best->im stays NULL when none defines sym. */
static int coalesce(struct load *ld, const char *sym, struct macho_def *best)
{
    bool done = false;
    best->im = NULL;
    for (const struct image *im = registry_first(); im && !done; im = im->next)
        if (coalesce_one(ld, im, sym, best, &done))
            return -1;
    for (size_t i = 0; i < ld->nimages && !done; i++)
        if (coalesce_one(ld, ld->images[i], sym, best, &done))
            return -1;
    return 0;
}

/* Where an unresolved bind looked, for its message: "flat namespace", "dylib NAME", ... */
static int undefined(struct load *ld, struct image *im, const struct macho_bind *b)
{
    int64_t ord = b->ordinal;
    if (b->kind == MACHO_BIND_WEAK || ord == BIND_SPECIAL_WEAK)
        return diag_fail(ld->d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s (weak-def coalescing)", b->symbol);
    if (ord > 0) {
        const struct image *dep = im->needed[ord - 1];
        const char *lib = macho_of(im)->dylibs[ord - 1].name;
        if (dep && strcmp(dep->path, lib) != 0)
            return diag_fail(ld->d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s (dylib %s, loaded from %s)",
                             b->symbol, lib, dep->path);
        return diag_fail(ld->d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s (dylib %s%s)", b->symbol, lib,
                         dep ? "" : ", taken from the host");
    }
    return diag_fail(ld->d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s (%s)", b->symbol,
                     ord == BIND_SPECIAL_FLAT ? "flat namespace" : ord == BIND_SPECIAL_MAIN ? "main executable"
                                                                                            : "this image itself");
}

/* A weak-def bind (ordinal -3, or the weak-bind stream of opcode files): coalesced among the Mach-O
 * images, else the host's, else 0 for a weak import. A weak-bind stream entry nobody defines
 * keeps the value the place has (*keep), as dyld leaves it. */
static int weak_value(struct load *ld, struct image *im, const struct macho_bind *b, uint64_t *addr, bool *keep)
{
    struct macho_def def;
    bool found;
    if (coalesce(ld, b->symbol, &def))
        return -1;
    if (def.im) {
        *addr = macho_def_addr(&def);
        diag_trace_ev(ld->d, TRACE_BINDINGS, ev_bind(im->path, b->symbol, NULL, def.im->path, *addr),
                      "%s: coalesced %s to the definition of %s (0x%llx)", im->path, b->symbol, def.im->path,
                   (unsigned long long)*addr);
        return 0;
    }
    if (host_bind(ld, im, b->symbol, addr, &found))
        return -1;
    if (found)
        return 0;
    *addr = 0;
    *keep = b->kind == MACHO_BIND_WEAK;
    return *keep || b->weak ? 0 : undefined(ld, im, b);
}

static int macho_bind_value(struct load *ld, struct image *im, const struct macho_bind *b, uint64_t *addr, bool *keep)
{
    int64_t ordinal = b->ordinal;
    int found = 0;
    *keep = false;
    if ((*addr = macho_tlv_special(b->symbol)))
        return 0;
    if (!strcmp(b->symbol, "dyld_stub_binder")) {
        *addr = (uint64_t)(uintptr_t)stub_binder_trap;
        return 0;
    }
    if (b->kind == MACHO_BIND_WEAK || ordinal == BIND_SPECIAL_WEAK)
        return weak_value(ld, im, b, addr, keep);
    if (ordinal > 0 && (uint64_t)ordinal > im->nneeded)
        return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "bind of %s names library ordinal %lld of %zu", b->symbol,
                         (long long)ordinal, im->nneeded);
    if (ordinal == BIND_SPECIAL_SELF)
        found = find_in_macho(ld, im, im, b->symbol, addr);
    else if (ordinal > 0 && im->needed[ordinal - 1])
        found = find_in_macho(ld, im, im->needed[ordinal - 1], b->symbol, addr);
    bool host = false;
    if (found == 0 && host_bind(ld, im, b->symbol, addr, &host))
        return -1;
    found = found ? found : host;
    for (size_t i = 0; found == 0 && ordinal == BIND_SPECIAL_FLAT && i < ld->nscope; i++)
        found = find_in_macho(ld, im, ld->scope[i], b->symbol, addr);
    if (found)
        return found < 0 ? -1 : 0;
    *addr = 0;
    return b->weak ? 0 : undefined(ld, im, b);
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
    if (image_range_ok(a->im, *where, 8, RANGE_MAPPED)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s at 0x%llx writes into a read-only segment", what, (unsigned long long)*where);
        return policy_text_relocation(a->im->path, msg, a->ld->d);
    }
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
    bool keep;
    if (place(a, at, 0, bind_what[b->kind], &where) || macho_bind_value(a->ld, a->im, b, &addr, &keep))
        return -1;
    if (keep)
        return 0;
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
