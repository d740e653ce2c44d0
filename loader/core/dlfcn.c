/*
 * dlfcn.c — dlopen, dlsym, dlvsym, dlclose, dlerror and dladdr with <dlfcn.h>'s semantics, on top
 * of plugin_open (include/plugin_dlfcn.h documents them; this comment says how they are built).
 *
 *   plugin_dlopen   a path: plugin_open. A name: api.c's load_searched, which asks the caller's
 *                   front end to search as for the caller's DT_NEEDED (ELF: elf/elf_deps.c, the
 *                   one implementation of ld.so's search). The caller is the object holding the
 *                   return address of plugin_dlopen (ours, or the system loader's).
 *   RTLD_GLOBAL     the object's tree joins `globals`, an array in load order that the scope
 *                   walk of every later binding searches after the global scope (core/resolve.c
 *                   asks dlfcn_global_scope), as glibc appends such objects to its main scope.
 *   counts          `handles` records each handle plugin_dlopen returned and how many times;
 *                   plugin_dlclose only counts down (objects are never unmapped, as in musl).
 *   plugin_dlsym    walks a list of objects (the handle's local scope, or global scope + globals)
 *                   and asks each with plugin_lookup / plugin_lookup_version, which already
 *                   know TLS, IFUNCs, unique symbols and versions.
 *   plugin_dlerror  one message per thread (_Thread_local), handed out once.
 * The tables and every walk that uses image.visit (deps_tree) are touched with the load lock
 * held (api.c), which binding holds too: a load in progress sees a stable `globals`.
 */
#include "core/format.h"
#include "plugin_dlfcn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- dlerror: this thread's last message --------------------------------------------------- */

static _Thread_local struct {
    bool pending;           /* an error since the last plugin_dlerror */
    char message[sizeof ((plugin_error *)0)->message];
} dl_error;

static void set_error(const plugin_error *e)
{
    snprintf(dl_error.message, sizeof dl_error.message, "%s", e->message[0] ? e->message : "plugin: error");
    dl_error.pending = true;
}

/* An error of this layer itself, in the library's words ("plugin: what: why"); returns NULL. */
static __attribute__((format(printf, 1, 2))) void *fail(const char *fmt, ...)
{
    plugin_error e = { PLUGIN_ERR_UNSUPPORTED, "plugin: " };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message + 8, sizeof e.message - 8, fmt, ap);
    va_end(ap);
    set_error(&e);
    return NULL;
}

PLUGIN_API char *plugin_dlerror(void)
{
    if (!dl_error.pending)
        return NULL;
    dl_error.pending = false;
    return dl_error.message;
}

/* ---- the tables: handles and their counts, the RTLD_GLOBAL objects ------------------------- */

struct handle {
    struct image *im;
    unsigned long count;    /* plugin_dlopen calls minus plugin_dlclose calls */
};
static struct handle *handles;
static size_t nhandles, handles_cap;
static struct image **globals;
static size_t nglobals, globals_cap;

struct image **dlfcn_global_scope(size_t *n)
{
    *n = nglobals;
    return globals;
}

static struct handle *handle_of(const void *h)
{
    for (size_t i = 0; i < nhandles; i++)
        if (handles[i].im == h)
            return &handles[i];
    return NULL;
}

/* Grow an array of elem-sized entries to hold one more; false when out of memory. */
static bool reserve(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *g = realloc(*arr, ncap * elem);
    if (!g)
        return false;
    *arr = g;
    *cap = ncap;
    return true;
}

static bool count_open(struct image *im)
{
    struct handle *h = handle_of(im);
    if (h)
        return ++h->count, true;
    if (!reserve((void **)&handles, &handles_cap, nhandles, sizeof *handles))
        return false;
    handles[nhandles++] = (struct handle){ im, 1 };
    return true;
}

static bool in_list(struct image *const *list, size_t n, const struct image *im)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == im)
            return true;
    return false;
}

/* im and its dependencies (breadth-first) join the RTLD_GLOBAL objects, each once; those in the
 * global scope already are left where they are. */
static bool make_global(struct image *im, struct diag *d)
{
    struct image **tree;
    size_t n, nh;
    if (deps_tree(im, &tree, &n, d))
        return false;
    struct image **scope = host_scope(&nh);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (in_list(globals, nglobals, tree[i]) || in_list(scope, nh, tree[i]))
            continue;
        if ((ok = reserve((void **)&globals, &globals_cap, nglobals, sizeof *globals)))
            globals[nglobals++] = tree[i];
    }
    free(tree);
    if (!ok)
        diag_fail(d, PLUGIN_ERR_NOMEM, image_name(im), "out of memory (RTLD_GLOBAL)");
    return ok;
}

/* ---- finding objects ----------------------------------------------------------------------- */

/* The program's handle: the executable's image (the first object the system loader lists). */
static struct image *program(void)
{
    size_t nh;
    struct image **hosts = host_images(&nh);
    return nh ? hosts[0] : NULL;
}

/* The object (ours first, then the system loader's) that holds addr; NULL when none. */
static struct image *image_at(uintptr_t addr)
{
    for (struct image *im = registry_first(); im; im = im->next)
        if (image_contains(im, addr))
            return im;
    size_t nh;
    struct image **hosts = host_images(&nh);
    for (size_t i = 0; i < nh; i++)
        if (hosts[i]->path && image_contains(hosts[i], addr))
            return hosts[i];
    return NULL;
}

/* h is an object of the process (ours or the system loader's): a handle dlsym may use. */
static bool known_image(const void *h)
{
    for (struct image *im = registry_first(); im; im = im->next)
        if (im == h)
            return true;
    size_t nh;
    struct image **hosts = host_images(&nh);
    return in_list(hosts, nh, h);
}

/* PLUGIN_RTLD_NOLOAD: the object file names, when the process has it; nothing is loaded. */
static struct image *already_loaded(const char *file)
{
    struct stat st;
    if (!strchr(file, '/'))
        return registry_find_name(file);
    struct image *im = file[0] == '/' ? registry_find_path(file) : NULL;
    if (!im && stat(file, &st) == 0)
        im = registry_find_id(st.st_dev, st.st_ino);
    return im;
}

/* ---- plugin_dlopen, plugin_dlclose --------------------------------------------------------- */

#define KNOWN_MODES \
    (PLUGIN_RTLD_LAZY | PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD | PLUGIN_RTLD_GLOBAL | PLUGIN_RTLD_NODELETE)

/* Load (or find) the object, under the load lock; NULL with e filled. */
static struct image *open_object(const char *file, int mode, uintptr_t ret, plugin_error *e)
{
    struct diag d;
    diag_init(&d, e, NULL);
    if (host_refresh(&d))
        return NULL;
    if (!file) {
        if (!program())
            diag_fail_raw(&d, PLUGIN_ERR_NOT_FOUND, "plugin: dlopen(NULL): the process lists no program");
        return program();
    }
    if (mode & PLUGIN_RTLD_NOLOAD) {
        struct image *im = already_loaded(file);
        if (!im)
            diag_fail(&d, PLUGIN_ERR_NOT_FOUND, file, "not loaded (RTLD_NOLOAD: nothing was loaded)");
        return im;
    }
    if (strchr(file, '/'))
        return (struct image *)plugin_open(file, e);
    struct image *caller = image_at(ret);
    if (!caller)
        caller = program();
    if (!caller) {
        diag_fail(&d, PLUGIN_ERR_DEPENDENCY, file, "no object to search from (the process lists none)");
        return NULL;
    }
    return load_searched(file, caller, &d);
}

/* plugin_dlopen's work once the caller's return address is known (the exported function below
 * must take it itself: __builtin_return_address(0) is the address its own caller returns to). */
static void *dl_open(const char *file, int mode, uintptr_t ret)
{
    plugin_error e = { PLUGIN_OK, "" };
    if (mode & ~KNOWN_MODES)
        return fail("dlopen %s: unknown mode flags %#x (known: RTLD_LAZY, RTLD_NOW, RTLD_NOLOAD, RTLD_GLOBAL, "
                    "RTLD_LOCAL, RTLD_NODELETE)", file ? file : "(NULL)", (unsigned)mode & ~(unsigned)KNOWN_MODES);
    if (!(mode & (PLUGIN_RTLD_LAZY | PLUGIN_RTLD_NOW)))
        return fail("dlopen %s: invalid mode %#x: RTLD_LAZY or RTLD_NOW is required", file ? file : "(NULL)",
                    (unsigned)mode);
    if (file && !file[0])
        file = NULL;                                /* glibc: "" names the program too */
    load_lock();
    struct image *im = open_object(file, mode, ret, &e);
    struct diag d = { .err = &e };
    if (im && im != program() && (mode & PLUGIN_RTLD_GLOBAL) && !make_global(im, &d))
        im = NULL;                                  /* loaded, but out of memory: nothing counted */
    if (im && !count_open(im)) {
        diag_fail(&d, PLUGIN_ERR_NOMEM, image_name(im), "out of memory (dlopen count)");
        im = NULL;
    }
    load_unlock();
    if (!im)
        set_error(&e);
    return im;
}

PLUGIN_API __attribute__((noinline)) void *plugin_dlopen(const char *file, int mode)
{
    return dl_open(file, mode, (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)));
}

PLUGIN_API int plugin_dlclose(void *handle)
{
    load_lock();
    struct handle *h = handle_of(handle);
    bool is_program = handle && handle == program();
    int rc = 0;
    if (!is_program && (!h || h->count == 0)) {
        if (h)
            fail("dlclose: handle of %s is already closed (its count is 0)", image_name(h->im));
        else
            fail("dlclose: %p is not a handle from dlopen", handle);
        rc = -1;
    } else if (h && h->count > 0) {
        h->count--;
    }
    load_unlock();
    return rc;
}

/* ---- plugin_dlsym, plugin_dlvsym ----------------------------------------------------------- */

/* The global scope, then the RTLD_GLOBAL objects, then the objects of extra's tree that are in
 * neither (extra may be NULL): a malloc'ed array in *out. -1 with the error filled. */
static int global_order(struct image *extra, struct image ***out, size_t *n, struct diag *d)
{
    size_t nh, nt = 0;
    struct image **scope = host_scope(&nh), **tree = NULL;
    if (extra && deps_tree(extra, &tree, &nt, d))
        return -1;
    struct image **list = malloc((nh + nglobals + nt + 1) * sizeof *list);
    if (!list) {
        free(tree);
        return diag_fail(d, PLUGIN_ERR_NOMEM, "dlsym", "out of memory");
    }
    if (nh)
        memcpy(list, scope, nh * sizeof *list);
    if (nglobals)                                   /* globals is NULL until the first one */
        memcpy(list + nh, globals, nglobals * sizeof *list);
    *n = nh + nglobals;
    for (size_t i = 0; i < nt; i++)
        if (!in_list(list, *n, tree[i]))
            list[(*n)++] = tree[i];
    free(tree);
    *out = list;
    return 0;
}

/* What dlsym on handle searches, in order: *list (malloc'ed), from index *first on; *what says
 * it for messages. -1 with the error filled (an unknown handle, RTLD_NEXT outside any object). */
static int search_order(void *handle, uintptr_t ret, struct image ***list, size_t *n, size_t *first,
                        const char **what, struct diag *d)
{
    *first = 0;
    if (handle == PLUGIN_RTLD_DEFAULT || handle == program()) {
        *what = handle ? "the program's handle: global scope and RTLD_GLOBAL objects"
                       : "RTLD_DEFAULT: global scope and RTLD_GLOBAL objects";
        return global_order(NULL, list, n, d);
    }
    if (handle == PLUGIN_RTLD_NEXT) {
        struct image *caller = image_at(ret);
        if (!caller)
            return diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: dlsym: RTLD_NEXT used in code outside any object");
        if (global_order(caller, list, n, d))
            return -1;
        while (*first < *n && (*list)[*first] != caller)
            ++*first;
        ++*first;                                   /* the objects after the caller's */
        *what = "RTLD_NEXT: the objects after the caller's";
        return 0;
    }
    if (!known_image(handle))
        return diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: dlsym: %p is not a handle of a loaded object", handle);
    *what = "the object and its dependencies";
    return deps_tree(handle, list, n, d);
}

/* The first definition of name (at version, when not NULL) in the order dlsym's handle gives. */
static void *dl_sym(void *handle, const char *name, const char *version, uintptr_t ret)
{
    plugin_error e = { PLUGIN_OK, "" };
    struct diag d = { .err = &e };
    struct image **list = NULL;
    size_t n = 0, first = 0;
    const char *what = "";
    void *addr = NULL;
    if (!name)
        return fail("dlsym: NULL symbol name");
    load_lock();
    bool ok = !host_refresh(&d) && !search_order(handle, ret, &list, &n, &first, &what, &d);
    bool found = false;
    for (size_t i = first; ok && !found && i < n; i++) {
        addr = version ? plugin_lookup_version((plugin *)list[i], name, version, &e)
                       : plugin_lookup((plugin *)list[i], name, &e);
        found = e.code == PLUGIN_OK;
        ok = found || e.code == PLUGIN_ERR_NOT_FOUND;   /* another error: that object's answer */
    }
    if (ok && !found)
        diag_fail_raw(&d, PLUGIN_ERR_NOT_FOUND, "plugin: %s: undefined symbol %s%s%s (dlsym searched %s)",
                      handle == PLUGIN_RTLD_DEFAULT || handle == PLUGIN_RTLD_NEXT ? "dlsym" : image_name(handle),
                      name, version ? "@" : "", version ? version : "", what);
    load_unlock();
    free(list);
    if (!found)
        set_error(&e);
    return found ? addr : NULL;
}

PLUGIN_API __attribute__((noinline)) void *plugin_dlsym(void *handle, const char *name)
{
    return dl_sym(handle, name, NULL, (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)));
}

PLUGIN_API __attribute__((noinline)) void *plugin_dlvsym(void *handle, const char *name, const char *version)
{
    return dl_sym(handle, name, version, (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)));
}

/* ---- plugin_dladdr ------------------------------------------------------------------------- */

PLUGIN_API int plugin_dladdr(const void *addr, plugin_dl_info *info)
{
    struct plugin_addr_info a;
    if (!plugin_addr_info(addr, &a))
        return 0;
    if (info)
        *info = (plugin_dl_info){ a.path, a.base, a.symbol, a.symbol_addr };
    return 1;
}
