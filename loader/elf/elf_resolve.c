/*
 * elf_resolve.c — bind one symbol reference of an ELF object (a relocation's symbol index).
 *
 * Before the scope walk (core/resolve.c, ld.so's order for RTLD_NOW | RTLD_LOCAL):
 *   a symbol that binds locally (defined here with STB_LOCAL or non-default visibility) is this
 *   object's own; __tls_get_addr is the loader's (only we know our modules' numbers).
 * The reference's version comes from DT_VERSYM. A definition found that is unique
 * (STB_GNU_UNIQUE) gives way to the process's one (elf_unique.c), however it was found. Not
 * found: a weak reference is 0; a strong one is an error naming symbol, version and file (and,
 * in a -static host whose own symbol table could not be read, why not).
 */
#include "elf/elf.h"

#include <string.h>

static int found(struct resolved *out, const struct image *def, const Elf64_Sym *sym)
{
    out->def = def;
    out->sym = sym;
    out->addr = elf_symbol_addr(def, sym);
    out->ifunc = ELF64_ST_TYPE(sym->st_info) == STT_GNU_IFUNC;
    return 0;
}

/* The search itself, for an object whose bloom filter let the name through. */
static __attribute__((noinline)) bool find_in(const struct image *im, struct sym_query *q, struct resolved *out)
{
    const Elf64_Sym *s = elf_find_symbol(im, q);
    if (s)
        found(out, im, s);
    return s != NULL;
}

/* The first object a name is asked of: its hash, then the same question. */
static __attribute__((noinline)) bool first_find(const struct image *im, struct sym_query *q, struct resolved *out)
{
    q->hash[0] = elf_name_gnu_hash(q->name), q->hashed[0] = true;
    return elf_find(im, q, out);
}

/* The front end's answer to the scope walk: the definition of q in im. Most objects of a scope
 * do not define a given name, and their bloom filters say so: that answer saves no registers
 * and calls nothing (the name's hash is computed once, by the first object asked). */
bool elf_find(const struct image *im, struct sym_query *q, struct resolved *out)
{
    const struct elf_object *o = elf_of(im);
    if (__builtin_expect(!q->hashed[0], 0))
        return first_find(im, q, out);
    if (!o->symtab || !elf_bloom_may_define(o, q))
        return false;
    return find_in(im, q, out);
}

/* The version a reference asks for, from its DT_VERSYM entry; NULL when unversioned. */
static int reference_version(struct image *im, uint32_t idx, const struct version **v, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    *v = NULL;
    if (!o->versym)
        return 0;
    uint32_t ndx = o->versym[idx] & 0x7fff;
    if (ndx < 2)
        return 0;
    if (ndx >= o->nversions)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "symbol %u has version index %u, which is not defined",
                         idx, ndx);
    if (o->versions[ndx].name)             /* an index without a name: unversioned, as in glibc */
        *v = &o->versions[ndx];
    return 0;
}

/*
 * A reference of the root of this open to a symbol it defines itself binds to that definition
 * when no object of the global scope defines the name (the host filter says so), there is no
 * resolve callback and the host registered no export of that name: the scope walk (callback,
 * exports, global scope, then the local scope, whose first object is the root) would reach the
 * root first and find it there. A unique definition found so
 * still gives way to the process's one (elf_unique_apply, after this). Decided from the root's own GNU hash chain, without
 * hashing the name or walking the scope: most symbolic relocations of a large library name its
 * own functions and vtables. Any doubt, and the walk decides.
 */
static bool binds_to_itself(struct load *ld, struct image *im, uint32_t idx, struct sym_query *q)
{
    const struct elf_object *o = elf_of(im);
    uint64_t exported;
    if (ld->nscope == 0 || ld->scope[0] != im || (ld->opts && ld->opts->resolve) || !o->gnu.nbuckets ||
        idx < o->gnu.symoffset || idx >= o->nsyms || host_exports_find(q->name, &exported))
        return false;
    return elf_hosts_lack(o->gnu.chain[idx - o->gnu.symoffset]) && elf_search_finds_itself(im, idx, q);
}

int elf_resolve_symbol(struct load *ld, struct image *im, uint32_t idx, struct resolved *out)
{
    struct elf_object *o = elf_of(im);
    struct diag *d = ld->d;
    if (idx >= o->nsyms_max)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "relocation names symbol %u; the table has %u", idx,
                         o->nsyms_max);
    const Elf64_Sym *sym = &o->symtab[idx];
    const char *name = elf_str(o, sym->st_name);
    if (!name)
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "symbol %u has a name offset past DT_STRSZ", idx);
    unsigned bind = ELF64_ST_BIND(sym->st_info);
    if (sym->st_shndx != SHN_UNDEF && (bind == STB_LOCAL || ELF64_ST_VISIBILITY(sym->st_other) != STV_DEFAULT))
        return found(out, im, sym);
    if (sym->st_shndx == SHN_UNDEF && strcmp(name, "__tls_get_addr") == 0) {
        /* Only we know our modules' numbers: the object's __tls_get_addr is ours (it forwards
         * glibc's modules to glibc's). */
        *out = (struct resolved){ (uint64_t)(uintptr_t)elf_tls_get_addr_function(), NULL, NULL, false, NULL };
        diag_trace_ev(d, TRACE_BINDINGS, ev_bind(im->path, name, NULL, "the loader", out->addr),
                      "%s: bound __tls_get_addr to the loader's", im->path);
        return 0;
    }
    const struct version *v;
    if (reference_version(im, idx, &v, d))
        return -1;
    struct sym_query q;
    sym_query_init(&q, name, v);
    if (sym->st_shndx != SHN_UNDEF && binds_to_itself(ld, im, idx, &q)) {
        found(out, im, sym);
        diag_trace_ev(d, TRACE_BINDINGS, ev_bind(im->path, name, v ? v->name : NULL, im->path, out->addr),
                      "%s: bound %s%s%s to itself (0x%llx)", im->path, name, v ? "@" : "", v ? v->name : "",
                      (unsigned long long)out->addr);
        return elf_unique_apply(ld, name, out);
    }
    if (resolve_in_scope(ld, im, &q, out)) {
        if (elf_unique_apply(ld, name, out))
            return -1;
        const char *definer = out->def ? image_name(out->def) : out->via;
        diag_trace_ev(d, TRACE_BINDINGS, ev_bind(im->path, name, v ? v->name : NULL, definer, out->addr),
                      "%s: bound %s%s%s to %s (0x%llx)", im->path, name, v ? "@" : "", v ? v->name : "", definer,
                      (unsigned long long)out->addr);
        return 0;
    }
    if (bind == STB_WEAK) {
        *out = (struct resolved){ 0, NULL, NULL, false, NULL };
        diag_trace_ev(d, TRACE_BINDINGS, ev_bind(im->path, name, v ? v->name : NULL, NULL, 0),
                      "%s: weak %s is undefined: 0", im->path, name);
        return 0;
    }
    const char *why = ld->static_host ? host_exe_symbols_unavailable() : NULL;
    return diag_fail(d, PLUGIN_ERR_UNDEFINED, im->path, "undefined symbol %s%s%s%s%s%s%s%s", name,
                     v ? "@" : "", v ? v->name : "", v && v->file ? " from " : "", v && v->file ? v->file : "",
                     why ? " (a static host; its symbol table is not available: " : "", why ? why : "",
                     why ? ")" : "");
}

