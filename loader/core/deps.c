/*
 * deps.c — load the objects an object needs, breadth-first, and build the plugin's local scope.
 *
 * Each front end names its object's dependencies and searches for them its own way (ELF:
 * elf/elf_deps.c, ld.so's order; Mach-O: @rpath and @loader_path); what is common is here: the
 * breadth-first walk over the images of this open (which grows while it is walked), who loaded
 * whom (the RPATH chain), reuse of an object already loaded (same file, or same name), and
 * trying one candidate path. The summary of ld.so's search order that ELF uses:
 *
 * For a name without '/', in ld.so's order (see plugin.h and search_all below):
 *   an object the process already has with that soname or file name (host or ours), reused;
 *   DT_RPATH of the loading chain (only when the needing object has no DT_RUNPATH),
 *   LD_LIBRARY_PATH (unless PLUGIN_NO_LD_LIBRARY_PATH or AT_SECURE), the options' search_paths,
 *   DT_RUNPATH, the ld.so cache (ldcache.c), the system directories; under PLUGIN_CONFINE_DEPS
 *   only search_paths, and every file tried must lie beneath them (core/policy.c, rule 6).
 * $ORIGIN, $LIB and $PLATFORM, as $X or ${X}, are expanded like ld.so's dynamic string tokens
 * (in secure mode $ORIGIN only where the policy allows it, rule 7).
 * Empty and relative path elements are ignored: the current directory is never searched by
 * surprise (ld.so would search it for an empty LD_LIBRARY_PATH element; we do not). A file found
 * on the way that is for another CPU is skipped, as ld.so skips it. Objects are loaded
 * breadth-first, so the plugin's dependency tree is also its local symbol scope.
 *
 * The same walk runs dry for `plugin deps` (core/plan.c: ld->plan set): deps_try_path then notes
 * each candidate absent, refused or found, and load_object reads objects without mapping them.
 */
#include "core/format.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

/* The C runtime: in a -static host these are part of the executable, not files to load.
 * glibc's names, then musl's: a plugin built with musl-gcc -shared needs "libc.so" (musl's one
 * library, which is also its dynamic loader, ld-musl-<cpu>.so.1, and holds libm and libpthread). */
bool deps_is_c_runtime(const char *name)
{
    static const char *const names[] = {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
        "libmvec.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
        "libc.so", "ld-musl-x86_64.so.1", "ld-musl-aarch64.so.1", NULL,
    };
    for (size_t i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static struct image *new_image_named(struct load *ld, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ld->nimages; i++) {
        const struct image *im = ld->images[i];
        const char *slash = strrchr(im->path, '/');
        if ((im->soname && strcmp(im->soname, name) == 0) || (slash && strcmp(slash + 1, name) == 0))
            return ld->images[i];
    }
    return NULL;
}

static struct image *new_image_id(struct load *ld, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < ld->nimages; i++)
        if (ld->images[i]->has_id && ld->images[i]->dev == dev && ld->images[i]->ino == ino)
            return ld->images[i];
    return NULL;
}

void deps_search_begin(struct load *ld, const char *name)
{
    ld->denied[0] = '\0';
    ld->searching = name;
    plan_search_begin(ld);
}

const char *deps_denied_note(struct load *ld, char *buf, size_t size)
{
    if (!ld->denied[0])
        return "";
    snprintf(buf, size, ": %s", ld->denied);
    return buf;
}

/* A candidate that could not be looked at (EPERM from a seccomp filter, EACCES on a directory on
 * the way, ELOOP, ...) is not one that is absent: the search goes on, as ld.so's does, but the
 * first such candidate is kept for the message if nothing is found. */
int deps_try_path(struct load *ld, const char *path, enum plugin_trace_via how, const char *via,
                  struct image **out)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR && !ld->denied[0])
            snprintf(ld->denied, sizeof ld->denied, "%s: %s", path, strerror(errno));
        plan_note_tried(ld, path);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        plan_note_tried(ld, path);
        return 0;
    }
    struct image *im = new_image_id(ld, st.st_dev, st.st_ino);
    if (!im)
        im = registry_find_id(st.st_dev, st.st_ino);
    if (im) {
        *out = im;
        ld->found_via = PLUGIN_VIA_LOADED;
        diag_trace_ev(ld->d, TRACE_FILES, ev_found(image_name(im), PLUGIN_VIA_LOADED, ld->searching), "  %s is already loaded",
                      path);
        plan_note_found(ld);
        return 1;
    }
    struct source s;
    if (source_open_file(&s, path, ld->d))
        return -1;
    diag_trace_ev(ld->d, TRACE_FILES, ev_found(path, how, ld->searching), "  found %s (%s)", path, via);
    if (policy_confined_file(ld, &s, ld->d)) {         /* PLUGIN_CONFINE_DEPS (core/policy.c) */
        source_close(&s);
        return -1;
    }
    im = load_object(ld, &s, path, ld->d);
    source_close(&s);
    if (!im && ld->d->err && ld->d->err->code == PLUGIN_ERR_ARCH) {
        diag_trace(ld->d, TRACE_FILES, "  skipped %s: for another CPU", path);
        plan_note_refused(ld, path, ld->d->err->message);
        return 0;
    }
    if (!im)
        return -1;
    *out = im;
    ld->found_via = how;
    plan_note_found(ld);
    return 1;
}

struct image *deps_find_loaded(struct load *ld, const char *name)
{
    struct image *im = new_image_named(ld, name);
    return im ? im : registry_find_name(name);
}

/* Record that the images added since the last call were loaded because of image idx. */
static int note_loader(struct load *ld, size_t *noted, size_t *cap, size_t idx)
{
    if (ld->nimages > *cap) {
        size_t ncap = ld->nimages * 2;
        size_t *g = realloc(ld->loaded_by, ncap * sizeof *g);
        if (!g)
            return diag_fail(ld->d, PLUGIN_ERR_NOMEM, ld->images[idx]->path, "out of memory");
        ld->loaded_by = g;
        *cap = ncap;
    }
    for (; *noted < ld->nimages; (*noted)++)
        ld->loaded_by[*noted] = *noted == 0 ? SIZE_MAX : idx;
    return 0;
}

int deps_tree(struct image *root, struct image ***out, size_t *nout, struct diag *d)
{
    unsigned mark = registry_new_mark();
    size_t cap = 16, n = 0;
    struct image **q = malloc(cap * sizeof *q);
    if (!q)
        return diag_fail(d, PLUGIN_ERR_NOMEM, root->path, "out of memory");
    q[n++] = root;
    root->visit = mark;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < q[i]->nneeded; j++) {
            struct image *dep = q[i]->needed[j];
            if (!dep || dep->visit == mark)
                continue;
            if (n == cap) {
                struct image **g = realloc(q, (cap *= 2) * sizeof *q);
                if (!g) {
                    free(q);
                    return diag_fail(d, PLUGIN_ERR_NOMEM, root->path, "out of memory");
                }
                q = g;
            }
            dep->visit = mark;
            q[n++] = dep;
        }
    }
    *out = q;
    *nout = n;
    return 0;
}

int deps_load_all(struct load *ld)
{
    size_t noted = 0, cap = 0;
    int r = note_loader(ld, &noted, &cap, 0);
    for (size_t i = 0; !r && i < ld->nimages; i++) {    /* grows while we walk: breadth-first */
        struct image *im = ld->images[i];
        r = (im->fmt->load_deps && im->fmt->load_deps(ld, i)) || note_loader(ld, &noted, &cap, i);
    }
    return r ? -1 : deps_tree(ld->images[0], &ld->scope, &ld->nscope, ld->d);
}
