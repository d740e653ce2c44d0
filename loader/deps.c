/*
 * deps.c — find and load the libraries an object needs (DT_NEEDED), then check that each one
 * defines the symbol versions the object was linked against (DT_VERNEED).
 *
 * For a name without '/', in order (see plugin.h):
 *   an object the process already has with that soname or file name (host or ours);
 *   DT_RPATH (only without DT_RUNPATH), the options' search_paths, DT_RUNPATH, system directories.
 * $ORIGIN / ${ORIGIN} expand to the directory of the needing object. Empty and relative path
 * elements are ignored: the current directory is never searched by surprise. A file found on the
 * way that is for another CPU is skipped, as ld.so skips it. Objects are loaded breadth-first, so
 * the plugin's dependency tree is also its local symbol scope.
 */
#include "internal.h"
#include "macho.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#endif

static const char *const system_dirs[] = {
    "/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL,
};

/* The C runtime: in a -static host these are part of the executable, not files to load. */
static bool is_c_runtime(const char *name)
{
    static const char *const names[] = {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
        "libmvec.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", NULL,
    };
    for (size_t i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static struct image *new_image_named(struct load *ld, const char *name)
{
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

int deps_try_path(struct load *ld, const char *path, const char *via, struct image **out)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    struct image *im = new_image_id(ld, st.st_dev, st.st_ino);
    if (!im)
        im = registry_find_id(st.st_dev, st.st_ino);
    if (im) {
        *out = im;
        diag_trace(ld->d, "  %s is already loaded", path);
        return 1;
    }
    struct source s;
    if (source_open_file(&s, path, ld->d))
        return -1;
    diag_trace(ld->d, "  found %s (%s)", path, via);
    im = load_object(ld, &s, path, ld->d);
    source_close(&s);
    if (!im && ld->d->err && ld->d->err->code == PLUGIN_ERR_ARCH) {
        diag_trace(ld->d, "  skipped %s: for another CPU", path);
        return 0;
    }
    if (!im)
        return -1;
    *out = im;
    return 1;
}

/* Expand $ORIGIN in one path element into buf; false when the element must be skipped. */
static bool expand_dir(const struct image *im, const char *el, size_t len, char *buf, size_t bufsz)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        const char *tok = NULL;
        size_t toklen = 0;
        if (!strncmp(el + i, "$ORIGIN", 7) && (i + 7 >= len || el[i + 7] == '/'))
            tok = im->origin, toklen = 7;
        else if (!strncmp(el + i, "${ORIGIN}", 9))
            tok = im->origin, toklen = 9;
        else if (el[i] == '$')
            return false;                       /* $LIB, $PLATFORM: not yet */
        if (toklen && !tok)
            return false;                       /* memory image without a directory */
        const char *src = toklen ? tok : el + i;
        size_t m = toklen ? strlen(tok) : 1;
        if (n + m >= bufsz)
            return false;
        memcpy(buf + n, src, m);
        n += m;
        i += toklen ? toklen : 1;
    }
    buf[n] = '\0';
    return n > 0 && buf[0] == '/';
}

/* Search a colon-separated list of directories. */
static int search_list(struct load *ld, struct image *im, const char *list, const char *name,
                       const char *via, struct image **out)
{
    for (const char *p = list; p && *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char dir[PATH_MAX], path[PATH_MAX];
        if (len && expand_dir(im, p, len, dir, sizeof dir) &&
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path) {
            int r = deps_try_path(ld, path, via, out);
            if (r)
                return r;
        }
        p = colon ? colon + 1 : NULL;
    }
    return 0;
}

static int search_all(struct load *ld, struct image *im, const char *name, struct image **out)
{
    const char *runpath = dyn_has(im, DT_RUNPATH) ? image_str(im, im->dyn[DT_RUNPATH]) : NULL;
    const char *rpath = dyn_has(im, DT_RPATH) ? image_str(im, im->dyn[DT_RPATH]) : NULL;
    int r = 0;
    if (!runpath && rpath && (r = search_list(ld, im, rpath, name, "DT_RPATH", out)))
        return r;
    const char *const *sp = ld->opts ? ld->opts->search_paths : NULL;
    for (size_t i = 0; sp && sp[i]; i++)
        if (sp[i][0] == '/' && (r = search_list(ld, im, sp[i], name, "search_paths", out)))
            return r;
    if (runpath && (r = search_list(ld, im, runpath, name, "DT_RUNPATH", out)))
        return r;
    for (size_t i = 0; system_dirs[i]; i++)
        if ((r = search_list(ld, im, system_dirs[i], name, "system directory", out)))
            return r;
    return 0;
}

static int find_needed(struct load *ld, struct image *im, const char *name, struct image **out)
{
    *out = NULL;
    if (ld->static_host && is_c_runtime(name)) {
        diag_trace(ld->d, "%s: needs %s: provided by the (static) host", im->path, name);
        return 0;
    }
    diag_trace(ld->d, "%s: needs %s", im->path, name);
    if (strchr(name, '/')) {
        int r = deps_try_path(ld, name, "DT_NEEDED path", out);
        return r == 1 ? 0 : r < 0 ? -1
               : diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "needed library %s not found", name);
    }
    if ((*out = new_image_named(ld, name)) || (*out = registry_find_name(name))) {
        diag_trace(ld->d, "  %s is already in the process: %s", name, image_name(*out));
        return 0;
    }
    int r = search_all(ld, im, name, out);
    if (r < 0)
        return -1;
    if (r == 0)
        return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path,
                         "needed library %s not found (searched RPATH/RUNPATH, search_paths, system directories)",
                         name);
    return 0;
}

static int load_needed_of(struct load *ld, struct image *im)
{
    size_t n = 0;
    for (size_t i = 0; i < im->ndynamic && im->dynamic[i].d_tag != DT_NULL; i++)
        n += im->dynamic[i].d_tag == DT_NEEDED;
    if (!n)
        return 0;
    if (!(im->needed = calloc(n, sizeof *im->needed)))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
    for (size_t i = 0; i < im->ndynamic && im->dynamic[i].d_tag != DT_NULL; i++) {
        if (im->dynamic[i].d_tag != DT_NEEDED)
            continue;
        const char *name = image_str(im, im->dynamic[i].d_un.d_val);
        if (!name || !name[0])
            return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "DT_NEEDED entry %zu has a bad name offset", i);
        if (find_needed(ld, im, name, &im->needed[im->nneeded]))
            return -1;
        im->nneeded++;
    }
    return 0;
}

/* The local scope: the root and its dependencies, breadth-first, each once. */
static int build_scope(struct load *ld)
{
    unsigned mark = registry_new_mark();
    size_t cap = 16, n = 0;
    struct image **q = malloc(cap * sizeof *q);
    if (!q)
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, ld->images[0]->path, "out of memory");
    q[n++] = ld->images[0];
    ld->images[0]->visit = mark;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < q[i]->nneeded; j++) {
            struct image *dep = q[i]->needed[j];
            if (!dep || dep->visit == mark)
                continue;
            if (n == cap) {
                struct image **g = realloc(q, (cap *= 2) * sizeof *q);
                if (!g) {
                    free(q);
                    return diag_fail(ld->d, PLUGIN_ERR_NOMEM, ld->images[0]->path, "out of memory");
                }
                q = g;
            }
            dep->visit = mark;
            q[n++] = dep;
        }
    }
    ld->scope = q;
    ld->nscope = n;
    return 0;
}

int deps_load_all(struct load *ld)
{
    for (size_t i = 0; i < ld->nimages; i++) {      /* grows while we walk: breadth-first */
        struct image *im = ld->images[i];
        if (im->macho ? macho_load_deps(ld, im) : load_needed_of(ld, im))
            return -1;
    }
    return build_scope(ld);
}

/* Does dep define version name (a DT_VERDEF entry)? Objects without versions define nothing. */
static bool defines_version(const struct image *dep, const char *name)
{
    for (uint32_t i = 0; i < dep->nversions; i++)
        if (dep->versions[i].name && !dep->versions[i].file && strcmp(dep->versions[i].name, name) == 0)
            return true;
    return false;
}

static int check_image_versions(struct load *ld, struct image *im)
{
    if (im->macho)
        return 0;                               /* Mach-O has no symbol versions */
    for (uint32_t i = 0; i < im->nversions; i++) {
        const struct version *v = &im->versions[i];
        if (!v->name || !v->file || v->weak)
            continue;
        for (size_t j = 0; j < im->nneeded; j++) {
            const struct image *dep = im->needed[j];
            if (!dep || !((dep->soname && !strcmp(dep->soname, v->file)) ||
                          (strrchr(dep->path, '/') && !strcmp(strrchr(dep->path, '/') + 1, v->file))))
                continue;
            if (dep->nversions && !defines_version(dep, v->name))
                return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "version %s not found in %s (%s)",
                                 v->name, v->file, image_name(dep));
        }
    }
    return 0;
}

int deps_check_versions(struct load *ld)
{
    for (size_t i = 0; i < ld->nimages; i++)
        if (check_image_versions(ld, ld->images[i]))
            return -1;
    return 0;
}
