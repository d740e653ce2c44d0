/*
 * resolve.c — the order in which a reference is bound to a definition.
 *
 * The order is ld.so's for an RTLD_NOW | RTLD_LOCAL dlopen:
 *   0. an object linked with -Bsymbolic looks at itself first (what binds locally without any
 *      search is the front end's business, before it asks here);
 *   1. the caller's resolve callback (it stands where the executable stands);
 *   2. the global scope: the executable, its preloads and their dependencies, breadth-first, as
 *      the host provider lists them (not the vDSO, not what the host dlopen'ed);
 *   2b. the objects opened with plugin_dlopen(..., PLUGIN_RTLD_GLOBAL), with their dependencies,
 *      in the order they were opened (core/dlfcn.c; glibc appends them to the global scope);
 *   3. the plugin's dependency tree, breadth-first from the plugin (the local scope; a host object
 *      it needs is there, with that object's own dependencies).
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

bool resolve_in_scope(struct load *ld, const struct image *im, struct sym_query *q, struct resolved *out)
{
    if (im->symbolic && search(&im, 1, q, out))
        return true;
    const struct plugin_options *o = ld->opts;
    if (o && o->resolve) {
        void *p = o->resolve(o->resolve_ctx, q->name, q->version ? q->version->name : NULL);
        if (p) {
            *out = (struct resolved){ (uint64_t)(uintptr_t)p, NULL, NULL, false };
            return true;
        }
    }
    size_t nh, ng;
    struct image **global = host_scope(&nh);
    struct image **dl_global = dlfcn_global_scope(&ng);
    return (host_may_define(q) && search((const struct image *const *)global, nh, q, out)) ||
           search((const struct image *const *)dl_global, ng, q, out) ||
           search((const struct image *const *)ld->scope, ld->nscope, q, out);
}

/* An unversioned name (the default version) in the resolve callback, then in list (IFUNCs resolved). */
static bool resolve_in(struct load *ld, struct image **list, size_t n, const char *name, uint64_t *addr,
                       const char **where)
{
    const struct plugin_options *o = ld->opts;
    if (o && o->resolve) {
        void *p = o->resolve(o->resolve_ctx, name, NULL);
        if (p) {
            *addr = (uint64_t)(uintptr_t)p;
            *where = "the resolve callback";
            return true;
        }
    }
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

bool resolve_host_name(struct load *ld, const char *name, uint64_t *addr, const char **where)
{
    size_t n;
    struct image **hosts = host_images(&n);
    return resolve_in(ld, hosts, n, name, addr, where);
}

bool resolve_global_name(struct load *ld, const char *name, uint64_t *addr, const char **where)
{
    size_t n;
    struct image **global = host_scope(&n);
    return resolve_in(ld, global, n, name, addr, where);
}
