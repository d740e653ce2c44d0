/*
 * api.c — plugin_open / plugin_lookup, and the steps of one open.
 *
 *   registry: the file's (st_dev, st_ino) already loaded (by us or by the system loader)? return it
 *   load_object: the security policy looks at the opened file (core/policy.c), the front end
 *                that recognizes it reads and validates its headers, the core maps the
 *                segments, the front end decodes its tables (fmt->read, decode)
 *   deps_load_all: load the dependencies breadth-first (each one through load_object)
 *   bind_all: what must hold before binding (fmt->prepare: symbol versions), then every
 *             relocation or fixup now, dependencies first (fmt->bind, bind_done)
 *   vm_protect_image: RELRO read-only, icache coherent
 *   registry_add + init_run: publish, then initializers (dependencies first; none under
 *                PLUGIN_NO_RUN, which holds them back for a later open: core/init.c)
 * The core never looks inside a format: each step asks the image's front end (core/format.h).
 * Any failure before publishing undoes every step: all objects this open mapped are unmapped and
 * freed, the file descriptor is closed, nothing is registered.
 *
 * One recursive lock serializes opens (an initializer may call plugin_open). Lookups take no
 * lock: a published image is never modified again.
 */
#include "core/debug.h"
#include "core/exports.h"
#include "core/format.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One process-wide lock serializes opens. It is recursive for the thread that holds it (an
 * initializer may call plugin_open): a plain, statically initialized mutex and a count of this
 * thread's holds, so nothing is set up at run time (no pthread_once, no mutex attributes). */
static pthread_mutex_t load_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local unsigned load_depth;

void load_lock(void)
{
    if (load_depth++ == 0)
        pthread_mutex_lock(&load_mutex);
}

void load_unlock(void)
{
    if (--load_depth == 0)
        pthread_mutex_unlock(&load_mutex);
}

/* The directory of path, absolute, symlinks not resolved (glibc's $ORIGIN); NULL if unknown. */
static char *origin_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char cwd[PATH_MAX];
    size_t dirlen = slash ? (size_t)(slash - path) : 0;
    if (slash == path)
        return strdup("/");
    if (path[0] == '/')
        return strndup(path, dirlen);
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + 1 + dirlen + 1;
    char *o = malloc(n);
    if (o)
        snprintf(o, n, "%s%s%.*s", cwd, dirlen ? "/" : "", (int)dirlen, path);
    return o;
}

void image_free(struct image *im)
{
    if (!im)
        return;
    if (im->fmt && im->fmt->release)
        im->fmt->release(im);
    vm_unmap_image(im);
    exports_free(im->exports);
    free(im->segs);
    free(im->needed);
    free(im->path);
    free(im->origin);
    free(im);
}

int load_add_image(struct load *ld, struct image *im)
{
    if (ld->nimages == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 8;
        struct image **n = realloc(ld->images, cap * sizeof *n);
        if (!n)
            return diag_fail(ld->d, PLUGIN_ERR_NOMEM, im->path, "out of memory");
        ld->images = n;
        ld->cap = cap;
    }
    ld->images[ld->nimages++] = im;
    return 0;
}

/* The front end whose recognize accepts s; none: the first one, whose reader says why not. */
static const struct format *recognize(struct source *s)
{
    for (size_t i = 0; loader_formats[i]; i++)
        if (loader_formats[i]->recognize(s))
            return loader_formats[i];
    return loader_formats[0];
}

struct image *load_object(struct load *ld, struct source *s, const char *path, struct diag *d)
{
    struct image *im = calloc(1, sizeof *im);
    if (!im || !(im->path = strdup(path))) {
        free(im);
        diag_fail(d, PLUGIN_ERR_NOMEM, path, "out of memory");
        return NULL;
    }
    im->from_memory = s->mem != NULL;
    im->origin = (!im->from_memory || strchr(path, '/')) ? origin_of(path) : NULL;
    im->has_id = !im->from_memory;
    im->dev = s->dev;
    im->ino = s->ino;
    if (ld->nimages == 0)                   /* the open's own file: found by its path */
        diag_trace_ev(d, TRACE_FILES, ev_found(path, im->from_memory ? PLUGIN_VIA_MEMORY : PLUGIN_VIA_PATH, NULL),
                      "%s: loading (%llu bytes%s)", path, (unsigned long long)s->size,
                      im->from_memory ? ", from memory" : "");
    else                                    /* a dependency: deps_try_path said how it was found */
        diag_trace(d, TRACE_FILES, "%s: loading (%llu bytes)", path, (unsigned long long)s->size);
    const struct format *fmt = recognize(s);
    im->fmt = fmt;
    /* A dry run (core/plan.c) decodes the same tables from a read-only view of the file. */
    int (*place)(struct image *, struct source *, struct diag *) = ld->plan ? vm_view_image : vm_map_image;
    bool ok = !policy_trusted_file(ld, s, d) && !fmt->read(im, s, d) && !place(im, s, d) && !fmt->decode(im, d);
    if (!ok || load_add_image(ld, im)) {
        image_free(im);
        return NULL;
    }
    return im;
}

static size_t format_index(const struct format *fmt)
{
    size_t k = 0;
    while (loader_formats[k] && loader_formats[k] != fmt)
        k++;
    return k;
}

/* Prepare every image, then bind them dependencies first (later in breadth-first order), then
 * let each front end finish (IFUNC resolvers run once every image is bound). Each front end
 * keeps its own state for this open; bind_done frees it, after a failure too. */
static int bind_all(struct load *ld)
{
    void *state[FORMATS_MAX] = { NULL };
    int rc = 0;
    for (size_t i = 0; i < ld->nimages && !rc; i++)
        rc = ld->images[i]->fmt->prepare ? ld->images[i]->fmt->prepare(ld, ld->images[i]) : 0;
    for (size_t i = ld->nimages; i-- > 0 && !rc;)
        rc = ld->images[i]->fmt->bind(ld, ld->images[i], &state[format_index(ld->images[i]->fmt)]);
    for (size_t k = 0; loader_formats[k]; k++)
        if (loader_formats[k]->bind_done && loader_formats[k]->bind_done(ld, state[k], rc == 0))
            rc = -1;
    for (size_t i = 0; i < ld->nimages && !rc; i++)
        ld->images[i]->state = IMG_RELOCATED;
    return rc;
}

static int protect_all(struct load *ld)
{
    for (size_t i = 0; i < ld->nimages; i++)
        if (vm_protect_image(ld->images[i], ld->d))
            return -1;
    return 0;
}

/* Everything after the root is mapped (ld->images[0], or NULL when that failed): dependencies,
 * binding, protection, publication, initializers; on failure every image of ld is freed. */
static struct image *load_rest(struct load *ld, struct image *root, const char *path)
{
    if (!root || deps_load_all(ld) || bind_all(ld) || protect_all(ld)) {
        for (size_t i = ld->nimages; i-- > 0;)
            image_free(ld->images[i]);
        return NULL;
    }
    for (size_t i = 0; i < ld->nimages; i++)
        registry_add(ld->images[i]);
    debug_images_added(ld->images, ld->nimages);   /* debug.c: debuggers' list, plugin_addr_info */
    diag_trace(ld->d, TRACE_RELOC | TRACE_INIT, "%s: relocated and protected%s", path,
               ld->no_run ? "" : "; running initializers");
    for (size_t k = 0; loader_formats[k]; k++)     /* e.g. unwind tables to libgcc's __register_frame */
        if (loader_formats[k]->ready)
            loader_formats[k]->ready(ld);
    init_run(ld);
    return root;
}

static struct image *load_tree(struct load *ld, struct source *s, const char *path)
{
    struct image *root = load_object(ld, s, path, ld->d);
    source_close(s);                        /* the mappings keep the file; the fd is not needed */
    return load_rest(ld, root, path);
}

/* The front end that searches for caller: its own; for an object of a format that cannot search
 * (Mach-O), the search starts from the executable instead (*caller becomes it). NULL: none can. */
static const struct format *search_format(const struct image **caller)
{
    size_t nh;
    struct image **hosts = host_images(&nh);
    if (!(*caller)->fmt->search && nh)
        *caller = hosts[0];
    return (*caller)->fmt->search ? (*caller)->fmt : NULL;
}

struct image *load_searched(const char *name, const struct image *caller, struct diag *d)
{
    load_lock();
    struct image *have = NULL, *found = NULL, *root = NULL;
    if (host_refresh(d)) {
        load_unlock();
        return NULL;
    }
    if ((have = registry_find_name(name))) {
        diag_trace(d, TRACE_FILES, "%s: already loaded as %s", name, image_name(have));
        init_reopened(have, d, true);
        load_unlock();
        return have;
    }
    const struct format *fmt = search_format(&caller);
    struct load ld = { .d = d, .static_host = host_is_static(), .caller = caller };
    if (!fmt)
        diag_fail(d, PLUGIN_ERR_UNSUPPORTED, name, "no front end can search for a library by name");
    else if (fmt->search(&ld, caller, name, &found) == 1 && ld.nimages == 0) {
        root = found;                       /* the same file, already loaded under another name */
        init_reopened(root, d, true);
    } else if (found)
        root = load_rest(&ld, found, found->path);
    free(ld.images);
    free(ld.loaded_by);
    free(ld.scope);
    load_unlock();
    return root;
}

/* The option flags this version knows; any other bit is refused. */
#define KNOWN_FLAGS \
    (PLUGIN_NO_LD_LIBRARY_PATH | PLUGIN_NO_RUN | PLUGIN_TRUSTED_FILES_ONLY | PLUGIN_CONFINE_DEPS)

static bool no_run(const struct plugin_options *opts)
{
    return opts && (opts->flags & PLUGIN_NO_RUN);
}

/* Everything after the source is open: under the lock, registry first, then a full load. */
static plugin *open_locked(struct source *s, const char *path, const struct plugin_options *opts,
                           struct diag *d)
{
    if (host_refresh(d))
        return NULL;
    if (!s->mem) {
        struct image *have = registry_find_id(s->dev, s->ino);
        if (have) {
            diag_trace_ev(d, TRACE_FILES, ev_found(image_name(have), PLUGIN_VIA_LOADED, NULL),
                          "%s: already loaded as %s", path, image_name(have));
            source_close(s);
            init_reopened(have, d, !no_run(opts));
            return (plugin *)have;
        }
    }
    struct load ld = { .d = d, .opts = opts, .static_host = host_is_static(), .no_run = no_run(opts) };
    struct image *root = load_tree(&ld, s, path);
    free(ld.images);
    free(ld.loaded_by);
    free(ld.scope);
    return (plugin *)root;
}

static plugin *open_source(struct source *s, const char *path, const struct plugin_options *opts,
                           struct diag *d)
{
    if (opts && (opts->flags & ~KNOWN_FLAGS)) {
        source_close(s);
        diag_fail(d, PLUGIN_ERR_UNSUPPORTED, path, "unknown option flags 0x%x", opts->flags & ~KNOWN_FLAGS);
        return NULL;
    }
    load_lock();
    plugin *p = open_locked(s, path, opts, d);
    load_unlock();
    return p;
}

/* The fast path of a repeated open. An absolute path that an open already published under that
 * very name is that object, found without a system call (glibc matches names first too). A
 * relative name is not a name match (the current directory may have changed): one stat gives
 * the file's identity. Anything else is opened, and the opened file's identity is compared with
 * every object's (open_locked), which also catches a second name of a loaded file. */
static plugin *find_loaded(const char *path, bool run, struct diag *d)
{
    struct stat st;
    bool absolute = path[0] == '/';
    if (!absolute && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
        return NULL;
    load_lock();
    struct image *have = host_refresh(d)  ? NULL
                         : absolute        ? registry_find_path(path)
                                           : registry_find_id(st.st_dev, st.st_ino);
    if (have)
        init_reopened(have, d, run);
    load_unlock();
    if (have)
        diag_trace_ev(d, TRACE_FILES, ev_found(image_name(have), PLUGIN_VIA_LOADED, NULL),
                      "%s: already loaded as %s", path, image_name(have));
    return (plugin *)have;
}

/* Every entry point works on a private error so the loader can inspect codes even when the
 * caller passed NULL; the result is copied out at the end. A failure is the open's last event. */
static plugin *finish(plugin *p, struct diag *d, const char *path, plugin_error *mine, plugin_error *err)
{
    if (p)
        mine->code = PLUGIN_OK, mine->message[0] = '\0';
    else
        diag_trace_failure(d, path, mine);
    if (err)
        *err = *mine;
    return p;
}

PLUGIN_API plugin *plugin_open_with(const char *path, const struct plugin_options *opts, plugin_error *err)
{
    plugin_error mine = { PLUGIN_OK, "" };
    struct diag d;
    struct source s;
    diag_init(&d, &mine, opts);
    if (!path || !path[0]) {
        diag_fail_raw(&d, PLUGIN_ERR_IO, "plugin: empty path");
        return finish(NULL, &d, path, &mine, err);
    }
    plugin *have = find_loaded(path, !no_run(opts), &d);
    if (have)
        return finish(have, &d, path, &mine, err);
    if (source_open_file(&s, path, &d))
        return finish(NULL, &d, path, &mine, err);
    return finish(open_source(&s, path, opts, &d), &d, path, &mine, err);
}

PLUGIN_API plugin *plugin_open(const char *path, plugin_error *err)
{
    return plugin_open_with(path, NULL, err);
}

PLUGIN_API plugin *plugin_open_memory(const void *image, size_t size, const char *name,
                                      const struct plugin_options *opts, plugin_error *err)
{
    plugin_error mine = { PLUGIN_OK, "" };
    struct diag d;
    struct source s;
    diag_init(&d, &mine, opts);
    if (!name || !name[0])
        name = "(memory image)";
    if (!image || !size) {
        diag_fail(&d, PLUGIN_ERR_FORMAT, name, "empty memory image: too short to be an object file (0 bytes)");
        return finish(NULL, &d, name, &mine, err);
    }
    source_open_memory(&s, image, size, name);
    return finish(open_source(&s, name, opts, &d), &d, name, &mine, err);
}

/* plugin_lookup_version, and what plugin_lookup's table cannot answer: the image's front end
 * answers. The caller's error (if any) is set to success first and overwritten by a failure: no
 * private 500-byte error to clear and copy on every call. */
static void *lookup(plugin *p, const char *name, const char *version, plugin_error *err)
{
    struct diag d = { .err = err };
    const struct image *im = (const struct image *)p;
    if (err)
        err->code = PLUGIN_OK, err->message[0] = '\0';
    if (!im || !name) {
        diag_fail_raw(&d, PLUGIN_ERR_NOT_FOUND, "plugin: lookup of %s%s%s in %s", name ? "\"" : "",
                      name ? name : "a NULL name", name ? "\"" : "", im ? image_name(im) : "a NULL handle");
        return NULL;
    }
    return im->fmt->lookup(im, name, version, &d);
}

/* plugin_lookup's first call on a handle, a miss with an error to fill, a name the table marks
 * "ask", a handle without a table: built here (exports_of), then the table or the front end
 * answers. Out of line, so the fast path below stays a leaf that saves no registers. */
static __attribute__((noinline)) void *lookup_slow(plugin *p, const char *name, plugin_error *err)
{
    struct image *im = (struct image *)p;
    const struct export_table *t = im && name ? exports_of(im) : NULL;
    uintptr_t addr;
    if (t && exports_find(t, name, &addr) == EXPORT_ADDRESS) {
        if (err)
            err->code = PLUGIN_OK, err->message[0] = '\0';
        return (void *)addr;
    }
    return lookup(p, name, NULL, err);
}

/* plugin_lookup: the handle's table of exports (core/exports.h) answers. */
PLUGIN_API void *plugin_lookup(plugin *p, const char *name, plugin_error *err)
{
    const struct image *im = (const struct image *)p;
    const struct export_table *t;
    if (__builtin_expect(!im || !name || err || !(t = __atomic_load_n(&im->exports, __ATOMIC_ACQUIRE)), 0))
        return lookup_slow(p, name, err);
    uintptr_t addr;
    enum export_answer a = exports_find(t, name, &addr);
    if (__builtin_expect(a == EXPORT_ASK, 0))
        return lookup_slow(p, name, NULL);
    return a == EXPORT_ADDRESS ? (void *)addr : NULL;
}

PLUGIN_API void *plugin_lookup_version(plugin *p, const char *name, const char *version, plugin_error *err)
{
    return lookup(p, name, version, err);
}

PLUGIN_API const char *plugin_path(const plugin *p)
{
    return p ? image_name((const struct image *)p) : NULL;
}

PLUGIN_API const char *plugin_strerror(enum plugin_errc code)
{
    switch (code) {
    case PLUGIN_OK:              return "success";
    case PLUGIN_ERR_IO:          return "input/output error";
    case PLUGIN_ERR_FORMAT:      return "malformed object file";
    case PLUGIN_ERR_ARCH:        return "object for another CPU or class";
    case PLUGIN_ERR_UNSUPPORTED: return "unsupported feature";
    case PLUGIN_ERR_DEPENDENCY:  return "dependency not found";
    case PLUGIN_ERR_UNDEFINED:   return "undefined symbol";
    case PLUGIN_ERR_NOT_FOUND:   return "symbol not found";
    case PLUGIN_ERR_NOMEM:       return "out of memory";
    case PLUGIN_ERR_POLICY:      return "refused by the security policy";
    }
    return "unknown error";
}
