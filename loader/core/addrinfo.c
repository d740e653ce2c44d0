/*
 * addrinfo.c — plugin_addr_info: what an address belongs to (dladdr's answer, without libdl).
 *
 * Two places are searched, ours first:
 *   1. the images we loaded, through the debuggers' list (debug.c), which holds every published
 *      image. The list is append-only, every link is published with a release store, and a
 *      published image is never modified in the fields read here (path, bias, segments, symbol
 *      tables, Mach-O trie), so it is walked without the load lock (acquire loads);
 *   2. the objects the system loader has, through dl_iterate_phdr (which takes glibc's own lock
 *      for the duration of the walk). The containing object's dynamic table is decoded into a
 *      temporary image on the stack for the symbol scan, so the host list of host.c (rebuilt under
 *      the load lock) is not touched either. plugin_addr_info therefore takes no lock of ours.
 *
 * The symbol: ELF — the defined FUNC / OBJECT / IFUNC / COMMON symbols of the dynamic symbol
 * table covered by its hash tables (what plugin_lookup can find); one whose [value, value+size)
 * contains addr wins, else the nearest one below addr. Mach-O — the export trie's nearest export
 * at or below (macho_addr.c), named without its leading underscore, as plugin_lookup takes it.
 */
#include "core/debug.h"
#include "macho/macho.h"

#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* addr (as an integer) lies in one of im's mapped segments. */
static bool image_contains(const struct image *im, uintptr_t a)
{
    for (size_t i = 0; i < im->nsegs; i++) {
        uintptr_t lo = im->bias + (uintptr_t)im->segs[i].vaddr;
        if (a >= lo && a - lo < im->segs[i].memsz)
            return true;
    }
    return false;
}

/* Rank of a candidate among symbols at the same address: global before weak, the default version
 * before a hidden one. */
static int sym_rank(const struct image *im, uint32_t i)
{
    const Elf64_Sym *s = &im->symtab[i];
    int r = ELF64_ST_BIND(s->st_info) == STB_GLOBAL ? 2 : 0;
    if (!im->versym || !(im->versym[i] & 0x8000))
        r += 1;
    return r;
}

/* The nearest exported symbol of an ELF image at or below a. */
static void elf_nearest(const struct image *im, uintptr_t a, struct plugin_addr_info *info)
{
    const Elf64_Sym *best = NULL;
    bool best_in = false;
    int best_rank = -1;
    for (uint32_t i = 1; im->symtab && i < im->nsyms; i++) {
        const Elf64_Sym *s = &im->symtab[i];
        unsigned type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
        if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS || !s->st_name)
            continue;
        if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC && type != STT_COMMON)
            continue;
        if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
            continue;
        uintptr_t v = im->bias + (uintptr_t)s->st_value;
        if (v > a)
            continue;
        bool in = s->st_size && a - v < s->st_size;
        int rank = sym_rank(im, i);
        if (best) {
            uintptr_t bv = im->bias + (uintptr_t)best->st_value;
            if (best_in && !in)
                continue;                   /* a containing symbol beats a nearer one below */
            if (best_in == in && (v < bv || (v == bv && rank <= best_rank)))
                continue;
        }
        if (!image_str(im, s->st_name))
            continue;
        best = s, best_in = in, best_rank = rank;
    }
    if (best) {
        info->symbol = image_str(im, best->st_name);
        info->symbol_addr = (void *)(im->bias + (uintptr_t)best->st_value);
    }
}

/* ---- Mach-O: the nearest export ---- */

/* Names spelled from a trie are kept here for good (the API promises strings that live as long
 * as the process): one entry per (image, export address), pushed without a lock. */
struct interned {
    struct interned *next;
    const struct image *im;
    uintptr_t addr;
    char name[];
};
static struct interned *interned_head;

static const char *intern(const struct image *im, uintptr_t addr, const char *name)
{
    for (struct interned *n = __atomic_load_n(&interned_head, __ATOMIC_ACQUIRE); n; n = n->next)
        if (n->im == im && n->addr == addr && strcmp(n->name, name) == 0)
            return n->name;
    size_t len = strlen(name);
    struct interned *n = malloc(sizeof *n + len + 1);
    if (!n)
        return NULL;
    n->im = im;
    n->addr = addr;
    memcpy(n->name, name, len + 1);
    n->next = __atomic_load_n(&interned_head, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&interned_head, &n->next, n, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return n->name;
}

struct macho_near {
    const struct image *im;
    uintptr_t addr, best;
    bool found;
    char name[1024];
};

static int macho_visit(void *ctx, const char *name, const struct macho_export *e)
{
    struct macho_near *mn = ctx;
    unsigned kind = e->flags & MACHO_EXPORT_KIND_MASK;
    if ((e->flags & MACHO_EXPORT_REEXPORT) || kind != MACHO_EXPORT_KIND_REGULAR)
        return 0;
    uintptr_t v = mn->im->bias + (uintptr_t)mn->im->macho->base_vaddr + (uintptr_t)e->address;
    if (v > mn->addr || (mn->found && v <= mn->best))
        return 0;
    size_t len = strlen(name);
    if (len >= sizeof mn->name)
        return 0;
    memcpy(mn->name, name, len + 1);
    mn->best = v;
    mn->found = true;
    return 0;
}

/* The export at or below a: the trie, or without one the external symbols of the symbol table.
 * The name is given as plugin_lookup takes it (without the leading underscore). */
static bool macho_nearest(const struct image *im, uintptr_t a, const char **name, uintptr_t *sym_addr)
{
    const struct macho *m = im->macho;
    struct macho_near *mn = calloc(1, sizeof *mn);
    bool ok = false;
    if (!mn)
        return false;
    mn->im = im;
    mn->addr = a;
    if (m->trie) {
        macho_trie_walk(m->trie, m->trie_size, macho_visit, mn);
        if (mn->found) {
            const char *n = mn->name[0] == '_' ? mn->name + 1 : mn->name;
            *name = intern(im, mn->best, n);
            *sym_addr = mn->best;
            ok = *name != NULL;
        }
        free(mn);
        return ok;
    }
    free(mn);
    uintptr_t best = 0;
    for (uint32_t i = 0; i < m->nsyms; i++) {
        const char *n;
        uint64_t value;
        if (!macho_symbol(im, i, &n, &value))
            continue;
        uintptr_t v = im->bias + (uintptr_t)value;
        if (v > a || (ok && v <= best))
            continue;
        best = v;
        *name = n + (n[0] == '_');
        ok = true;
    }
    *sym_addr = best;
    return ok;
}

static void fill_from_image(const struct image *im, uintptr_t a, struct plugin_addr_info *info)
{
    info->path = image_name(im);
    info->base = (void *)im->bias;
    if (im->macho) {
        uintptr_t sa;
        const char *name;
        info->base = (void *)(im->bias + (uintptr_t)im->macho->base_vaddr);
        if (macho_nearest(im, a, &name, &sa))
            info->symbol = name, info->symbol_addr = (void *)sa;
    } else {
        elf_nearest(im, a, info);
    }
}

/* The main program's path (dl_iterate_phdr names it ""), resolved once and kept. */
static const char *exe_path(void)
{
    static char *cached;
    char *have = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (have)
        return have;
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *mine = strdup(n > 0 ? (buf[n] = '\0', buf) : "the main program");
    if (!mine)
        return "the main program";
    char *expected = NULL;
    if (!__atomic_compare_exchange_n(&cached, &expected, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(mine);
        return expected;
    }
    return mine;
}

struct host_search {
    uintptr_t addr;
    struct plugin_addr_info *info;
    bool found;
};

static int host_each(struct dl_phdr_info *dl, size_t size, void *arg)
{
    struct host_search *hs = arg;
    (void)size;
    struct segment segs[64];
    struct image im;
    memset(&im, 0, sizeof im);
    im.is_host = true;
    im.state = IMG_READY;
    im.arch = arch_native();
    im.bias = dl->dlpi_addr;
    im.segs = segs;
    const ElfW(Phdr) *dyn = NULL;
    for (size_t i = 0; i < dl->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &dl->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_memsz && im.nsegs < sizeof segs / sizeof segs[0])
            segs[im.nsegs++] = (struct segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                                                 ph->p_flags, false };
        else if (ph->p_type == PT_DYNAMIC)
            dyn = ph;
    }
    if (!im.nsegs || !image_contains(&im, hs->addr))
        return 0;
    im.lo = segs[0].vaddr;
    im.hi = segs[im.nsegs - 1].vaddr + segs[im.nsegs - 1].memsz;
    hs->found = true;
    hs->info->path = dl->dlpi_name && dl->dlpi_name[0] ? dl->dlpi_name : exe_path();
    hs->info->base = (void *)dl->dlpi_addr;
    struct diag quiet = { NULL, NULL, NULL };
    if (dyn && image_range_ok(&im, dyn->p_vaddr, dyn->p_memsz, RANGE_READ)) {
        im.dynamic = image_addr(&im, dyn->p_vaddr);
        im.ndynamic = dyn->p_memsz / sizeof(Elf64_Dyn);
        if (elf_decode_host_dynamic(&im, &quiet) == 0)
            elf_nearest(&im, hs->addr, hs->info);
    }
    free(im.versions);
    return 1;
}

PLUGIN_API int plugin_addr_info(const void *addr, struct plugin_addr_info *info)
{
    struct plugin_addr_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    uintptr_t a = (uintptr_t)addr;
    if (!a)
        return 0;
    for (const struct plugin_debug_image *e = debug_first(); e; e = debug_next(e))
        if (image_contains(e->image, a)) {
            const struct image *im = e->image;
            fill_from_image(im, a, info);
            return 1;
        }
    struct host_search hs = { a, info, false };
    dl_iterate_phdr(host_each, &hs);
    if (!hs.found)
        memset(info, 0, sizeof *info);
    return hs.found;
}
