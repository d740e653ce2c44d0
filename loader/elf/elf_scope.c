/*
 * elf_scope.c — the global scope: which of the process's objects ld.so searches for a symbol.
 *
 * dl_iterate_phdr lists every object the system loader has: the executable, the vDSO, what
 * LD_PRELOAD named, the executable's dependencies, ld.so, and whatever the host dlopen'ed since.
 * ld.so does not search all of them. Its global scope (rtld.c's main search list) is the
 * executable, then the preloaded objects, then the dependencies of all of these breadth-first
 * (ld.so among them, as libc's dependency); objects dlopen'ed with RTLD_GLOBAL are appended to it
 * later. The vDSO is mapped and listed but is nobody's dependency: it is never searched (glibc
 * asks it for its own __vdso_* functions only).
 *
 * We rebuild that list from public facts, each time the host list changes:
 *   - the executable is the first object listed;
 *   - the vDSO is the object whose mapping holds AT_SYSINFO_EHDR;
 *   - preloads: ld.so maps them right after the executable (and the vDSO), before anything it
 *     maps as a dependency. They are the run of objects after the executable that neither the
 *     executable nor an earlier preload names in DT_NEEDED (none for an executable without
 *     DT_NEEDED: a -static one, whose later objects can only be dlopen'ed);
 *   - each host object's DT_NEEDED names are matched, as ld.so matches them, against the names of
 *     the objects listed (soname, file name, or the whole path), the first in load order: this is
 *     also each host image's list of dependencies (im->needed), so the local scope of a plugin
 *     that reuses a host object includes that object's own dependencies, as with dlopen.
 * Not knowable without glibc's private link_map fields: which later objects were dlopen'ed with
 * RTLD_GLOBAL. They are left out (plugin.h says how to reach them).
 */
#include "elf/elf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

static struct image **scope;        /* the global scope, in ld.so's search order */
static size_t nscope, scope_cap;
static const struct image *vdso;

/* The vDSO: its first segment maps the ELF header the kernel reports (AT_SYSINFO_EHDR). */
static const struct image *find_vdso(struct image **hosts, size_t n)
{
    uintptr_t ehdr = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    for (size_t i = 0; ehdr && i < n; i++)
        if (hosts[i]->nsegs && image_contains(hosts[i], ehdr))
            return hosts[i];
    return NULL;
}

/* The host object that a DT_NEEDED name stands for: the first in load order with that soname,
 * file name or path (ld.so's _dl_name_match_p, which knows the names each object was asked by). */
static struct image *host_named(struct image **hosts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (hosts[i]->path[0] && image_is_named(hosts[i], name))
            return hosts[i];
    return NULL;
}

/* im->needed of a host object: its DT_NEEDED entries matched against the host list (NULL for a
 * name no object answers to). 0, or -1 when out of memory. */
static int link_needed(struct image *im, struct image **hosts, size_t n)
{
    const struct elf_object *o = elf_of(im);
    free(im->needed);
    im->needed = NULL;
    im->nneeded = 0;
    size_t count = 0;
    for (size_t i = 0; o->strtab && i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++)
        count += o->dynamic[i].d_tag == DT_NEEDED;
    if (!count)
        return 0;
    if (!(im->needed = calloc(count, sizeof *im->needed)))
        return -1;
    for (size_t i = 0; i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++) {
        const char *name = o->dynamic[i].d_tag == DT_NEEDED ? elf_str(o, o->dynamic[i].d_un.d_val) : NULL;
        if (name)
            im->needed[im->nneeded++] = host_named(hosts, n, name);
    }
    return 0;
}

static bool push(struct image *im, unsigned mark)
{
    if (nscope == scope_cap) {
        size_t cap = scope_cap ? scope_cap * 2 : 16;
        struct image **g = realloc(scope, cap * sizeof *g);
        if (!g)
            return false;
        scope = g;
        scope_cap = cap;
    }
    im->visit = mark;
    scope[nscope++] = im;
    return true;
}

/* Whether one of the first k objects of the scope names im in DT_NEEDED. */
static bool needed_by_first(const struct image *im, size_t k)
{
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < scope[i]->nneeded; j++)
            if (scope[i]->needed[j] == im)
                return true;
    return false;
}

/* The executable, then the preloads: the objects after it that it and the preloads before them
 * do not need, up to the first one that is needed (ld.so's first dependency). */
static bool add_roots(struct image **hosts, size_t n, unsigned mark)
{
    if (!push(hosts[0], mark))
        return false;
    if (!hosts[0]->nneeded)
        return true;                    /* no dependencies: nothing can have been preloaded */
    for (size_t i = 1; i < n; i++) {
        if (hosts[i] == vdso)
            continue;
        if (needed_by_first(hosts[i], nscope))
            break;
        if (!push(hosts[i], mark))
            return false;
    }
    return true;
}

int elf_scope_build(struct image **hosts, size_t n)
{
    nscope = 0;
    vdso = find_vdso(hosts, n);
    for (size_t i = 0; i < n; i++)
        if (link_needed(hosts[i], hosts, n))
            return -1;
    if (!n)
        return 0;
    unsigned mark = registry_new_mark();
    if (vdso)
        ((struct image *)vdso)->visit = mark;   /* never searched, even if named */
    if (!add_roots(hosts, n, mark))
        return -1;
    for (size_t i = 0; i < nscope; i++)          /* grows while walked: breadth-first */
        for (size_t j = 0; j < scope[i]->nneeded; j++) {
            struct image *dep = scope[i]->needed[j];
            if (dep && dep->visit != mark && !push(dep, mark))
                return -1;
        }
    return 0;
}

struct image **elf_scope(size_t *n)
{
    *n = nscope;
    return scope;
}

bool elf_is_vdso(const struct image *im)
{
    return im && im == vdso;
}
