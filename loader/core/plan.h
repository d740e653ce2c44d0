/*
 * plan.h — a dry run of plugin_open's dependency search: where each dependency of a file would
 * come from and why, with nothing mapped and nothing run (`plugin deps`).
 *
 * The run is the loader's own: the same walk (core/deps.c), the same search of each front end
 * (elf/elf_deps.c with ldcache.c and hwcaps.c; macho/macho_load.c), the same reader and checks
 * for every candidate — only each object is read from a read-only view of its file instead of
 * being mapped (core/vm.c, vm_view_image), and a dependency that is missing or refused is noted
 * and the walk goes on, where plugin_open would stop. So the answer cannot disagree with what
 * plugin_open would do in this process (which objects the process already has matters: they
 * are reused, as plugin_open reuses them). Symbol versions are not checked, nothing is bound.
 */
#ifndef PLUGIN_CORE_PLAN_H
#define PLUGIN_CORE_PLAN_H

#include "plugin.h"

#include <stdbool.h>
#include <stddef.h>

#define PLAN_NONE ((size_t)-1)

/* How one dependency was resolved. */
enum plan_outcome {
    PLAN_FOUND,         /* found by the search (why says where), read, its own dependencies walked */
    PLAN_SAME,          /* an object this walk found before (same name or same file) */
    PLAN_IN_PROCESS,    /* the process already has it (the system loader's object, or one we loaded) */
    PLAN_PROVIDED,      /* provided by the host: the C runtime of a -static host, a Mach-O system library */
    PLAN_NOT_FOUND,     /* nowhere: tried lists every candidate that was absent */
    PLAN_ERROR,         /* a candidate was refused and plugin_open would fail: why is its error */
};

struct plan_object {
    char *path;
    char *soname;       /* DT_SONAME or LC_ID_DYLIB, or NULL */
    const char *format; /* "ELF", "Mach-O" */
    bool in_process;    /* the process already has it: not read, its dependencies are the host's */
};

struct plan_dep {
    size_t from;            /* the needing object: an index in plan->objects */
    char *name;             /* as DT_NEEDED / LC_LOAD_DYLIB names it */
    enum plan_outcome outcome;
    size_t to;              /* the object it resolves to (index in objects), or PLAN_NONE */
    char *why;              /* "DT_RUNPATH of /x/a.so", "ld.so cache", ..., or the error */
    char **tried;           /* candidate paths that were absent, in search order */
    size_t ntried;
    char **refused;         /* candidates skipped, "PATH: the loader's message" (another CPU) */
    size_t nrefused;
    const void *target;     /* during the walk: the image found (then turned into to) */
};

struct plan {
    struct plan_object *objects;    /* [0] the file; then what the walk read, breadth-first; then
                                     * the objects of the process reached */
    size_t nobjects;
    struct plan_dep *deps;          /* in the order the loader searched them */
    size_t ndeps;
};

/* The dependency tree of path as plugin_open_with(path, opts) would find it (opts may be NULL;
 * its trace callback sees the loader's steps). 0 and *out (free with plan_free); -1 and err
 * filled when path itself cannot be read (or is refused) or memory runs out. A dependency that
 * is not found or refused does not fail the run: see its outcome. */
int plan_deps(const char *path, const struct plugin_options *opts, struct plan **out, plugin_error *err);
void plan_free(struct plan *p);
/* The outcome's name, as `plugin deps --json` prints it: "found", "same", "in_process", ... */
const char *plan_outcome_name(enum plan_outcome o);

#endif /* PLUGIN_CORE_PLAN_H */
