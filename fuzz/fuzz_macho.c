/*
 * fuzz_macho.c — libFuzzer target: untrusted bytes loaded as a Mach-O plugin (thin, or
 * universal: the slice for this CPU is chosen), through the public API.
 *
 * One input is one memory image, opened by plugin_open_memory with PLUGIN_NO_RUN (fuzz_open.c):
 * the universal header and slice choice, the Mach-O header and load commands, segments,
 * __LINKEDIT, the export trie, rebase/bind opcode streams or chained fixups, imports bound by
 * ordinal (LC_LOAD_DYLIB searched on disk, @rpath / @loader_path), flat lookups (the resolve
 * callback, the global scope), weak coalescing, thread-local variables, __DATA_CONST made
 * read-only, publication — but no initializer (__mod_init_func, __init_offsets). Then, on a
 * loaded image:
 *   every export of the trie looked up by its raw name ("\1_F") and by its C name ("F"), with
 *   plugin_lookup_version ("" is plugin_lookup for Mach-O), and the external symbols of
 *   LC_SYMTAB the same way; plugin_addr_info on each answer and on every segment. A
 *   stub-and-resolver export is refused (its resolver would run) under PLUGIN_NO_RUN.
 * Oracle: as fuzz_elf.c. Seeds: the Mach-O fixtures (dylibs, bundles, universal files of both
 * CPUs) and fuzz/seed_macho.c linked both fixup styles.
 */
#include "fuzz_open.h"
#include "macho/macho.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_LOOKUPS = 64 };

struct walk {
    plugin *p;
    unsigned n;
};

/* One raw Mach-O name, as plugin_lookup spells it both ways. */
static void lookup_raw(plugin *p, const char *raw)
{
    char spelled[1100];
    if (snprintf(spelled, sizeof spelled, "\1%s", raw) < (int)sizeof spelled)
        fuzz_lookup(p, spelled, "");
    if (raw[0] == '_' && raw[1])
        fuzz_lookup(p, raw + 1, NULL);
}

static int visit_export(void *ctx, const char *name, const struct macho_export *e)
{
    struct walk *w = ctx;
    (void)e;
    lookup_raw(w->p, name);
    return ++w->n >= MAX_LOOKUPS;
}

static void macho_lookups(plugin *p)
{
    const struct image *im = (const struct image *)p;
    if (im->fmt != &macho_format)
        return;
    const struct macho *m = macho_of(im);
    struct walk w = { p, 0 };
    if (m->trie)
        macho_trie_walk(m->trie, m->trie_size, visit_export, &w);
    const char *name;
    uint64_t value;
    for (uint32_t i = 0, n = 0; i < m->nsyms && n < MAX_LOOKUPS; i++)
        if (macho_symbol(im, i, &name, &value))
            lookup_raw(p, name), n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plugin *p = fuzz_open(data, size);
    if (!p)
        return 0;
    macho_lookups(p);
    fuzz_addr_info(p);
    return 0;
}
