/*
 * plan.c — plugin_open's dependency search as a dry run (`plugin deps`; core/plan.h).
 *
 * plan_deps runs the first half of an open — load_object on the file, then deps_load_all, the
 * breadth-first walk in which each front end searches for its object's dependencies — with
 * ld->plan set. That changes three things, and only those: each object is read from a read-only
 * view of its file instead of being mapped (load_object asks vm_view_image); the search notes
 * here what it does (the candidates absent, the ones refused, the one found and through which
 * list); and a dependency that is missing or refused is recorded instead of failing the open.
 * Binding, protection, publication and initializers never happen: every image is freed at the
 * end, and nothing of the process changes.
 *
 * Why a dependency was found is told in the front end's own words: it says which list it is
 * walking, and whose (deps_searching: ld->search_list, search_owner), and in which glibc-hwcaps
 * directory (ld->search_level, search_dir); the core knows no format's lists.
 */
#include "core/plan.h"
#include "core/format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plan being built, and the state of the one search in progress. */
struct plan_run {
    struct plan pub;
    size_t cap_deps, cap_objects;
    const struct image **keys;      /* keys[i]: the image objects[i] was made from */
    char **tried, **refused;        /* of the search in progress (moved into its plan_dep) */
    size_t ntried, nrefused;
    char *found_why;                /* how the candidate that was found was reached, or NULL */
    size_t nimages_before;          /* images of the walk when the search began */
    bool nomem;
};

/* A malloc'ed printf; NULL (and the run marked out of memory) when there is none. */
static char *fmt_str(struct plan_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *fmt_str(struct plan_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    } else {
        r->nomem = true;
    }
    return s;
}

/* Append s (owned) to a list of strings; on failure s is freed and the run marked. */
static void push_str(struct plan_run *r, char ***list, size_t *n, char *s)
{
    char **g = s ? realloc(*list, (*n + 1) * sizeof *g) : NULL;
    if (!g) {
        free(s);
        r->nomem = true;
        return;
    }
    g[(*n)++] = s;
    *list = g;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Forget the notes of the search in progress. */
static void forget_search(struct plan_run *r)
{
    free_strs(r->tried, r->ntried);
    free_strs(r->refused, r->nrefused);
    free(r->found_why);
    r->tried = r->refused = NULL;
    r->ntried = r->nrefused = 0;
    r->found_why = NULL;
}

void plan_search_begin(struct load *ld)
{
    if (ld->plan) {
        forget_search(ld->plan);
        ld->plan->nimages_before = ld->nimages;
    }
}

void plan_note_tried(struct load *ld, const char *path)
{
    if (ld->plan)
        push_str(ld->plan, &ld->plan->tried, &ld->plan->ntried, fmt_str(ld->plan, "%s", path));
}

void plan_note_refused(struct load *ld, const char *path, const char *why)
{
    if (!ld->plan)
        return;
    if (!strncmp(why, "plugin: ", 8))
        why += 8;
    push_str(ld->plan, &ld->plan->refused, &ld->plan->nrefused,
             strstr(why, path) ? fmt_str(ld->plan, "%s", why) : fmt_str(ld->plan, "%s: %s", path, why));
}

/* How the candidate just found was reached, in the front end's words (deps_searching): "LIST",
 * "LIST of OWNER", inside a glibc-hwcaps directory "glibc-hwcaps/LEVEL of DIR (LIST ...)". */
void plan_note_found(struct load *ld)
{
    struct plan_run *r = ld->plan;
    if (!r)
        return;
    const char *list = ld->search_list ? ld->search_list : "search";
    char *how = ld->search_owner ? fmt_str(r, "%s of %s", list, ld->search_owner) : fmt_str(r, "%s", list);
    free(r->found_why);
    r->found_why = !how || !ld->search_level ? how
                   : fmt_str(r, "glibc-hwcaps/%s of %s (%s)", ld->search_level, ld->search_dir, how);
    if (how != r->found_why)
        free(how);
}

/* A new entry at the end of the plan's dependencies, from the search in progress. */
static struct plan_dep *new_dep(struct plan_run *r, size_t idx, const char *name, enum plan_outcome o)
{
    if (r->pub.ndeps == r->cap_deps) {
        size_t cap = r->cap_deps ? 2 * r->cap_deps : 16;
        struct plan_dep *g = realloc(r->pub.deps, cap * sizeof *g);
        if (!g) {
            r->nomem = true;
            return NULL;
        }
        r->pub.deps = g;
        r->cap_deps = cap;
    }
    struct plan_dep *e = &r->pub.deps[r->pub.ndeps];
    memset(e, 0, sizeof *e);
    e->from = idx;
    e->to = PLAN_NONE;
    e->outcome = o;
    if (!(e->name = fmt_str(r, "%s", name)))
        return NULL;
    r->pub.ndeps++;
    e->tried = r->tried, e->ntried = r->ntried;
    e->refused = r->refused, e->nrefused = r->nrefused;
    r->tried = r->refused = NULL;
    r->ntried = r->nrefused = 0;
    return e;
}

/* The index of im among the walk's images, or PLAN_NONE (an object of the process). */
static size_t walk_index(const struct load *ld, const struct image *im)
{
    for (size_t i = 0; i < ld->nimages; i++)
        if (ld->images[i] == im)
            return i;
    return PLAN_NONE;
}

void plan_note_dep(struct load *ld, size_t idx, const char *name, struct image *found, bool missing)
{
    struct plan_run *r = ld->plan;
    if (!r)
        return;
    size_t at = found ? walk_index(ld, found) : PLAN_NONE;
    enum plan_outcome o = !found ? (missing ? PLAN_NOT_FOUND : PLAN_PROVIDED)
                          : at == PLAN_NONE ? PLAN_IN_PROCESS
                          : at >= r->nimages_before ? PLAN_FOUND : PLAN_SAME;
    struct plan_dep *e = new_dep(r, idx, name, o);
    if (!e)
        return;
    e->target = found;
    if (o == PLAN_FOUND) {
        e->why = r->found_why, r->found_why = NULL;
    } else if (o == PLAN_SAME || o == PLAN_IN_PROCESS) {
        const char *what = o == PLAN_SAME ? "found before" : "already in the process";
        e->why = r->found_why ? fmt_str(r, "%s (the same file, found through %s)", what, r->found_why)
                              : fmt_str(r, "%s", what);
    } else {
        e->why = fmt_str(r, "%s", o == PLAN_PROVIDED ? "provided by the host" : "not found");
    }
    if (!e->why)
        r->nomem = true;
}

int plan_note_failure(struct load *ld, size_t idx, const char *name)
{
    struct plan_run *r = ld->plan;
    if (!r)
        return -1;
    struct plan_dep *e = new_dep(r, idx, name, PLAN_ERROR);
    const char *msg = ld->d->err && ld->d->err->message[0] ? ld->d->err->message : "refused";
    if (!strncmp(msg, "plugin: ", 8))
        msg += 8;
    if (e && !(e->why = fmt_str(r, "%s", msg)))
        r->nomem = true;
    return 0;
}

/* The index of the object made from im, or PLAN_NONE. */
static size_t object_of(const struct plan_run *r, const struct image *im)
{
    for (size_t i = 0; i < r->pub.nobjects; i++)
        if (r->keys[i] == im)
            return i;
    return PLAN_NONE;
}

/* A new object for im (path and soname copied); its index, or PLAN_NONE out of memory. */
static size_t add_object(struct plan_run *r, const struct image *im, bool in_process)
{
    if (r->pub.nobjects == r->cap_objects) {
        size_t cap = r->cap_objects ? 2 * r->cap_objects : 16;
        struct plan_object *g = realloc(r->pub.objects, cap * sizeof *g);
        if (g)
            r->pub.objects = g;
        const struct image **k = g ? realloc(r->keys, cap * sizeof *k) : NULL;
        if (!k) {
            r->nomem = true;
            return PLAN_NONE;
        }
        r->keys = k;
        r->cap_objects = cap;
    }
    struct plan_object *ob = &r->pub.objects[r->pub.nobjects];
    ob->path = fmt_str(r, "%s", image_name(im));
    ob->soname = im->soname ? fmt_str(r, "%s", im->soname) : NULL;
    ob->format = im->fmt ? im->fmt->name : "ELF";
    ob->in_process = in_process;
    r->keys[r->pub.nobjects] = im;
    return r->pub.nobjects++;
}

/* The entries of the process's own links from host (the objects it needs, which the process
 * has: elf/elf_scope.c links them), from the object at index from. */
static void add_host_links(struct plan_run *r, const struct image *host, size_t from)
{
    for (size_t j = 0; j < host->nneeded && !r->nomem; j++) {
        const struct image *dep = host->needed[j];
        if (!dep)
            continue;
        const char *slash = strrchr(image_name(dep), '/');
        const char *name = dep->soname ? dep->soname : slash ? slash + 1 : image_name(dep);
        struct plan_dep *n = new_dep(r, from, name, PLAN_IN_PROCESS);
        if (n && (n->why = fmt_str(r, "already in the process")))
            n->target = dep;
    }
}

/* Each entry's object: the walk's images are objects 0 .. nimages-1 (added first); an object of
 * the process reached is added at its first entry, and its own links to other objects of the
 * process are added then (the list grows while it is walked), so each is shown once. */
static int plan_finish(struct plan_run *r, const struct load *ld)
{
    for (size_t i = 0; i < ld->nimages && !r->nomem; i++)
        add_object(r, ld->images[i], false);
    for (size_t i = 0; i < r->pub.ndeps && !r->nomem; i++) {
        const struct image *im = r->pub.deps[i].target;
        if (!im)
            continue;
        size_t to = object_of(r, im);
        if (to == PLAN_NONE && (to = add_object(r, im, true)) != PLAN_NONE)
            add_host_links(r, im, to);
        r->pub.deps[i].to = to;             /* re-read: add_host_links may move the array */
    }
    for (size_t i = 0; i < r->pub.nobjects && !r->nomem; i++)
        r->nomem = !r->pub.objects[i].path;
    for (size_t i = 0; i < r->pub.ndeps; i++)
        r->pub.deps[i].target = NULL;           /* the images are about to be freed */
    return r->nomem ? diag_fail(ld->d, PLUGIN_ERR_NOMEM, ld->images[0]->path, "out of memory") : 0;
}

/* Under the load lock: the walk, its plan, and every image freed. */
static int plan_locked(struct plan_run *r, struct source *s, const char *path, const struct plugin_options *opts,
                       struct diag *d)
{
    if (host_refresh(d)) {
        source_close(s);
        return -1;
    }
    struct load ld = { .d = d, .opts = opts, .static_host = host_is_static(), .no_run = true, .plan = r };
    struct image *root = load_object(&ld, s, path, d);
    source_close(s);
    int rc = !root || deps_load_all(&ld) || plan_finish(r, &ld) ? -1 : 0;
    for (size_t i = ld.nimages; i-- > 0;)
        image_free(ld.images[i]);
    free(ld.images);
    free(ld.loaded_by);
    free(ld.scope);
    return rc;
}

int plan_deps(const char *path, const struct plugin_options *opts, struct plan **out, plugin_error *err)
{
    plugin_error mine = { PLUGIN_OK, "" };
    struct diag d;
    diag_init(&d, &mine, opts);
    struct source s;
    struct plan_run *r = calloc(1, sizeof *r);
    int rc = !r ? diag_fail(&d, PLUGIN_ERR_NOMEM, path, "out of memory") : source_open_file(&s, path, &d);
    if (!rc) {
        load_lock();
        rc = plan_locked(r, &s, path, opts, &d);
        load_unlock();
    }
    if (r)
        forget_search(r);
    if (rc && r) {
        plan_free(&r->pub);
        r = NULL;
    }
    *out = r ? &r->pub : NULL;
    if (err)
        *err = rc ? mine : (plugin_error){ PLUGIN_OK, "" };
    return rc ? -1 : 0;
}

void plan_free(struct plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nobjects; i++) {
        free(p->objects[i].path);
        free(p->objects[i].soname);
    }
    for (size_t i = 0; i < p->ndeps; i++) {
        free(p->deps[i].name);
        free(p->deps[i].why);
        free_strs(p->deps[i].tried, p->deps[i].ntried);
        free_strs(p->deps[i].refused, p->deps[i].nrefused);
    }
    free(p->objects);
    free(p->deps);
    struct plan_run *r = (struct plan_run *)p;  /* pub is the first member of its plan_run */
    free(r->keys);
    free(r);
}

const char *plan_outcome_name(enum plan_outcome o)
{
    switch (o) {
    case PLAN_FOUND:      return "found";
    case PLAN_SAME:       return "same";
    case PLAN_IN_PROCESS: return "in_process";
    case PLAN_PROVIDED:   return "provided";
    case PLAN_NOT_FOUND:  return "not_found";
    case PLAN_ERROR:      return "error";
    }
    return "unknown";
}
