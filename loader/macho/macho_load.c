/*
 * macho_load.c — a Mach-O object as a loaded image: its segments for vm.c, its export trie and
 * initializer sections once mapped, its dependencies (LC_LOAD_DYLIB with @rpath and
 * @loader_path), its initializers, and plugin_lookup through the export trie.
 *
 * Segments become the same struct segment that ELF PT_LOADs become, so mapping, W^X and the
 * final protections are shared with the ELF front end; SG_READ_ONLY segments (__DATA_CONST) are
 * made read-only once fixups are done, as RELRO is.
 */
#include "macho/macho.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    VM_PROT_READ_ = 1, VM_PROT_WRITE_ = 2, VM_PROT_EXECUTE_ = 4, SG_READ_ONLY_ = 0x10,
    S_MOD_INIT_FUNC_POINTERS_ = 0x9,
    S_INIT_FUNC_OFFSETS_ = 0x16, SECTION_TYPE_ = 0xff,
};

static uint32_t pflags_of(uint32_t prot)
{
    return ((prot & VM_PROT_READ_) ? SEG_R : 0) | ((prot & VM_PROT_WRITE_) ? SEG_W : 0) |
           ((prot & VM_PROT_EXECUTE_) ? SEG_X : 0);
}

int macho_read_image(struct image *im, struct source *s, struct diag *d)
{
    struct macho *m = calloc(1, sizeof *m);
    if (!m)
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    im->fmt = &macho_format;
    im->fmt_data = m;
    if (macho_read_headers(m, s, d))
        return -1;
    if (!(im->segs = calloc(m->nsegs, sizeof *im->segs)))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    for (size_t i = 0; i < m->nsegs; i++) {
        const struct macho_segment *g = &m->segs[i];
        if (!g->vmsize || (!g->initprot && !g->filesize))
            continue;                           /* __PAGEZERO and empty segments map nothing */
        if (g->filesize && (m->slice_off + g->fileoff) % vm_page_size())
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "segment %s starts at file offset 0x%llx, not page-aligned",
                             g->name, (unsigned long long)(m->slice_off + g->fileoff));
        if (g->fileoff == 0 && g->filesize)
            m->base_vaddr = g->vmaddr;
        im->segs[im->nsegs++] = (struct segment){ g->vmaddr, g->vmsize, m->slice_off + g->fileoff, g->filesize,
                                                  pflags_of(g->initprot), (g->flags & SG_READ_ONLY_) != 0 };
    }
    if (!im->nsegs)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has no segment to map");
    im->lo = im->segs[0].vaddr;
    im->hi = im->segs[im->nsegs - 1].vaddr + im->segs[im->nsegs - 1].memsz;
    im->align = m->cputype == MACHO_CPU_ARM64 ? 0x4000 : 0x1000;  /* Apple's page size per CPU */
    im->arch = arch_native();
    im->soname = m->install_name;
    im->base_vaddr = m->base_vaddr;
    return 0;
}

const uint8_t *macho_linkedit(const struct image *im, uint32_t off)
{
    const struct macho *m = macho_of(im);
    for (size_t i = 0; i < m->nsegs; i++)
        if (strcmp(m->segs[i].name, "__LINKEDIT") == 0)
            return image_addr(im, m->segs[i].vmaddr + (off - m->segs[i].fileoff));
    return NULL;
}

/* The initializer sections, in load-command order. */
static int find_init_sections(struct image *im, struct diag *d)
{
    struct macho *m = macho_of(im);
    for (size_t i = 0; i < m->nsects; i++) {
        const struct macho_section *sc = &m->sects[i];
        unsigned type = sc->flags & SECTION_TYPE_;
        if (type != S_MOD_INIT_FUNC_POINTERS_ && type != S_INIT_FUNC_OFFSETS_)
            continue;
        bool offs = type == S_INIT_FUNC_OFFSETS_;
        if (sc->size % (offs ? 4 : 8) || sc->addr % (offs ? 4 : 8) || !image_range_ok(im, sc->addr, sc->size, RANGE_READ))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "initializer section at 0x%llx is malformed",
                             (unsigned long long)sc->addr);
        struct macho_init_section *n = realloc(m->inits, (m->ninits + 1) * sizeof *n);
        if (!n)
            return diag_fail(d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
        m->inits = n;
        m->inits[m->ninits++] = (struct macho_init_section){ sc->addr, sc->size, offs };
    }
    return 0;
}

int macho_decode(struct image *im, struct diag *d)
{
    struct macho *m = macho_of(im);
    const struct macho_range *r = m->exports_trie.present ? &m->exports_trie : &m->exports;
    if (r->present && r->size) {
        m->trie = macho_linkedit(im, r->off);
        m->trie_size = r->size;
        if (!m->trie || macho_trie_check(m->trie, m->trie_size, &m->nexports, im->path, d))
            return -1;
    }
    diag_trace(d, "%s: Mach-O %s, %zu exports, %s", im->path, m->filetype == 6 ? "dylib" : "bundle", m->nexports,
               m->chained_fixups ? "chained fixups" : m->dyld_info ? "rebase/bind opcodes" : "no fixups");
    return find_init_sections(im, d);
}

/* @loader_path / @rpath / absolute: the candidate paths of one LC_LOAD_DYLIB name. */
static int find_dylib(struct load *ld, struct image *im, const struct macho_dylib *dl, struct image **out)
{
    char path[PATH_MAX];
    const char *name = dl->name;
    if (!strncmp(name, "/usr/lib/", 9) || !strncmp(name, "/System/", 8)) {
        diag_trace(ld->d, "%s: needs %s: a system library, taken from the host", im->path, name);
        return 0;
    }
    if (!strncmp(name, "@loader_path/", 13)) {
        if (!im->origin || (size_t)snprintf(path, sizeof path, "%s/%s", im->origin, name + 13) >= sizeof path)
            return 0;
        return deps_try_path(ld, path, "@loader_path", out) < 0 ? -1 : 0;
    }
    if (!strncmp(name, "@rpath/", 7)) {
        for (size_t i = 0; i < macho_of(im)->nrpaths && !*out; i++) {
            const char *rp = macho_of(im)->rpaths[i];
            int n = !strncmp(rp, "@loader_path", 12) ? snprintf(path, sizeof path, "%s%s/%s", im->origin ? im->origin : "",
                                                               rp + 12, name + 7)
                                                     : snprintf(path, sizeof path, "%s/%s", rp, name + 7);
            if (n > 0 && (size_t)n < sizeof path && path[0] == '/' && deps_try_path(ld, path, "LC_RPATH", out) < 0)
                return -1;
        }
        return 0;
    }
    if (name[0] == '/')
        return deps_try_path(ld, name, "LC_LOAD_DYLIB path", out) < 0 ? -1 : 0;
    return 0;                                   /* @executable_path and relative names: not searched */
}

int macho_load_deps(struct load *ld, struct image *im)
{
    struct macho *m = macho_of(im);
    if (!m->ndylibs)
        return 0;
    if (!(im->needed = calloc(m->ndylibs, sizeof *im->needed)))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
    im->nneeded = m->ndylibs;
    for (size_t i = 0; i < m->ndylibs; i++) {
        const struct macho_dylib *dl = &m->dylibs[i];
        bool system = !strncmp(dl->name, "/usr/lib/", 9) || !strncmp(dl->name, "/System/", 8);
        if (find_dylib(ld, im, dl, &im->needed[i]))
            return -1;
        if (im->needed[i] && im->needed[i]->fmt != &macho_format)
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "dependency %s is not a Mach-O object", dl->name);
        if (!im->needed[i] && !system && !dl->weak)
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "needed library %s not found", dl->name);
    }
    return 0;
}

typedef void (*macho_init_fn)(int, char **, char **);

void macho_run_init(struct image *im, int argc, char **argv, char **envp, struct diag *d)
{
    const struct macho *m = macho_of(im);
    for (size_t i = 0; i < m->ninits; i++) {
        const struct macho_init_section *sc = &m->inits[i];
        size_t n = sc->size / (sc->offsets ? 4 : 8);
        for (size_t k = 0; k < n; k++) {
            uint64_t fn;
            if (sc->offsets) {
                uint32_t o;
                memcpy(&o, image_addr(im, sc->vmaddr + 4 * k), 4);
                fn = im->bias + m->base_vaddr + o;
            } else {
                memcpy(&fn, image_addr(im, sc->vmaddr + 8 * k), 8);
            }
            diag_trace(d, "%s: calling initializer %zu at 0x%llx", im->path, k, (unsigned long long)fn);
            ((macho_init_fn)(uintptr_t)fn)(argc, argv, envp);
        }
    }
}

bool macho_symbol(const struct image *im, uint32_t i, const char **name, uint64_t *value)
{
    const struct macho *m = macho_of(im);
    const uint8_t *syms = m->symtab.present ? macho_linkedit(im, m->symtab.off) : NULL;
    const char *strs = m->strtab.present ? (const char *)macho_linkedit(im, m->strtab.off) : NULL;
    if (!syms || !strs || i >= m->nsyms)
        return false;
    const uint8_t *n = syms + (size_t)i * 16;           /* struct nlist_64 */
    uint32_t strx;
    memcpy(&strx, n, 4);
    memcpy(value, n + 8, 8);
    if ((n[4] & 0xef) != 0x0f || strx >= m->strtab.size)   /* N_EXT | N_SECT, not a stab */
        return false;
    size_t left = m->strtab.size - strx;
    *name = strs + strx;
    return strnlen(*name, left) < left;
}

/* Without an export trie, the symbol table. */
static bool symtab_find(const struct image *im, const char *sym, struct macho_export *e)
{
    const char *name;
    uint64_t value;
    for (uint32_t i = 0; i < macho_of(im)->nsyms; i++)
        if (macho_symbol(im, i, &name, &value) && !strcmp(name, sym)) {
            *e = (struct macho_export){ true, 0, value - macho_of(im)->base_vaddr, 0, 0, NULL };
            return true;
        }
    return false;
}

void *macho_lookup(const struct image *im, const char *name, struct diag *d)
{
    char sym[1024];
    struct macho_export e;
    const struct macho *m = macho_of(im);
    bool ok = (size_t)snprintf(sym, sizeof sym, "_%s", name) < sizeof sym &&
              (m->trie ? macho_trie_find(m->trie, m->trie_size, sym, &e) : symtab_find(im, sym, &e));
    if (!ok) {
        diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: symbol \"%s\" not found in plugin \"%s\"", name, im->path);
        return NULL;
    }
    unsigned kind = e.flags & MACHO_EXPORT_KIND_MASK;
    if (e.flags & MACHO_EXPORT_REEXPORT) {
        diag_fail_raw(d, PLUGIN_ERR_UNSUPPORTED, "plugin: symbol \"%s\" in plugin \"%s\" is a re-export (of %s): "
                      "not supported yet", name, im->path, e.reexport_name);
        return NULL;
    }
    if (kind == MACHO_EXPORT_KIND_THREAD_LOCAL)         /* the address is its descriptor's */
        return macho_tlv_lookup(im, m->base_vaddr + e.address);
    if (e.flags & MACHO_EXPORT_STUB_AND_RESOLVER) {
        uint64_t (*resolver)(void) = (uint64_t (*)(void))(uintptr_t)(im->bias + m->base_vaddr + e.resolver);
        return (void *)(uintptr_t)resolver();
    }
    return (void *)(uintptr_t)(kind == MACHO_EXPORT_KIND_ABSOLUTE ? e.address : im->bias + m->base_vaddr + e.address);
}
