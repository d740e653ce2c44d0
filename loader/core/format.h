/*
 * format.h — what the core asks of a front end (one per object format), and of the provider of
 * the objects the system loader already has.
 *
 * The core runs the steps of an open (core/api.c) and never looks inside a format: it calls the
 * front end an image belongs to (im->fmt) through this table. Adding a format means adding a
 * folder with one of these tables and naming it in loader/formats.c; no core file changes.
 *
 * The steps, in the order the core calls them for one open:
 *   recognize   the first bytes of the source are this format's
 *   read        validate the headers and describe the object in im (segments, span, soname,
 *               im->fmt_data) before anything is mapped
 *   decode      after mapping: validate the tables that live in the mapped file data
 *   load_deps   name the dependencies of ld->images[idx] and find each one (im->needed)
 *   search      (plugin_dlopen of a name without '/', before anything else) find the object a
 *               DT_NEEDED entry of caller with that name would find, loading it as this open's
 *               root (ld->images[0]) or finding it already in the process (*out): 1, or -1 with
 *               the error filled (not found included)
 *   prepare     once every object is loaded: what must hold before any binding (versions)
 *   bind        apply relocations / fixups of one image (dependencies first); *state is the
 *               front end's own for this open, handed to bind_done after the last image
 *   bind_done   what must wait until every image is bound (IFUNC resolvers), when run is true
 *               (no image failed); frees the state either way
 *   ready       once per open, after protection, before initializers: the front end's
 *               look at the images of ld that are its own (unwind tables)
 *   run_init    the object's initializers, once
 *   run_fini    its finalizers, at exit
 * and at any time after publication:
 *   exports     the table plugin_lookup answers from (core/exports.h), built on the first lookup
 *   lookup      plugin_lookup_version, and the names the table says to ask about
 *   find        a definition of q in im, for the scope walk of another object's binding
 *   nearest     the exported symbol at or below an address (plugin_addr_info)
 *   release     free im->fmt_data and undo what the front end registered (failed open)
 * Optional entries are NULL.
 */
#ifndef PLUGIN_CORE_FORMAT_H
#define PLUGIN_CORE_FORMAT_H

#include "core/internal.h"

struct format {
    const char *name;
    uint32_t debug_kind;    /* how the debuggers' list names it (PLUGIN_DEBUG_ELF, ... core/debug.h) */
    bool (*recognize)(struct source *s);
    int (*read)(struct image *im, struct source *s, struct diag *d);
    int (*decode)(struct image *im, struct diag *d);
    int (*load_deps)(struct load *ld, size_t idx);
    int (*search)(struct load *ld, const struct image *caller, const char *name, struct image **out);
    int (*prepare)(struct load *ld, struct image *im);
    int (*bind)(struct load *ld, struct image *im, void **state);
    int (*bind_done)(struct load *ld, void *state, bool run);
    void (*ready)(struct load *ld);
    void (*run_init)(struct image *im, int argc, char **argv, char **envp, struct diag *d);
    void (*run_fini)(struct image *im);
    struct export_table *(*exports)(const struct image *im);
    void *(*lookup)(const struct image *im, const char *name, const char *version, struct diag *d);
    bool (*find)(const struct image *im, struct sym_query *q, struct resolved *out);
    bool (*nearest)(const struct image *im, uintptr_t addr, const char **name, uintptr_t *sym_addr);
    void (*release)(struct image *im);
};

/* The objects the system loader mapped (the executable, libc, ...): listed, and described as
 * images of the front end that reads them. */
struct host_provider {
    /* Bring the list up to date; -1 (with an error) when it cannot be built. */
    int (*refresh)(struct diag *d);
    /* The list in load order (valid until the next refresh): every object, known by identity. */
    struct image **(*images)(size_t *n);
    /* The global scope: the objects of the list that ld.so searches for symbols, in its order
     * (valid until the next refresh). */
    struct image **(*scope)(size_t *n);
    /* The process has no dynamic C library (a -static executable). */
    bool (*is_static)(void);
    /* For a -static executable: name in the executable's own symbol table, read at the first
     * call (load lock held) and kept; IFUNCs resolved. false: not there, or no table (the trace
     * of d says why, once). Optional (NULL: never). */
    bool (*exe_symbol)(const char *name, uint64_t *addr, struct diag *d);
    /* Why that table could not be read, once exe_symbol tried; NULL when it was read, or not
     * tried yet. Optional. */
    const char *(*exe_symbols_unavailable)(void);
    /* Whether some object of the list may define q's name: false lets the scope walk skip them
     * all at once (a filter over all their names; optional, NULL: always true). */
    bool (*may_define)(struct sym_query *q);
    /* For plugin_addr_info: the system loader's object containing addr, described into info
     * without the load lock. false: none. */
    bool (*addr_info)(uintptr_t addr, struct plugin_addr_info *info);
};

/* loader/formats.c: the front ends, tried in order (NULL-terminated; the first is also the one
 * that explains why an unrecognized file is refused), and the host provider. */
#define FORMATS_MAX 8
extern const struct format *const loader_formats[];
extern const struct host_provider *const loader_host;

#endif /* PLUGIN_CORE_FORMAT_H */
