/*
 * macho_load.c — a Mach-O object as a loaded image: its segments for vm.c, its export trie and
 * initializer and finalizer sections once mapped, its dependencies (LC_LOAD_DYLIB with @rpath,
 * @loader_path and @executable_path), its initializers and its finalizers (plugin_lookup is
 * macho_find.c's).
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
#include <unistd.h>

enum {
    VM_PROT_READ_ = 1, VM_PROT_WRITE_ = 2, VM_PROT_EXECUTE_ = 4, SG_READ_ONLY_ = 0x10,
    S_MOD_INIT_FUNC_POINTERS_ = 0x9, S_MOD_TERM_FUNC_POINTERS_ = 0xa,
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

/* Add one initializer or finalizer section to *list. */
static int add_section(struct macho_init_section **list, size_t *n, const struct macho_init_section *sc, const char *file,
                       struct diag *d)
{
    struct macho_init_section *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return diag_fail(d, PLUGIN_ERR_NOMEM, file, "out of memory");
    *list = grown;
    (*list)[(*n)++] = *sc;
    return 0;
}

/* The initializer sections (__mod_init_func, __init_offsets) and the finalizer sections
 * (__mod_term_func), in load-command order. */
static int find_init_sections(struct image *im, struct diag *d)
{
    struct macho *m = macho_of(im);
    for (size_t i = 0; i < m->nsects; i++) {
        const struct macho_section *sc = &m->sects[i];
        unsigned type = sc->flags & SECTION_TYPE_;
        if (type != S_MOD_INIT_FUNC_POINTERS_ && type != S_INIT_FUNC_OFFSETS_ && type != S_MOD_TERM_FUNC_POINTERS_)
            continue;
        bool offs = type == S_INIT_FUNC_OFFSETS_;
        if (sc->size % (offs ? 4 : 8) || sc->addr % (offs ? 4 : 8) || !image_range_ok(im, sc->addr, sc->size, RANGE_READ))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "%s section at 0x%llx is malformed",
                             type == S_MOD_TERM_FUNC_POINTERS_ ? "finalizer" : "initializer", (unsigned long long)sc->addr);
        const struct macho_init_section found = { sc->addr, sc->size, offs };
        if (type == S_MOD_TERM_FUNC_POINTERS_ ? add_section(&m->terms, &m->nterms, &found, im->path, d)
                                              : add_section(&m->inits, &m->ninits, &found, im->path, d))
            return -1;
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
    diag_trace(d, TRACE_FILES, "%s: Mach-O %s, %zu exports, %s", im->path, m->filetype == 6 ? "dylib" : "bundle", m->nexports,
               m->chained_fixups ? "chained fixups" : m->dyld_info ? "rebase/bind opcodes" : "no fixups");
    return find_init_sections(im, d);
}

/* The directory of the running executable (/proc/self/exe resolved; under qemu-user, the
 * emulated program's), for @executable_path; false when it cannot be read. */
static bool executable_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return false;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash || dir[0] != '/')
        return false;
    *(slash == dir ? slash + 1 : slash) = '\0';
    return true;
}

/* name with a leading @loader_path or @executable_path replaced by its directory (other names
 * as they are) into out; false when that directory is unknown, the security policy does not
 * follow @executable_path (a set-user-ID process, core/policy.c rule 7), or the result does
 * not fit. */
static bool expand_prefix(const struct image *im, const char *name, char *out, size_t size)
{
    char dir[PATH_MAX];
    const char *rest = name;
    if (!strncmp(name, "@loader_path", 12) && (name[12] == '/' || !name[12])) {
        if (!im->origin || strlen(im->origin) >= sizeof dir)
            return false;
        strcpy(dir, im->origin);
        rest = name + 12;
    } else if (!strncmp(name, "@executable_path", 16) && (name[16] == '/' || !name[16])) {
        if (!policy_executable_path() || !executable_dir(dir, sizeof dir))
            return false;
        rest = name + 16;
    } else {
        dir[0] = '\0';
    }
    return (size_t)snprintf(out, size, "%s%s", dir, rest) < size;
}

/* @rpath/NAME: each LC_RPATH of im in order (themselves expanded), an absolute result tried. */
static int find_in_rpaths(struct load *ld, struct image *im, const char *name, struct image **out)
{
    char dir[PATH_MAX], path[PATH_MAX];
    deps_searching(ld, "LC_RPATH", im->path);
    for (size_t i = 0; i < macho_of(im)->nrpaths && !*out; i++) {
        if (!expand_prefix(im, macho_of(im)->rpaths[i], dir, sizeof dir) ||
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path || path[0] != '/')
            continue;
        if (deps_try_path(ld, path, PLUGIN_VIA_RPATH, "LC_RPATH", out) < 0)
            return -1;
    }
    return 0;
}

/* The candidate paths of one LC_LOAD_DYLIB name: a system library is the host's; @rpath/ goes
 * through LC_RPATH; @loader_path/ and @executable_path/ are expanded; an absolute path is tried
 * as it is; a relative name is not searched. */
static int find_dylib(struct load *ld, struct image *im, const struct macho_dylib *dl, struct image **out)
{
    char path[PATH_MAX];
    const char *name = dl->name;
    if (macho_is_system_dylib(name)) {
        diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(im->path, name, NULL, PLUGIN_VIA_HOST),
                      "%s: needs %s: a system library, taken from the host", im->path, name);
        return 0;
    }
    if (!strncmp(name, "@rpath/", 7))
        return find_in_rpaths(ld, im, name + 7, out);
    deps_searching(ld, name[0] != '@' ? "path" : name[1] == 'l' ? "@loader_path" : "@executable_path", NULL);
    if (name[0] == '@' && expand_prefix(im, name, path, sizeof path) && path[0] == '/')
        return deps_try_path(ld, path, PLUGIN_VIA_LOADER_PATH, name[1] == 'l' ? "@loader_path" : "@executable_path",
                             out) < 0 ? -1 : 0;
    if (name[0] == '/')
        return deps_try_path(ld, name, PLUGIN_VIA_PATH, "LC_LOAD_DYLIB path", out) < 0 ? -1 : 0;
    return 0;                                   /* relative names: not searched */
}

int macho_load_deps(struct load *ld, size_t idx)
{
    struct image *im = ld->images[idx];
    struct macho *m = macho_of(im);
    if (!m->ndylibs)
        return 0;
    if (!(im->needed = calloc(m->ndylibs, sizeof *im->needed)))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
    im->nneeded = m->ndylibs;
    for (size_t i = 0; i < m->ndylibs; i++) {
        const struct macho_dylib *dl = &m->dylibs[i];
        bool system = macho_is_system_dylib(dl->name);
        char note[300];
        deps_search_begin(ld, dl->name);
        if (find_dylib(ld, im, dl, &im->needed[i])) {
            if (plan_note_failure(ld, idx, dl->name))
                return -1;
            continue;
        }
        if (ld->plan) {                         /* a dry run notes the outcome and goes on */
            plan_note_dep(ld, idx, dl->name, im->needed[i], !im->needed[i] && !system);
            continue;
        }
        if (im->needed[i])
            diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(im->path, dl->name, im->needed[i]->path, ld->found_via),
                          "  %s resolved to %s (%s)", dl->name, im->needed[i]->path,
                          plugin_trace_via_name(ld->found_via));
        if (im->needed[i] && im->needed[i]->fmt != &macho_format)
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "dependency %s is not a Mach-O object", dl->name);
        if (!im->needed[i] && !system && !dl->weak)
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "needed library %s not found%s", dl->name,
                             deps_denied_note(ld, note, sizeof note));
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
            diag_trace_ev(d, TRACE_INIT, ev_init(im->path, sc->offsets ? "__init_offsets" : "__mod_init_func", k, fn),
                          "%s: calling initializer %zu at 0x%llx", im->path, k, (unsigned long long)fn);
            ((macho_init_fn)(uintptr_t)fn)(argc, argv, envp);
        }
    }
}

typedef void (*macho_term_fn)(void);

/* dyld's order: the sections in load-command order, each one's functions from the last to the
 * first. A pointer outside the image's memory (a file that lies) is not called. */
void macho_run_fini(struct image *im)
{
    const struct macho *m = macho_of(im);
    for (size_t i = 0; m && i < m->nterms; i++) {
        const struct macho_init_section *sc = &m->terms[i];
        for (size_t k = sc->size / 8; k > 0; k--) {
            uint64_t fn;
            memcpy(&fn, image_addr(im, sc->vmaddr + 8 * (k - 1)), 8);
            if (image_contains(im, (uintptr_t)fn))
                ((macho_term_fn)(uintptr_t)fn)();
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
