/*
 * resolve.c — the order in which a reference is bound to a definition.
 *
 * The order is ld.so's for an RTLD_NOW | RTLD_LOCAL dlopen:
 *   0. an object linked with -Bsymbolic looks at itself first (what binds locally without any
 *      search is the front end's business, before it asks here);
 *   1. the caller's resolve callback (it stands where the executable stands);
 *   2. the exports the host registered (plugin_register_exports: the host's own list of what it
 *      exports, so it stands there too);
 *   3. the global scope: the executable, its preloads and their dependencies, breadth-first, as
 *      the host provider lists them (not the vDSO, not what the host dlopen'ed);
 *   3b. the objects opened with plugin_dlopen(..., PLUGIN_RTLD_GLOBAL), with their dependencies,
 *      in the order they were opened (core/dlfcn.c; glibc appends them to the global scope);
 *   4. the plugin's dependency tree, breadth-first from the plugin (the local scope; a host object
 *      it needs is there, with that object's own dependencies);
 *   5. only in a -static host (no dynamic C library, so 3 found nothing of libc): the
 *      executable's own symbol table (.symtab), last, so that the thousands of names a static
 *      executable holds (libc's internals among them) never interpose on a plugin's own
 *      definitions — a dynamic executable exports only what it was linked to export.
 * Each object is asked through its own front end (fmt->find), so the walk does not care which
 * format defines a name. A name's hashes are computed once per lookup (struct sym_query).
 */
#include "core/format.h"

#include <string.h>

void sym_query_init(struct sym_query *q, const char *name, const struct version *v)
{
    *q = (struct sym_query){ .name = name, .version = v };
}

static bool search(const struct image *const *list, size_t n, struct sym_query *q, struct resolved *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct image *im = list[i];
        if (im && im->fmt->find && im->fmt->find(im, q, out))
            return true;
    }
    return false;
}

/* Steps 1 and 2: what the host itself names (the callback, then its registered exports). */
static bool host_given(struct load *ld, const char *name, const char *version, uint64_t *addr, const char **via)
{
    const struct plugin_options *o = ld->opts;
    void *p = o && o->resolve ? o->resolve(o->resolve_ctx, name, version) : NULL;
    *addr = (uint64_t)(uintptr_t)p;
    *via = "the resolve callback";
    if (p)
        return true;
    *via = "the host's registered exports";
    return host_exports_find(name, addr);
}

/* Step 5: a -static host's own symbol table. A versioned reference (printf@GLIBC_2.2.5) binds to
 * the unversioned definition there: a static executable has no versions. */
static bool exe_symbol(struct load *ld, const char *name, uint64_t *addr, const char **via)
{
    *via = "the executable's symbol table";
    return ld->static_host && host_exe_symbol(name, addr, ld->d);
}

bool resolve_in_scope(struct load *ld, const struct image *im, struct sym_query *q, struct resolved *out)
{
    if (im->symbolic && search(&im, 1, q, out))
        return true;
    uint64_t addr;
    const char *via;
    if (host_given(ld, q->name, q->version ? q->version->name : NULL, &addr, &via)) {
        *out = (struct resolved){ addr, NULL, NULL, false, via };
        return true;
    }
    size_t nh, ng;
    struct image **global = host_scope(&nh);
    struct image **dl_global = dlfcn_global_scope(&ng);
    if ((host_may_define(q) && search((const struct image *const *)global, nh, q, out)) ||
        search((const struct image *const *)dl_global, ng, q, out) ||
        search((const struct image *const *)ld->scope, ld->nscope, q, out))
        return true;
    if (!exe_symbol(ld, q->name, &addr, &via))
        return false;
    *out = (struct resolved){ addr, NULL, NULL, false, via };
    return true;
}

/* An unversioned name (the default version) in list (IFUNCs resolved). */
static bool resolve_in_list(struct image **list, size_t n, const char *name, uint64_t *addr, const char **where)
{
    struct sym_query q;
    struct resolved r;
    sym_query_init(&q, name, NULL);
    q.newest = true;
    if (!search((const struct image *const *)list, n, &q, &r))
        return false;
    *addr = r.ifunc ? r.def->arch->call_ifunc(r.addr) : r.addr;
    *where = image_name(r.def);
    return true;
}

/* The process's objects only (after the resolve callback): what the loader itself needs of them
 * (__register_frame, __tls_get_addr), never a host's exports or a static executable's internals. */
bool resolve_host_name(struct load *ld, const char *name, uint64_t *addr, const char **where)
{
    const struct plugin_options *o = ld->opts;
    void *p = o && o->resolve ? o->resolve(o->resolve_ctx, name, NULL) : NULL;
    if (p) {
        *addr = (uint64_t)(uintptr_t)p;
        *where = "the resolve callback";
        return true;
    }
    size_t n;
    struct image **hosts = host_images(&n);
    return resolve_in_list(hosts, n, name, addr, where);
}

/* Where the executable stands, for Mach-O imports bound to the host: steps 1, 2, 3 and 5. */
bool resolve_global_name(struct load *ld, const char *name, uint64_t *addr, const char **where)
{
    if (host_given(ld, name, NULL, addr, where))
        return true;
    size_t n;
    struct image **global = host_scope(&n);
    return resolve_in_list(global, n, name, addr, where) || exe_symbol(ld, name, addr, where);
}
