/*
 * elf_deps.c — find the libraries an ELF object needs (DT_NEEDED), and check that each one
 * defines the symbol versions the object was linked against (DT_VERNEED).
 *
 * For a name without '/', in ld.so's order (see plugin.h and search_all below):
 *   an object the process already has with that soname or file name (host or ours), reused;
 *   DT_RPATH of the loading chain (only when the needing object has no DT_RUNPATH),
 *   LD_LIBRARY_PATH (unless PLUGIN_NO_LD_LIBRARY_PATH or AT_SECURE), the options' search_paths,
 *   DT_RUNPATH, the ld.so cache (ldcache.c), the system directories; under PLUGIN_CONFINE_DEPS
 *   only search_paths (the security policy, core/policy.c, decides all three).
 * $ORIGIN, $LIB and $PLATFORM, as $X or ${X}, are expanded like ld.so's dynamic string tokens;
 * in a set-user-ID process $ORIGIN only where the policy allows it (its rule 7).
 * In each directory of these lists, glibc-hwcaps/<level>/ is tried first for each level the CPU
 * supports, best first (glibc 2.33+; x86-64-v4 ... v2, none on aarch64), as ld.so does.
 * Empty and relative path elements are ignored: the current directory is never searched by
 * surprise (ld.so would search it for an empty LD_LIBRARY_PATH element; we do not). A file found
 * on the way that is for another CPU is skipped, as ld.so skips it. The core loads objects
 * breadth-first (core/deps.c), so the plugin's dependency tree is also its local symbol scope.
 */
#include "elf/elf.h"
#include "elf/hwcaps.h"
#include "elf/ldcache.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#define PLATFORM "x86_64"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#define PLATFORM "aarch64"
#endif

static const char *const system_dirs[] = {
    "/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL,
};

/* The value of a dynamic string token, for the object im: $ORIGIN, $LIB, $PLATFORM (glibc's
 * DSTs). NULL: unknown token, or no value (a memory image has no $ORIGIN). */
static const char *dst_value(const char *origin, const char *tok, size_t len)
{
    if (len == 6 && !strncmp(tok, "ORIGIN", 6))
        return origin;
    if (len == 3 && !strncmp(tok, "LIB", 3))
        return "lib/" MULTIARCH;                /* Debian's multiarch $LIB, as its ld.so has it */
    if (len == 8 && !strncmp(tok, "PLATFORM", 8))
        return PLATFORM;
    return NULL;
}

/* The dynamic string token at el[i] ('$'), el being len bytes: its name is el[*nb, *ne) and it
 * takes *used bytes ($NAME, ending where a name character cannot continue it, or ${NAME}).
 * false for "${" without "}". */
static bool token_at(const char *el, size_t len, size_t i, size_t *nb, size_t *ne, size_t *used)
{
    size_t b = i + 1, e;
    if (b < len && el[b] == '{') {
        b++;
        for (e = b; e < len && el[e] != '}'; e++)
            ;
        if (e == len)
            return false;
        *used = e + 1 - i;
    } else {
        for (e = b; e < len && (el[e] == '_' || (el[e] >= 'a' && el[e] <= 'z') || (el[e] >= 'A' && el[e] <= 'Z') ||
                                (el[e] >= '0' && el[e] <= '9'));
             e++)
            ;
        *used = e - i;
    }
    *nb = b;
    *ne = e;
    return true;
}

/* Where a path element comes from, for its tokens: $ORIGIN's value, and whether the element is
 * the executable's own (its RPATH), which secure mode restricts further (core/policy.c, rule 7). */
struct dst_ctx {
    const char *origin;
    bool executable;
};

/* Expand the tokens of one path element into buf; false when the element must be skipped: an
 * unknown token or one without a value (as ld.so drops such an element), a $ORIGIN the security
 * policy does not allow here (secure mode), an element that is empty or relative after expansion
 * (the current directory is never searched), or one too long. */
static bool expand_dir(const struct dst_ctx *c, const char *el, size_t len, char *buf, size_t bufsz)
{
    size_t n = 0;
    bool origin_used = false;
    for (size_t i = 0; i < len;) {
        const char *src = el + i;
        size_t m = 1, used = 1, nb, ne;
        if (el[i] == '$') {
            if (!token_at(el, len, i, &nb, &ne, &used))
                return false;
            bool origin = ne - nb == 6 && !strncmp(el + nb, "ORIGIN", 6);
            if (origin && !policy_origin(i == 0, i + used < len ? el[i + used] : '\0'))
                return false;
            origin_used |= origin;
            if (!(src = dst_value(c->origin, el + nb, ne - nb)))
                return false;
            m = strlen(src);
        }
        if (n + m >= bufsz)
            return false;
        memcpy(buf + n, src, m);
        n += m;
        i += used;
    }
    buf[n] = '\0';
    if (origin_used && c->executable && !policy_origin_path(buf, system_dirs))
        return false;
    return n > 0 && buf[0] == '/';
}

/* Try name in one directory as ld.so does (glibc 2.33+): first in dir/glibc-hwcaps/<level>/ for
 * each level this CPU supports, best first (elf/hwcaps.c), then in dir itself. One stat of
 * dir/glibc-hwcaps spares the per-level tries where there is no such directory (nearly everywhere). */
static int search_dir(struct load *ld, const char *dir, const char *name, enum plugin_trace_via how,
                      const char *via, struct image **out)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    char path[PATH_MAX], hwcaps_via[128];
    struct stat st;
    int r;
    if (h->n && (size_t)snprintf(path, sizeof path, "%s/glibc-hwcaps", dir) < sizeof path &&
        stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        ld->search_dir = dir;
        for (size_t i = 0; i < h->n; i++) {
            snprintf(hwcaps_via, sizeof hwcaps_via, "%s, glibc-hwcaps/%s", via, h->names[i]);
            ld->search_level = h->names[i];
            r = (size_t)snprintf(path, sizeof path, "%s/glibc-hwcaps/%s/%s", dir, h->names[i], name) < sizeof path
                    ? deps_try_path(ld, path, how, hwcaps_via, out) : 0;
            ld->search_level = NULL;
            if (r)
                break;
        }
        ld->search_dir = NULL;                  /* dir is the caller's buffer */
        if (r)
            return r;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return 0;
    return deps_try_path(ld, path, how, via, out);
}

/* Search a list of directories separated by any of seps; c gives $ORIGIN. */
static int search_list(struct load *ld, const struct dst_ctx *c, const char *list, const char *seps,
                       const char *name, enum plugin_trace_via how, const char *via, struct image **out)
{
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, seps);
        char dir[PATH_MAX];
        if (len && expand_dir(c, p, len, dir, sizeof dir)) {
            int r = search_dir(ld, dir, name, how, via, out);
            if (r)
                return r;
        }
        p = p[len] ? p + len + 1 : NULL;
    }
    return 0;
}

static const char *image_rpath(const struct image *im)
{
    const struct elf_object *o = elf_of(im);
    if (im->fmt != &elf_format || dyn_has(o, DT_RUNPATH) || !dyn_has(o, DT_RPATH))
        return NULL;                            /* RUNPATH present: RPATH is ignored (glibc) */
    return elf_str(o, o->dyn[DT_RPATH]);
}

/* The directory of the running executable, for $ORIGIN in its RPATH and in LD_LIBRARY_PATH. */
static const char *exe_origin(void)
{
    static char dir[PATH_MAX];
    static bool done;
    if (!done) {
        done = true;
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        dir[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        else
            dir[0] = '\0';
    }
    return dir[0] ? dir : NULL;
}

/* $ORIGIN of the object that called plugin_dlopen: ours know it; for the process's own objects
 * it is the directory of their path (the executable's: exe_origin). NULL when unknown. */
static const char *caller_origin(const struct image *caller, char *buf, size_t size)
{
    size_t nh;
    struct image **hosts = host_images(&nh);
    if (caller->origin)
        return caller->origin;
    if (nh && caller == hosts[0])
        return exe_origin();
    const char *slash = caller->path ? strrchr(caller->path, '/') : NULL;
    if (!slash || caller->path[0] != '/' || (size_t)(slash - caller->path) >= size)
        return NULL;
    size_t len = slash == caller->path ? 1 : (size_t)(slash - caller->path);
    memcpy(buf, caller->path, len);
    buf[len] = '\0';
    return buf;
}

/* LD_LIBRARY_PATH, unless the security policy says no (PLUGIN_NO_LD_LIBRARY_PATH,
 * PLUGIN_CONFINE_DEPS, or a set-user/group-ID process, where ld.so ignores it too). Read at each
 * open (glibc reads it once at startup). */
static const char *library_path(const struct load *ld)
{
    return policy_library_path(ld) ? getenv("LD_LIBRARY_PATH") : NULL;
}

/* 1. DT_RPATH of the needing object, then of the object that loaded it, and so on up to the root
 * of this open, then of the object that called plugin_dlopen (ld->caller, when the open is a
 * dlopen by name: glibc's loading chain goes on through the caller), then of the executable
 * (only when the needing object has no DT_RUNPATH; an object of the chain that has DT_RUNPATH
 * contributes no RPATH). idx is the needing object's index in ld->images, or SIZE_MAX when the
 * needing object is the caller itself (whose own loaders are not followed). */
static int search_rpaths(struct load *ld, size_t idx, const char *name, struct image **out)
{
    int r;
    for (size_t i = idx, steps = 0; i != SIZE_MAX && steps <= ld->nimages; i = ld->loaded_by[i], steps++) {
        const char *rp = image_rpath(ld->images[i]);
        struct dst_ctx c = { ld->images[i]->origin, false };
        deps_searching(ld, "DT_RPATH", ld->images[i]->path);
        if (rp && (r = search_list(ld, &c, rp, ":", name, PLUGIN_VIA_RPATH,
                               i == idx ? "DT_RPATH" : "DT_RPATH of a loading object", out)))
            return r;
    }
    size_t nh;
    struct image **hosts = host_images(&nh);
    const struct image *caller = ld->caller;
    if (caller && nh && caller != hosts[0] && caller->fmt == &elf_format) {
        const char *rp = elf_of(caller)->dynamic ? image_rpath(caller) : NULL;
        char dir[PATH_MAX];
        struct dst_ctx c = { caller_origin(caller, dir, sizeof dir), false };
        deps_searching(ld, "DT_RPATH", caller->path);
        if (rp && (r = search_list(ld, &c, rp, ":", name, PLUGIN_VIA_RPATH,
                                   idx == SIZE_MAX ? "DT_RPATH" : "DT_RPATH of the caller", out)))
            return r;
    }
    const char *exe_rp = nh && elf_of(hosts[0])->dynamic ? image_rpath(hosts[0]) : NULL;
    struct dst_ctx exe = { exe_origin(), true };
    deps_searching(ld, "DT_RPATH", "the executable");
    return exe_rp ? search_list(ld, &exe, exe_rp, ":", name, PLUGIN_VIA_RPATH, "DT_RPATH of the executable", out) : 0;
}

/* 3. the options' search_paths ($ORIGIN: the needing object's directory). */
static int search_options(struct load *ld, const char *origin, const char *name, struct image **out)
{
    const char *const *sp = ld->opts ? ld->opts->search_paths : NULL;
    struct dst_ctx c = { origin, false };
    int r;
    deps_searching(ld, "search_paths", NULL);
    for (size_t i = 0; sp && sp[i]; i++)
        if (sp[i][0] == '/' && (r = search_list(ld, &c, sp[i], ":", name, PLUGIN_VIA_SEARCH_PATHS, "search_paths", out)))
            return r;
    return 0;
}

/* ld.so's order (glibc _dl_map_object), for the object at index idx needing name:
 *   1. DT_RPATH of the loading chain (search_rpaths);
 *   2. LD_LIBRARY_PATH (':' or ';' separated; $ORIGIN there is the executable's directory);
 *   3. the options' search_paths;
 *   4. DT_RUNPATH of the needing object;
 *   5. the ld.so cache, then 6. the system directories — both skipped for an object linked with
 *      -z nodefaultlib (DF_1_NODEFLIB).
 * Under PLUGIN_CONFINE_DEPS only 3 (core/policy.c, rule 6). */
static int search_all(struct load *ld, const struct image *im, size_t idx, const char *origin, const char *name,
                      struct image **out)
{
    const struct elf_object *o = elf_of(im);           /* ELF: only its front end calls this */
    bool has_runpath = o->dynamic && dyn_has(o, DT_RUNPATH);
    int r = 0;
    if (policy_confined(ld))
        return search_options(ld, origin, name, out);
    if (!has_runpath && (r = search_rpaths(ld, idx, name, out)))
        return r;
    const char *llp = library_path(ld);
    size_t nh;
    struct image **hosts = host_images(&nh);
    bool im_is_exe = nh && im == hosts[0];             /* a dlopen by name from the executable */
    struct dst_ctx exe = { exe_origin(), true }, own = { origin, im_is_exe };
    deps_searching(ld, "LD_LIBRARY_PATH", NULL);
    if (llp && (r = search_list(ld, &exe, llp, ":;", name, PLUGIN_VIA_LD_LIBRARY_PATH, "LD_LIBRARY_PATH", out)))
        return r;
    if ((r = search_options(ld, origin, name, out)))
        return r;
    if (has_runpath) {
        const char *runpath = elf_str(o, o->dyn[DT_RUNPATH]);
        deps_searching(ld, "DT_RUNPATH", im->path);
        if (runpath && (r = search_list(ld, &own, runpath, ":", name, PLUGIN_VIA_RUNPATH, "DT_RUNPATH", out)))
            return r;
    }
    if (o->dynamic && dyn_has(o, DYN_FLAGS_1) && (o->dyn[DYN_FLAGS_1] & DF_1_NODEFLIB))
        return 0;
    const char *cached = ldcache_lookup(name);
    deps_searching(ld, "ld.so cache", NULL);
    if (cached && (r = deps_try_path(ld, cached, PLUGIN_VIA_CACHE, "ld.so cache", out)))
        return r;
    struct dst_ctx none = { NULL, false };
    deps_searching(ld, "system directory", NULL);
    for (size_t i = 0; system_dirs[i]; i++)
        if ((r = search_list(ld, &none, system_dirs[i], ":", name, PLUGIN_VIA_SYSTEM_DIR, "system directory", out)))
            return r;
    return 0;
}

/* What a failed search says: the places searched, and a candidate that could not be looked at. */
static int not_found(struct load *ld, const char *who, const char *what, const char *name)
{
    char note[300];
    if (policy_confined(ld))
        return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, who,
                         "%s %s not found (searched search_paths only: PLUGIN_CONFINE_DEPS)", what, name);
    return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, who,
                     "%s %s not found (searched RPATH, LD_LIBRARY_PATH, search_paths, RUNPATH, "
                     "the ld.so cache, system directories%s)%s",
                     what, name, policy_secure() ? "; set-user-ID process: no LD_LIBRARY_PATH, $ORIGIN restricted" : "",
                     deps_denied_note(ld, note, sizeof note));
}

/* plugin_dlopen of a name without '/' (format.h's search): the search a DT_NEEDED entry of the
 * caller would get, the object found becoming this open's root (or an object already loaded
 * under another name of the same file). The caller's loaders are not followed (only the caller's
 * own RPATH, then the executable's). */
int elf_search_name(struct load *ld, const struct image *caller, const char *name, struct image **out)
{
    char dir[PATH_MAX];
    *out = NULL;
    deps_search_begin(ld, name);
    diag_trace(ld->d, TRACE_FILES, "%s: dlopen of %s", image_name(caller), name);
    int r = search_all(ld, caller, SIZE_MAX, caller_origin(caller, dir, sizeof dir), name, out);
    if (r < 0)
        return -1;
    if (r == 0)
        return not_found(ld, name, "library", name);
    diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(image_name(caller), name, image_name(*out), ld->found_via),
                  "  %s resolved to %s (%s)", name, image_name(*out), plugin_trace_via_name(ld->found_via));
    return 0;
}

/* The dependency name of images[idx], searched for (a path, or search_all): 0 with *out set, or
 * -1 with the error that says where it was looked for. */
static int search_needed(struct load *ld, size_t idx, const char *name, struct image **out)
{
    struct image *im = ld->images[idx];
    char note[300];
    if (strchr(name, '/')) {
        if (name[0] != '/' && !policy_relative_needed())
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path,
                             "needed library %s not found (a relative path is not opened from the current directory "
                             "in a set-user-ID process)", name);
        deps_searching(ld, "path", NULL);
        int r = deps_try_path(ld, name, PLUGIN_VIA_PATH, "DT_NEEDED path", out);
        if (r < 0)
            return plan_note_failure(ld, idx, name);
        if (ld->plan) {                         /* a dry run notes the outcome and goes on */
            plan_note_dep(ld, idx, name, *out, r == 0);
            return 0;
        }
        return r == 1 ? 0
               : diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "needed library %s not found%s", name,
                           deps_denied_note(ld, note, sizeof note));
    }
    int r = search_all(ld, im, idx, im->origin, name, out);
    if (r < 0)
        return plan_note_failure(ld, idx, name);
    if (ld->plan) {
        plan_note_dep(ld, idx, name, *out, r == 0);
        return 0;
    }
    return r == 0 ? not_found(ld, im->path, "needed library", name) : 0;
}

/* One DT_NEEDED name of images[idx]: provided by a -static host, already in the process (by
 * name), or searched for. Each way ends with the dependency event that says which (and, in a
 * dry run, with the plan's note). */
static int find_needed(struct load *ld, size_t idx, const char *name, struct image **out)
{
    struct image *im = ld->images[idx];
    *out = NULL;
    deps_search_begin(ld, name);
    if (ld->static_host && deps_is_c_runtime(name)) {
        diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(im->path, name, NULL, PLUGIN_VIA_HOST),
                      "%s: needs %s: provided by the (static) host", im->path, name);
        plan_note_dep(ld, idx, name, NULL, false);
        return 0;
    }
    diag_trace(ld->d, TRACE_FILES, "%s: needs %s", im->path, name);
    if (!strchr(name, '/') && (*out = deps_find_loaded(ld, name))) {
        diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(im->path, name, image_name(*out), PLUGIN_VIA_LOADED),
                      "  %s is already in the process: %s", name, image_name(*out));
        plan_note_dep(ld, idx, name, *out, false);
        return 0;
    }
    if (search_needed(ld, idx, name, out))
        return -1;
    if (!*out)
        return 0;                               /* a dry run's missing dependency (noted) */
    diag_trace_ev(ld->d, TRACE_FILES, ev_dependency(im->path, name, image_name(*out), ld->found_via),
                  "  %s resolved to %s (%s)", name, image_name(*out), plugin_trace_via_name(ld->found_via));
    return 0;
}

int elf_load_deps(struct load *ld, size_t idx)
{
    struct image *im = ld->images[idx];
    const struct elf_object *o = elf_of(im);
    size_t n = 0;
    for (size_t i = 0; i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++)
        n += o->dynamic[i].d_tag == DT_NEEDED;
    if (!n)
        return 0;
    if (!(im->needed = calloc(n, sizeof *im->needed)))
        return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
    for (size_t i = 0; i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++) {
        if (o->dynamic[i].d_tag != DT_NEEDED)
            continue;
        const char *name = elf_str(o, o->dynamic[i].d_un.d_val);
        if (!name || !name[0])
            return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "DT_NEEDED entry %zu has a bad name offset", i);
        if (find_needed(ld, idx, name, &im->needed[im->nneeded]))
            return -1;
        im->nneeded++;
    }
    return 0;
}

/*
 * Versions, as glibc's _dl_check_map_versions checks them, for every object this open loaded:
 * each DT_VERNEED entry names a file (vn_file) and versions it must define.
 *   - The file is found among the object's dependencies, else among the objects of this open and
 *     of the process (by soname or file name); none: PLUGIN_ERR_DEPENDENCY ("missing soname in
 *     version dependency"), except for the C runtime in a -static host, which provides it.
 *   - A file without DT_VERDEF defines no versions and satisfies every requirement (glibc only
 *     warns, "no version information available").
 *   - Otherwise each required version must be one of its DT_VERDEF names — the base version
 *     (VER_FLG_BASE, the soname) included — unless the requirement has VER_FLG_WEAK, which makes
 *     a missing version harmless (the symbols of that version then stay unresolved, and only
 *     weak references to them may load).
 * Both tables were bounds-checked when the objects were decoded; the walks here take the same
 * steps and check again.
 */
static bool defines_version(const struct image *dep, const char *name)
{
    uint64_t va = elf_of(dep)->dyn[DYN_VERDEF], n = elf_of(dep)->dyn[DYN_VERDEFNUM];
    for (uint64_t k = 0; k < n && k < 65536; k++) {
        if (!image_table_ok(dep, va, sizeof(Elf64_Verdef), 4))
            return false;
        const Elf64_Verdef *vd = image_addr(dep, va);
        if (!image_table_ok(dep, va + vd->vd_aux, sizeof(Elf64_Verdaux), 4))
            return false;
        const Elf64_Verdaux *aux = image_addr(dep, va + vd->vd_aux);
        const char *have = elf_str(elf_of(dep), aux->vda_name);
        if (have && strcmp(have, name) == 0)
            return true;
        if (!vd->vd_next)
            break;
        va += vd->vd_next;
    }
    return false;
}

/* The object a DT_VERNEED entry refers to, or NULL. */
static const struct image *version_provider(struct load *ld, const struct image *im, const char *file)
{
    for (size_t j = 0; j < im->nneeded; j++)
        if (im->needed[j] && image_is_named(im->needed[j], file))
            return im->needed[j];
    for (size_t j = 0; j < ld->nimages; j++)
        if (image_is_named(ld->images[j], file))
            return ld->images[j];
    return registry_find_name(file);
}

int elf_check_versions(struct load *ld, struct image *im)
{
    struct elf_object *o = elf_of(im);
    if (im->fmt != &elf_format || !dyn_has(o, DYN_VERNEED))
        return 0;                               /* Mach-O has no symbol versions */
    uint64_t va = o->dyn[DYN_VERNEED], n = o->dyn[DYN_VERNEEDNUM];
    for (uint64_t k = 0; k < n && k < 65536; k++) {
        const Elf64_Verneed *vn = image_addr(im, va);
        const char *file = image_table_ok(im, va, sizeof *vn, 4) ? elf_str(o, vn->vn_file) : NULL;
        if (!file)
            return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "DT_VERNEED entry %llu is malformed",
                             (unsigned long long)k);
        const struct image *dep = version_provider(ld, im, file);
        if (!dep && !(ld->static_host && deps_is_c_runtime(file)))
            return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path,
                             "missing soname %s in version dependency (DT_VERNEED names a library not loaded)", file);
        bool check = dep && dep->fmt == &elf_format && dyn_has(elf_of(dep), DYN_VERDEF);
        if (dep && !check)
            diag_trace(ld->d, TRACE_FILES, "%s: %s has no version information: versions it should define are not checked",
                       im->path, image_name(dep));
        uint64_t ava = va + vn->vn_aux;
        for (uint32_t j = 0; check && j < vn->vn_cnt; j++) {
            const Elf64_Vernaux *a = image_addr(im, ava);
            const char *v = image_table_ok(im, ava, sizeof *a, 4) ? elf_str(o, a->vna_name) : NULL;
            if (!v)
                return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "DT_VERNEED entry %llu aux %u is malformed",
                                 (unsigned long long)k, j);
            if (!defines_version(dep, v)) {
                if (!(a->vna_flags & VER_FLG_WEAK))
                    return diag_fail(ld->d, PLUGIN_ERR_DEPENDENCY, im->path, "version %s not found in %s (%s)",
                                     v, file, image_name(dep));
                diag_trace(ld->d, TRACE_FILES, "%s: weak version %s not found in %s (%s): allowed (VER_FLG_WEAK)", im->path, v,
                           file, image_name(dep));
            }
            if (!a->vna_next)
                break;
            ava += a->vna_next;
        }
        if (!vn->vn_next)
            break;
        va += vn->vn_next;
    }
    return 0;
}

