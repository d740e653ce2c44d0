/*
 * elf_exports.c — the ELF front end's part of plugin_lookup's table (core/exports.h): every name
 * the object exports, each mapped to the answer plugin_lookup(p, name) gives for it.
 *
 * What a name maps to is decided by the symbol search itself (elf_find_symbol for an unversioned
 * lookup of the default version, as op_lookup runs it), once per distinct name, so the table
 * answers exactly as the search would. Its address is final (bias + st_value, or st_value for
 * SHN_ABS); a unique definition (STB_GNU_UNIQUE) maps to the process's one (elf_unique.c, read
 * without a lock). Two kinds of definition are entered as "ask", for op_lookup to answer each time: an
 * IFUNC (dlsym calls the resolver on every lookup, and so do we) and a thread-local (the calling
 * thread's copy).
 */
#include "core/exports.h"
#include "elf/elf.h"

/* A symbol the search could return for its name (elf_symtab.c's sym_ok, less the version). */
static const char *candidate(const struct elf_object *o, uint32_t i)
{
    const Elf64_Sym *s = &o->symtab[i];
    return elf_symbol_exported(s) ? elf_str(o, s->st_name) : NULL;
}

struct export_table *elf_exports_build(const struct image *im)
{
    const struct elf_object *o = elf_of(im);
    if (!o || !o->symtab)
        return NULL;
    uint32_t n = 0;
    for (uint32_t i = 1; i < o->nsyms; i++)
        n += candidate(o, i) != NULL;
    struct export_table *t = exports_new(n);
    if (!t)
        return NULL;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const char *name = candidate(o, i);
        uintptr_t seen;
        if (!name || exports_find(t, name, &seen) != EXPORT_MISSING)
            continue;                       /* not exported, or the name is in already */
        struct sym_query q;
        sym_query_init(&q, name, NULL);
        q.newest = true;
        const Elf64_Sym *def = elf_find_symbol(im, &q);
        if (!def)
            continue;                       /* only hidden versions of it: not found by name */
        const struct image *owner = im;
        struct resolved u;
        if (ELF64_ST_BIND(def->st_info) == STB_GNU_UNIQUE && elf_unique_get(name, &u) && u.def->fmt == &elf_format)
            owner = u.def, def = u.sym;
        int type = ELF64_ST_TYPE(def->st_info);
        bool ask = type == STT_GNU_IFUNC || type == STT_TLS;
        if (!exports_add(t, name, ask ? 0 : (uintptr_t)elf_symbol_addr(owner, def), ask)) {
            exports_free(t);                /* cannot happen (room for every candidate): no table */
            return NULL;
        }
    }
    return t;
}
