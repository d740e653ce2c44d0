/*
 * inspect_deps.c — `plugin deps FILE [--json]`: the dependency tree of FILE as plugin_open would
 * find it in this process, shown like lddtree (text) or as one JSON object.
 *
 * Nothing here searches: the loader's dry run (core/plan.c, plan_deps) runs plugin_open's own
 * search and reads each object it finds without mapping it, and this file only prints its
 * answer. The text form is a tree in depth-first order: each object's dependencies are shown
 * under it the first time it appears; a later appearance is marked "[shown above]". The JSON form
 * is the plan itself, flat: objects and dependencies by index (docs/cli-json.md).
 */
#include "inspect_deps.h"
#include "text_out.h"

#include "core/plan.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- text ---------------------------------------------------------------------------------- */

static void indent(int depth)
{
    printf("%*s", 4 * depth, "");
}

static void print_search_notes(const struct plan_dep *e, int depth)
{
    if (e->outcome == PLAN_NOT_FOUND) {
        indent(depth + 1);
        fputs("tried:", stdout);
        for (size_t i = 0; i < e->ntried; i++) {
            fputs(i ? ", " : " ", stdout);
            put_text(e->tried[i]);
        }
        puts(e->ntried ? "" : " nothing (no directory to search)");
    }
    for (size_t i = 0; i < e->nrefused; i++) {
        indent(depth + 1);
        fputs("refused: ", stdout);
        put_text(e->refused[i]);
        putchar('\n');
    }
}

/* The dependencies of object k, depth-first; shown[] marks the objects already expanded. */
static void print_tree(const struct plan *p, size_t k, int depth, bool *shown)
{
    shown[k] = true;
    for (size_t i = 0; i < p->ndeps; i++) {
        const struct plan_dep *e = &p->deps[i];
        if (e->from != k)
            continue;
        indent(depth);
        put_text(e->name);
        fputs(" => ", stdout);
        if (e->to != PLAN_NONE)
            put_text(p->objects[e->to].path);
        else
            fputs(e->outcome == PLAN_PROVIDED ? "(the host)" : e->outcome == PLAN_ERROR ? "refused" : "not found",
                  stdout);
        bool again = e->to != PLAN_NONE && shown[e->to];
        if (e->outcome != PLAN_NOT_FOUND) {         /* the why of "not found" is the same words */
            fputs(" (", stdout);
            put_text(e->why);
            putchar(')');
        }
        puts(again ? " [shown above]" : "");
        print_search_notes(e, depth);
        if (e->to != PLAN_NONE && !again)
            print_tree(p, e->to, depth + 1, shown);
    }
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void put_json_list(char **v, size_t n)
{
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(v[i]);
    }
    putchar(']');
}

static void print_json(const char *path, const struct plan *p, bool complete)
{
    fputs("{\"file\": ", stdout);
    put_json(path);
    printf(", \"complete\": %s,\n \"objects\": [", complete ? "true" : "false");
    for (size_t i = 0; i < p->nobjects; i++) {
        const struct plan_object *o = &p->objects[i];
        printf("%s\n  {\"index\": %zu, \"path\": ", i ? "," : "", i);
        put_json(o->path);
        fputs(", \"soname\": ", stdout);
        put_json(o->soname);
        printf(", \"format\": \"%s\", \"in_process\": %s}", o->format, o->in_process ? "true" : "false");
    }
    fputs("],\n \"dependencies\": [", stdout);
    for (size_t i = 0; i < p->ndeps; i++) {
        const struct plan_dep *e = &p->deps[i];
        printf("%s\n  {\"from\": %zu, \"name\": ", i ? "," : "", e->from);
        put_json(e->name);
        printf(", \"outcome\": \"%s\", \"to\": ", plan_outcome_name(e->outcome));
        if (e->to != PLAN_NONE)
            printf("%zu", e->to);
        else
            fputs("null", stdout);
        fputs(", \"path\": ", stdout);
        put_json(e->to != PLAN_NONE ? p->objects[e->to].path : NULL);
        fputs(", \"why\": ", stdout);
        put_json(e->why);
        fputs(", \"tried\": ", stdout);
        put_json_list(e->tried, e->ntried);
        fputs(", \"refused\": ", stdout);
        put_json_list(e->refused, e->nrefused);
        putchar('}');
    }
    puts("]}");
}

/* ---- the command --------------------------------------------------------------------------- */

int inspect_deps(const char *path, int json)
{
    struct plan *p;
    plugin_error err;
    if (plan_deps(path, NULL, &p, &err) != 0) {
        out_error(err.code, err.message);
        return 1;
    }
    bool complete = true;
    for (size_t i = 0; i < p->ndeps; i++)
        complete &= p->deps[i].outcome != PLAN_NOT_FOUND && p->deps[i].outcome != PLAN_ERROR;
    bool *shown = calloc(p->nobjects ? p->nobjects : 1, sizeof *shown);
    if (!shown) {
        plan_free(p);
        out_errorf(PLUGIN_ERR_NOMEM, "plugin: %s: out of memory", path);
        return 1;
    }
    if (json) {
        print_json(path, p, complete);
    } else {
        put_text(p->objects[0].path);
        printf(" (%s)\n", p->objects[0].format);
        print_tree(p, 0, 1, shown);
    }
    free(shown);
    plan_free(p);
    return complete ? 0 : 1;
}
