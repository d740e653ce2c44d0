/*
 * macho_addr.c — plugin_addr_info for Mach-O images: the export at or below an address, from the
 * export trie (or, without one, the external symbols of the symbol table), named without its
 * leading underscore as plugin_lookup takes it.
 */
#include "macho/macho.h"

#include <stdlib.h>
#include <string.h>

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
    uintptr_t v = mn->im->bias + (uintptr_t)macho_of(mn->im)->base_vaddr + (uintptr_t)e->address;
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
bool macho_nearest(const struct image *im, uintptr_t a, const char **name, uintptr_t *sym_addr)
{
    const struct macho *m = macho_of(im);
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
            *name = addrinfo_intern(im, mn->best, n);
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

