/*
 * init.c — run initializers, and finalizers at exit, in glibc's order among our objects.
 *
 * The order is glibc 2.36's for dlopen(RTLD_NOW | RTLD_LOCAL) (elf/dl-deps.c, dl-sort-maps.c
 * with glibc.rtld.dynamic_sort=2, the default since 2.35; dl-init.c; dl-fini.c), restated here:
 *
 *   The list.  An open's objects, breadth-first from the plugin: the local scope (deps.c), which
 *   mirrors ld.so's search list. Objects of the process that the system loader mapped (host
 *   objects: libc, ...) are left out: they never need one of ours, so they cannot change where
 *   our objects land.
 *
 *   The sort (a depth-first topological sort).  Every object starts unvisited. Objects are
 *   taken from the END of the list towards the front; each unvisited one is walked depth-first:
 *   mark it, walk its edges in order, then place it at the front of what is placed so far (the
 *   result is the reverse of the order in which objects are finished: dependents before their
 *   dependencies). An object's edges are what glibc keeps in its l_initfini:
 *     - the plugin of this open: none yet (it gets its sorted list only after the sort);
 *     - an object that an earlier open loaded as its plugin, or that was loaded as a
 *       dependency and then opened itself (init_reopened sorts its tree then, as glibc's dlopen
 *       does): that sorted list;
 *     - any other object: its DT_NEEDED entries (LC_LOAD_DYLIB for Mach-O), in order.
 *   A cycle is broken where the walk closes it (an edge to a marked object is not taken). The
 *   plugin is then moved to the front (glibc's force_first), so it is initialized last even when
 *   a cycle reached it earlier. The sorted list is kept: it is the plugin's edges in later sorts.
 *
 *   Initializers.  The sorted list is walked from the back, so dependencies come first; an
 *   object already initialized (by an earlier open, or one now running its initializers, which
 *   opens this plugin) is not run again. The effect: objects of a chain from the deepest up, and
 *   of unrelated libraries in reverse breadth-first order — libbrotlienc needing libm then
 *   libbrotlicommon gets libbrotlicommon, libm, libbrotlienc.
 *
 *   Finalizers, at exit (atexit).  Every object we handed to init_run, in load order, sorted
 *   again the same way (edges as above, the plugins' lists included), and run front to back:
 *   dependents before their dependencies, the newest first among unrelated ones. Objects whose
 *   initializers never started are skipped. glibc 2.36 also follows edges it learned while
 *   binding (a symbol found in an object that is not a direct dependency: l_reldeps) in a first
 *   pass; we do not record those, so an object that takes symbols from an indirect dependency
 *   may see its finalizer order differ from glibc's among unrelated objects.
 *
 * What runs inside one object, and in which order, is its front end's (fmt->run_init: ELF
 * DT_INIT then DT_INIT_ARRAY; Mach-O its initializer sections; fmt->run_fini). Mach-O objects
 * take the same order: dependencies first as under dyld, but dyld goes depth-first from the
 * root in load-command order, so unrelated libraries may run in another order than dyld's.
 * Like glibc, initializers receive (argc, argv, envp).
 */
#include "core/format.h"

#include <stdlib.h>
#include <string.h>

extern char **environ;

static int saved_argc;
static char **saved_argv;
static struct image *fini_head;     /* every image handed to init_run, newest first */

void init_capture_args(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc > 0 && argv) {
        saved_argc = argc;
        saved_argv = argv;
    }
}

#ifdef __GLIBC__
/* glibc passes (argc, argv, envp) to the initializers of every object, this library included,
 * both in a dynamic and in a -static executable. */
__attribute__((constructor)) static void capture_args(int argc, char **argv, char **envp)
{
    init_capture_args(argc, argv, envp);
}
#endif

/* ---- the depth-first sort (glibc's _dl_sort_maps_dfs, our objects only) -------------------- */

struct sort {
    struct image **out;     /* filled from the back: out[head..] is placed */
    size_t head;
    unsigned mark;
    const struct image *root;   /* the plugin being opened: no edges yet (NULL at exit) */
};

/* im's edges, as described at the top of the file (im->initfini: the sorted list of an object
 * opened as a plugin, every object of its tree that is ours, itself first). */
static struct image *const *edges(const struct sort *s, const struct image *im, size_t *n)
{
    if (im == s->root) {
        *n = 0;
        return NULL;
    }
    *n = im->initfini ? im->ninitfini : im->nneeded;
    return im->initfini ? im->initfini : im->needed;
}

static void visit(struct sort *s, struct image *im)
{
    if (!im || im->is_host || im->visit == s->mark || s->head == 0)
        return;
    im->visit = s->mark;
    size_t n;
    struct image *const *e = edges(s, im, &n);
    for (size_t i = 0; i < n; i++)
        visit(s, e[i]);
    if (s->head > 0)                /* always, when every object reached is in the list */
        s->out[--s->head] = im;
}

/* Sort the objects of in[0..n) that are ours into out (room for all of them): dependents
 * first. Returns the index of the first placed entry of out (0 when all were placed). */
static size_t sort_dfs(struct image *const *in, size_t n, struct image **out, size_t nout,
                       const struct image *root)
{
    struct sort s = { out, nout, registry_new_mark(), root };
    for (size_t i = n; i-- > 0 && s.head > 0;)
        visit(&s, in[i]);
    return s.head;
}

/* glibc's force_first: the plugin back in the first place (a cycle may have placed it later). */
static void put_first(struct image **list, size_t n, const struct image *root)
{
    size_t i = 0;
    while (i < n && list[i] != root)
        i++;
    if (i == n || i == 0)
        return;
    struct image *r = list[i];
    memmove(&list[1], &list[0], i * sizeof *list);
    list[0] = r;
}

/* ---- initializers ------------------------------------------------------------------------- */

static void init_one(struct image *im, struct diag *d)
{
    im->state = IMG_INITIALIZING;
    __atomic_store_n(&im->run_pending, false, __ATOMIC_RELEASE);  /* lookups read it unlocked */
    if (im->fmt->run_init)
        im->fmt->run_init(im, saved_argc, saved_argv, environ, d);
    im->state = IMG_READY;
}

/* Whether init_list runs im: not initialized yet (and, with pending_only, held back by an open
 * with PLUGIN_NO_RUN: a reopen runs those, not an object whose own open is still running). */
static bool to_run(const struct image *im, bool pending_only)
{
    return im->state == IMG_RELOCATED && (!pending_only || im->run_pending);
}

/* Run the initializers of list[0..n) that have not run, from the back (dependencies first). */
static void init_list(struct image **list, size_t n, bool pending_only, struct diag *d)
{
    size_t todo = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        todo += to_run(list[i], pending_only);
    for (size_t i = n; i-- > 0;)
        if (to_run(list[i], pending_only)) {
            diag_trace(d, TRACE_INIT, "init order %zu/%zu: %s", ++k, todo, list[i]->path);
            init_one(list[i], d);
        }
}

/* Keep the plugin's sorted list for later sorts (it owns list from now on). */
static void keep_list(struct image *root, struct image **list, size_t n)
{
    root->initfini = list;
    root->ninitfini = n;
}

static void fini_one(struct image *im)
{
    if (im->fmt->run_fini)
        im->fmt->run_fini(im);
}

/* At exit: every image given to init_run, in load order, sorted again; finalizers of the
 * initialized ones front to back. Without memory for the sort: newest first. */
static void run_finalizers(void)
{
    size_t n = 0;
    for (struct image *im = fini_head; im; im = im->fini_next)
        n++;
    struct image **in = n ? calloc(2 * n, sizeof *in) : NULL;
    if (in) {
        size_t k = n;
        for (struct image *im = fini_head; im; im = im->fini_next)
            in[--k] = im;                                   /* load order */
        for (size_t i = sort_dfs(in, n, in + n, n, NULL); i < n; i++)
            if (in[n + i]->state >= IMG_INITIALIZING)
                fini_one(in[n + i]);
    } else {
        for (struct image *im = fini_head; im; im = im->fini_next)
            if (im->state >= IMG_INITIALIZING)
                fini_one(im);
    }
    free(in);
    fini_head = NULL;
}

/* The sorted list of root's tree (scope: that tree, breadth-first), root first, in *n; NULL
 * when out of memory. fresh: root is a new plugin, without edges yet; otherwise (an object
 * loaded earlier as a dependency, now opened itself) its edges are its DT_NEEDED entries. */
static struct image **sort_tree(struct image *root, struct image *const *scope, size_t nscope,
                                bool fresh, size_t *n)
{
    size_t nours = 0;
    for (size_t i = 0; i < nscope; i++)
        nours += !scope[i]->is_host;
    struct image **list = nours ? malloc(nours * sizeof *list) : NULL;
    if (!list)
        return NULL;
    size_t first = sort_dfs(scope, nscope, list, nours, fresh ? root : NULL);
    nours -= first;
    memmove(list, list + first, nours * sizeof *list);
    put_first(list, nours, root);
    *n = nours;
    return list;
}

/* PLUGIN_NO_RUN: the open's objects wait for a later open without the flag (init_reopened) or
 * for a plugin that needs them (init_run). They are on the finalizer list already, where an
 * object whose initializers never started is skipped at exit. */
static void hold_back(struct load *ld)
{
    for (size_t i = 0; i < ld->nimages; i++)
        if (ld->images[i]->state == IMG_RELOCATED)
            __atomic_store_n(&ld->images[i]->run_pending, true, __ATOMIC_RELEASE);
    diag_trace(ld->d, TRACE_INIT, "%s: PLUGIN_NO_RUN: not running the initializers of %zu objects", ld->images[0]->path,
               ld->nimages);
}

void init_run(struct load *ld)
{
    static bool registered;
    if (!registered)
        registered = atexit(run_finalizers) == 0;
    for (size_t i = 0; i < ld->nimages; i++) {      /* load order, kept newest first */
        ld->images[i]->fini_next = fini_head;
        fini_head = ld->images[i];
    }
    size_t n = 0;
    struct image **list = sort_tree(ld->images[0], ld->scope, ld->nscope, true, &n);
    if (ld->no_run) {               /* the list is kept for the open that will run them */
        if (list)
            keep_list(ld->images[0], list, n);
        hold_back(ld);
        return;
    }
    if (!list) {                    /* no memory for the sort: later objects first, still once */
        diag_trace(ld->d, TRACE_INIT, "%s: out of memory for the initializer order; reverse load order",
                   ld->images[0]->path);
        for (size_t i = ld->nimages; i-- > 0;)
            if (ld->images[i]->state == IMG_RELOCATED)
                init_one(ld->images[i], ld->d);
        return;
    }
    keep_list(ld->images[0], list, n);              /* before any initializer: one may open */
    init_list(list, n, false, ld->d);
    for (size_t i = 0; i < ld->nimages; i++)        /* not in the scope (none should be): once */
        if (ld->images[i]->state == IMG_RELOCATED)
            init_one(ld->images[i], ld->d);
}

/* A plugin opened with PLUGIN_NO_RUN, opened again without it: the objects of its sorted list
 * that still wait run now, dependencies first (the order its own open would have used). */
static void run_held_back(const struct image *root, struct diag *d)
{
    size_t waiting = 0;
    for (size_t i = 0; i < root->ninitfini; i++)
        waiting += root->initfini[i]->run_pending;
    if (!waiting)
        return;
    diag_trace(d, TRACE_INIT, "%s: loaded with PLUGIN_NO_RUN; running the initializers of %zu objects now", root->path,
               waiting);
    init_list(root->initfini, root->ninitfini, true, d);
}

/* glibc's dlopen of an object it loaded as a dependency: the object's tree is sorted now (its
 * l_initfini becomes that list), and what in it is not initialized yet (an initializer of the
 * open that loaded it is running and opens it, or an open with PLUGIN_NO_RUN loaded it) is
 * initialized. An object that already has its list runs only what PLUGIN_NO_RUN held back. The
 * process's own objects, and everything when run is false (this open has PLUGIN_NO_RUN), are
 * left alone. */
void init_reopened(struct image *im, struct diag *d, bool run)
{
    if (im->is_host || !run || im->initfini) {
        if (!im->is_host && run)
            run_held_back(im, d);
        return;
    }
    struct image **scope, **list = NULL;
    size_t nscope, n = 0;
    if (deps_tree(im, &scope, &nscope, d) == 0) {
        list = sort_tree(im, scope, nscope, false, &n);
        free(scope);
    }
    if (!list) {
        diag_trace(d, TRACE_INIT, "%s: out of memory for its initializer list; left as it was", im->path);
        return;
    }
    diag_trace(d, TRACE_INIT, "%s: opened itself for the first time: its tree sorted again", im->path);
    keep_list(im, list, n);
    init_list(list, n, false, d);
}

/* ---- what may run under PLUGIN_NO_RUN ----------------------------------------------------- */

int init_may_call_resolver(struct load *ld, const struct image *im, const struct image *def, const char *reloc,
                           uint64_t where, const char *sym)
{
    if (!ld->no_run || (def && (def->is_host || def->state >= IMG_INITIALIZING)))
        return 0;
    return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                     "%s at 0x%llx%s%s%s needs the IFUNC resolver of %s to run; PLUGIN_NO_RUN runs no code of the "
                     "objects it loads", reloc, (unsigned long long)where, sym ? " (symbol " : "", sym ? sym : "",
                     sym ? ")" : "", def ? image_name(def) : im->path);
}

int init_lookup_may_resolve(const struct image *im, const char *name, struct diag *d)
{
    if (!__atomic_load_n(&im->run_pending, __ATOMIC_ACQUIRE))
        return 0;
    return diag_fail_raw(d, PLUGIN_ERR_UNSUPPORTED, "plugin: symbol \"%s\" of plugin \"%s\" is chosen by a resolver "
                         "function, which does not run before the object's initializers (opened with PLUGIN_NO_RUN; "
                         "open it again without the flag to run them)", name, image_name(im));
}
