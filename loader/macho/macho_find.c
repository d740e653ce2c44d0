/*
 * macho_find.c — what a Mach-O image answers for a symbol name, as dyld answers it (dyld4's
 * Loader::hasExportedSymbol), and plugin_lookup's rule for names.
 *
 * A name is looked up in an image in three steps:
 *   1. the image's own exports: its export trie, or without one the external definitions of its
 *      symbol table;
 *   2. an entry of the trie flagged EXPORT_SYMBOL_FLAGS_REEXPORT is not a definition: it names a
 *      dylib (a library ordinal of the image) and a name there (empty: the same name); the lookup
 *      goes on in that dylib, under that name;
 *   3. a name the image does not export is looked up in the dylibs it re-exports whole
 *      (LC_REEXPORT_DYLIB), in load-command order (not in a "shallow" search: weak coalescing).
 * A re-export whose dylib is a system library (/usr/lib/..., /System/...) names a definition the
 * host provides: the answer is "the host, under this name" (binding asks the host; plugin_lookup
 * cannot, see macho_lookup). A re-export from a missing weak dylib finds nothing.
 *
 * Files are untrusted, and re-exports can form cycles: a chain of re-exports is at most
 * MACHO_REEXPORT_DEPTH long (deeper is a FORMAT error), and one search visits an image at most
 * once per name (at most MACHO_SEARCH_MAX images), as dyld's alreadySearched list does.
 */
#include "macho/macho.h"

#include <stdio.h>
#include <string.h>

#define MACHO_REEXPORT_DEPTH 16
#define MACHO_SEARCH_MAX 64

struct search {
    const struct image *seen[MACHO_SEARCH_MAX];     /* the images already asked for this name */
    size_t nseen;
    unsigned depth;
    bool shallow;
    struct diag *d;
};

bool macho_is_system_dylib(const char *name)
{
    return !strncmp(name, "/usr/lib/", 9) || !strncmp(name, "/System/", 8);
}

/* Without an export trie, the symbol table (N_WEAK_DEF in n_desc gives the weak flag). */
static bool symtab_find(const struct image *im, const char *sym, struct macho_export *e)
{
    const char *name;
    uint64_t value;
    uint16_t desc;
    for (uint32_t i = 0; i < macho_of(im)->nsyms; i++)
        if (macho_symbol(im, i, &name, &value) && !strcmp(name, sym)) {
            memcpy(&desc, macho_linkedit(im, macho_of(im)->symtab.off) + (size_t)i * 16 + 6, 2);
            *e = (struct macho_export){ true, (desc & 0x80) ? MACHO_EXPORT_WEAK : 0, value - macho_of(im)->base_vaddr,
                                        0, 0, NULL };
            return true;
        }
    return false;
}

static bool own_export(const struct image *im, const char *sym, struct macho_export *e)
{
    const struct macho *m = macho_of(im);
    return m->trie ? macho_trie_find(m->trie, m->trie_size, sym, e) : symtab_find(im, sym, e);
}

/* Whether im was already asked in this search; if not, it is now (a full list: treated as
 * asked, which ends the search there). */
static bool seen(struct search *s, const struct image *im)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (s->seen[i] == im)
            return true;
    if (s->nseen == MACHO_SEARCH_MAX)
        return true;
    s->seen[s->nseen++] = im;
    return false;
}

static int find_in(struct search *s, const struct image *im, const char *sym, struct macho_def *out);

/* Step 2: a trie entry re-exporting from the dylib of its ordinal, under its import name. */
static int follow(struct search *s, const struct image *im, const char *sym, const struct macho_export *e,
                  struct macho_def *out)
{
    const struct macho *m = macho_of(im);
    const char *name = e->reexport_name && e->reexport_name[0] ? e->reexport_name : sym;
    if (e->ordinal == 0 || e->ordinal > m->ndylibs || e->ordinal > im->nneeded)
        return diag_fail(s->d, PLUGIN_ERR_FORMAT, im->path, "export %s re-exports from library ordinal %llu of %zu",
                         sym, (unsigned long long)e->ordinal, m->ndylibs);
    const struct image *dep = im->needed[e->ordinal - 1];
    const char *lib = m->dylibs[e->ordinal - 1].name;
    if (!dep && macho_is_system_dylib(lib)) {
        *out = (struct macho_def){ NULL, { 0 }, name, lib };
        return MACHO_FOUND_HOST;
    }
    if (name == sym)
        return find_in(s, dep, name, out);
    struct search renamed = { .depth = s->depth, .shallow = s->shallow, .d = s->d };   /* a new name: asked anew */
    return find_in(&renamed, dep, name, out);
}

/* Step 3: the dylibs im re-exports whole (LC_REEXPORT_DYLIB) that we loaded. */
static int in_reexported(struct search *s, const struct image *im, const char *sym, struct macho_def *out)
{
    const struct macho *m = macho_of(im);
    for (size_t i = 0; i < m->ndylibs && i < im->nneeded; i++) {
        if (!m->dylibs[i].reexport || !im->needed[i])
            continue;
        int rc = find_in(s, im->needed[i], sym, out);
        if (rc != MACHO_NOT_FOUND)
            return rc;
    }
    return MACHO_NOT_FOUND;
}

static int find_in(struct search *s, const struct image *im, const char *sym, struct macho_def *out)
{
    if (!im || im->fmt != &macho_format || !macho_of(im) || seen(s, im))
        return MACHO_NOT_FOUND;
    if (s->depth >= MACHO_REEXPORT_DEPTH)
        return diag_fail(s->d, PLUGIN_ERR_FORMAT, im->path, "re-exports of %s nest deeper than %d dylibs", sym,
                         MACHO_REEXPORT_DEPTH);
    struct macho_export e = { 0 };
    int rc = MACHO_FOUND;
    s->depth++;
    if (!own_export(im, sym, &e))
        rc = s->shallow ? MACHO_NOT_FOUND : in_reexported(s, im, sym, out);
    else if (e.flags & MACHO_EXPORT_REEXPORT)
        rc = follow(s, im, sym, &e, out);
    else
        *out = (struct macho_def){ im, e, sym, NULL };
    s->depth--;
    return rc;
}

int macho_find(const struct image *im, const char *sym, bool shallow, struct macho_def *out, struct diag *d)
{
    struct search s = { .shallow = shallow, .d = d };
    return find_in(&s, im, sym, out);
}

uint64_t macho_def_addr(const struct macho_def *def)
{
    const struct macho *m = macho_of(def->im);
    if ((def->e.flags & MACHO_EXPORT_KIND_MASK) == MACHO_EXPORT_KIND_ABSOLUTE)
        return def->e.address;
    return def->im->bias + m->base_vaddr + def->e.address;
}

/* A definition's value for plugin_lookup: a thread-local's address in this thread, a resolver's
 * answer, an absolute value or an address in the image. */
static void *lookup_value(const struct macho_def *def)
{
    const struct macho *m = macho_of(def->im);
    if ((def->e.flags & MACHO_EXPORT_KIND_MASK) == MACHO_EXPORT_KIND_THREAD_LOCAL)
        return macho_tlv_lookup(def->im, m->base_vaddr + def->e.address);     /* the address is its descriptor's */
    if (def->e.flags & MACHO_EXPORT_STUB_AND_RESOLVER) {
        uint64_t (*resolver)(void) = (uint64_t (*)(void))(uintptr_t)(def->im->bias + m->base_vaddr + def->e.resolver);
        return (void *)(uintptr_t)resolver();
    }
    return (void *)(uintptr_t)macho_def_addr(def);
}

/* plugin_lookup's names (include/plugin.h): "\1RAW" is the Mach-O name RAW as it is; any other
 * name N is the C name of "_N", or failing that, when N does not start with '_' itself, the
 * Mach-O name N (names no C name spells: ".gomp_critical_user_"). */
static int find_by_lookup_name(const struct image *im, const char *name, struct macho_def *def, struct diag *d)
{
    char sym[1024];
    if (name[0] == '\1')
        return macho_find(im, name + 1, false, def, d);
    int rc = MACHO_NOT_FOUND;
    if ((size_t)snprintf(sym, sizeof sym, "_%s", name) < sizeof sym)
        rc = macho_find(im, sym, false, def, d);
    if (rc == MACHO_NOT_FOUND && name[0] && name[0] != '_')
        rc = macho_find(im, name, false, def, d);
    return rc;
}

void *macho_lookup(const struct image *im, const char *name, struct diag *d)
{
    struct macho_def def;
    int rc = find_by_lookup_name(im, name, &def, d);
    if (rc == MACHO_FOUND_HOST) {
        diag_fail_raw(d, PLUGIN_ERR_UNSUPPORTED, "plugin: symbol \"%s\" of plugin \"%s\" is re-exported from %s, "
                      "which the host provides: plugin_lookup does not search the host", name, im->path, def.via);
        return NULL;
    }
    if (rc == MACHO_NOT_FOUND)
        diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: symbol \"%s\" not found in plugin \"%s\"", name, im->path);
    if (rc == MACHO_FOUND && (def.e.flags & MACHO_EXPORT_STUB_AND_RESOLVER) &&
        init_lookup_may_resolve(def.im, name, d))           /* PLUGIN_NO_RUN: not before its initializers */
        return NULL;
    return rc == MACHO_FOUND ? lookup_value(&def) : NULL;
}
