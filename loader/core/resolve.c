/*
 * resolve.c — bind one symbol reference of an object to a definition.
 *
 * The order is ld.so's for an RTLD_NOW | RTLD_LOCAL dlopen:
 *   0. a symbol that binds locally (defined here with STB_LOCAL or non-default visibility) is
 *      this object's own; an object linked with -Bsymbolic looks at itself first;
 *   1. the caller's resolve callback (it stands where the executable stands);
 *   2. the objects the system loader has, in load order (the global scope);
 *   3. the plugin's dependency tree, breadth-first from the plugin (the local scope).
 * Not found: a weak reference is 0; a strong one is an error naming symbol, version and file.
 */
#include "core/internal.h"

#include <string.h>

static int found(struct resolved *out, const struct image *def, const Elf64_Sym *sym)
{
    out->def = def;
    out->sym = sym;
    out->addr = elf_symbol_addr(def, sym);
    return 0;
}

static bool search(const struct image *const *list, size_t n, struct sym_query *q, struct resolved *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct image *im = list[i];
        if (!im || !im->symtab)
            continue;
        const Elf64_Sym *s = elf_find_symbol(im, q);
        if (s) {
            found(out, im, s);
            return true;
        }
    }
    return false;
}

/* The version a reference asks for, from its DT_VERSYM entry; NULL when unversioned. */
static int reference_version(struct image *im, uint32_t idx, const struct version **v, struct diag *d)
{
    *v = NULL;
    if (!im->versym)
        return 0;
    uint32_t ndx = im->versym[idx] & 0x7fff;
    if (ndx < 2)
        return 0;
    if (ndx >= im->nversions)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "symbol %u has version index %u, which is not defined",
                         idx, ndx);
    if (im->versions[ndx].name)             /* an index without a name: unversioned, as in glibc */
        *v = &im->versions[ndx];
    return 0;
}

static bool lookup_chain(struct load *ld, struct image *im, struct sym_query *q, struct resolved *out)
{
    if (im->symbolic && search((const struct image *const *)&im, 1, q, out))
        return true;
    const struct plugin_options *o = ld->opts;
    if (o && o->resolve) {
        void *p = o->resolve(o->resolve_ctx, q->name, q->version ? q->version->name : NULL);
        if (p) {
            *out = (struct resolved){ (uint64_t)(uintptr_t)p, NULL, NULL };
            return true;
        }
    }
    size_t nh;
    struct image **hosts = host_images(&nh);
    return search((const struct image *const *)hosts, nh, q, out) ||
           search((const struct image *const *)ld->scope, ld->nscope, q, out);
}

int resolve_symbol(struct load *ld, struct image *im, uint32_t idx, struct resolved *out)
{
    struct diag *d = ld->d;
    if (idx >= im->nsyms_max)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "relocation names symbol %u; the table has %u", idx,
                         im->nsyms_max);
    const Elf64_Sym *sym = &im->symtab[idx];
    const char *name = image_str(im, sym->st_name);
    if (!name)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "symbol %u has a name offset past DT_STRSZ", idx);
    unsigned bind = ELF64_ST_BIND(sym->st_info);
    if (sym->st_shndx != SHN_UNDEF && (bind == STB_LOCAL || ELF64_ST_VISIBILITY(sym->st_other) != STV_DEFAULT))
        return found(out, im, sym);
    if (sym->st_shndx == SHN_UNDEF && strcmp(name, "__tls_get_addr") == 0) {
        /* Only we know our modules' numbers: the object's __tls_get_addr is ours (it forwards
         * glibc's modules to glibc's). */
        *out = (struct resolved){ (uint64_t)(uintptr_t)elf_tls_get_addr_function(), NULL, NULL };
        diag_trace(d, "%s: bound __tls_get_addr to the loader's", im->path);
        return 0;
    }
    const struct version *v;
    if (reference_version(im, idx, &v, d))
        return -1;
    struct sym_query q;
    sym_query_init(&q, name, v);
    if (lookup_chain(ld, im, &q, out)) {
        diag_trace(d, "%s: bound %s%s%s to %s (0x%llx)", im->path, name, v ? "@" : "", v ? v->name : "",
                   out->def ? image_name(out->def) : "the resolve callback", (unsigned long long)out->addr);
        return 0;
    }
    if (bind == STB_WEAK) {
        *out = (struct resolved){ 0, NULL, NULL };
        diag_trace(d, "%s: weak %s is undefined: 0", im->path, name);
        return 0;
    }
    return diag_fail(d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s%s%s%s%s", name,
                     v ? "@" : "", v ? v->name : "", v && v->file ? " from " : "", v && v->file ? v->file : "");
}

bool resolve_host_name(struct load *ld, const char *name, uint64_t *addr, const char **where)
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
    size_t nh;
    struct image **hosts = host_images(&nh);
    sym_query_init(&q, name, NULL);
    q.newest = true;
    if (!search((const struct image *const *)hosts, nh, &q, &r))
        return false;
    *addr = ELF64_ST_TYPE(r.sym->st_info) == STT_GNU_IFUNC ? r.def->arch->call_ifunc(r.addr) : r.addr;
    *where = image_name(r.def);
    return true;
}
