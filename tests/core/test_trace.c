/*
 * test_trace.c — the structured trace events of plugin_open_with (struct plugin_trace_event,
 * plugin.h): each kind's fields checked against what the file and the loaded handle say (a
 * bound variable's value is plugin_lookup's answer, DT_INIT's address is the file's plus the
 * base, the relocation counts are the file's), the search step of each found object, the
 * failure event of a failing open, and times that never go back.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_RELATIVE R_X86_64_RELATIVE
#else
#define NATIVE_RELATIVE R_AARCH64_RELATIVE
#endif

/* A copy of every event (its strings duplicated: they live only during the callback). */
struct copied {
    struct plugin_trace_event ev;
    char *object, *text, *s1, *s2, *s3;     /* the kind's strings, in its struct's order */
};
struct events {
    struct copied e[4096];
    size_t n;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void collect(void *ctx, const struct plugin_trace_event *ev)
{
    struct events *t = ctx;
    if (t->n == sizeof t->e / sizeof t->e[0])
        return;
    struct copied *c = &t->e[t->n++];
    c->ev = *ev;
    c->object = dup_or_null(ev->object);
    c->text = dup_or_null(ev->text);
    if (ev->kind == PLUGIN_TRACE_FOUND)
        c->s1 = dup_or_null(ev->found.name);
    if (ev->kind == PLUGIN_TRACE_DEPENDENCY)
        c->s1 = dup_or_null(ev->dependency.name), c->s2 = dup_or_null(ev->dependency.result);
    if (ev->kind == PLUGIN_TRACE_RELOCS)
        c->s1 = dup_or_null(ev->relocs.type);
    if (ev->kind == PLUGIN_TRACE_BIND)
        c->s1 = dup_or_null(ev->bind.symbol), c->s2 = dup_or_null(ev->bind.version),
        c->s3 = dup_or_null(ev->bind.definer);
    if (ev->kind == PLUGIN_TRACE_INIT)
        c->s1 = dup_or_null(ev->init.what);
    if (ev->kind == PLUGIN_TRACE_FAILURE)
        c->s1 = dup_or_null(ev->failure.message);
}

static struct events *new_events(void)
{
    struct events *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    return t;
}

/* Every event has a line of text (no newline) and a time no earlier than the one before. */
static void expect_well_formed(const struct events *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct copied *c = &t->e[i];
        cr_expect(c->text && c->text[0] && !strchr(c->text, '\n'), "event %zu: bad text \"%s\"", i,
                  c->text ? c->text : "(null)");
        if (i > 0)
            cr_expect_geq(c->ev.ns, t->e[i - 1].ev.ns, "event %zu (%s) is earlier than the one before", i,
                          c->text);
    }
}

/* The first event of the given kind about object (NULL: any object) whose first string is s1
 * (NULL: any), or NULL. */
static const struct copied *find(const struct events *t, enum plugin_trace_kind kind, const char *object,
                                 const char *s1)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct copied *c = &t->e[i];
        if (c->ev.kind == kind && (!object || (c->object && strcmp(c->object, object) == 0)) &&
            (!s1 || (c->s1 && strcmp(c->s1, s1) == 0)))
            return c;
    }
    return NULL;
}

Test(trace, events_of_a_load_match_the_file_and_the_handle)
{
    const char *path = fixture("basic.so");
    struct events *t = new_events();
    struct plugin_options o = { .trace = collect, .trace_ctx = t };
    plugin_error err;
    plugin *p = plugin_open_with(path, &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    expect_well_formed(t);
    cr_assert_gt(t->n, 5);

    /* Found: the file given, by its path, first. */
    cr_expect_eq(t->e[0].ev.kind, PLUGIN_TRACE_FOUND);
    cr_expect_str_eq(t->e[0].object, path);
    cr_expect_eq(t->e[0].ev.found.via, PLUGIN_VIA_PATH);
    cr_expect_null(t->e[0].s1);

    /* Segments: page-aligned, the lowest one at the object's base, one of them executable. */
    struct plugin_addr_info info;
    cr_assert(plugin_addr_info(must_lookup(p, "V"), &info));
    uintptr_t lowest = UINTPTR_MAX;
    int exec = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct plugin_trace_event *e = &t->e[i].ev;
        if (e->kind != PLUGIN_TRACE_SEGMENT)
            continue;
        cr_expect_eq(e->segment.address % (unsigned long long)sysconf(_SC_PAGESIZE), 0);
        cr_expect_gt(e->segment.size, 0);
        lowest = e->segment.address < lowest ? (uintptr_t)e->segment.address : lowest;
        exec += (e->segment.prot & PROT_EXEC) != 0;
    }
    cr_expect_eq(lowest, (uintptr_t)info.base, "lowest segment 0x%lx, base %p", (unsigned long)lowest, info.base);
    cr_expect_eq(exec, 1, "%d executable segments", exec);

    /* Bindings: V to the plugin itself at the address plugin_lookup gives; __cxa_finalize (an
     * unversioned weak reference) to libc; __gmon_start__, which nobody defines, to nothing. */
    const struct copied *v = find(t, PLUGIN_TRACE_BIND, path, "V");
    cr_assert_not_null(v, "no binding of V");
    cr_expect_str_eq(v->s3, path);
    cr_expect_eq(v->ev.bind.value, (uintptr_t)must_lookup(p, "V"));
    const struct copied *f = find(t, PLUGIN_TRACE_BIND, path, "__cxa_finalize");
    cr_assert_not_null(f, "no binding of __cxa_finalize");
    cr_expect(f->s3 && strstr(f->s3, "libc.so.6"), "__cxa_finalize bound to %s", f->s3);
    cr_expect_null(f->s2, "__cxa_finalize has version %s", f->s2);
    const struct copied *g = find(t, PLUGIN_TRACE_BIND, path, "__gmon_start__");
    cr_assert_not_null(g, "no event for the weak __gmon_start__");
    cr_expect_null(g->s3);
    cr_expect_eq(g->ev.bind.value, 0);

    /* Relocations: as many RELATIVE ones as the file has. */
    const struct copied *rel = NULL;
    for (size_t i = 0; i < t->n && !rel; i++)
        if (t->e[i].ev.kind == PLUGIN_TRACE_RELOCS && strstr(t->e[i].s1, "_RELATIVE"))
            rel = &t->e[i];
    cr_assert_not_null(rel, "no RELATIVE count");
    cr_expect(strncmp(rel->s1, NATIVE_RELOC, strlen(NATIVE_RELOC)) == 0, "type %s", rel->s1);
    cr_expect_eq((long)rel->ev.relocs.count, file_reloc_count(path, NATIVE_RELATIVE));

    /* DT_INIT: called at the file's address plus the base. */
    uint64_t init;
    cr_assert(file_dyn_tag(path, DT_INIT, &init));
    const struct copied *in = find(t, PLUGIN_TRACE_INIT, path, "DT_INIT");
    cr_assert_not_null(in, "no DT_INIT event");
    cr_expect_eq(in->ev.init.address, (uintptr_t)info.base + init);
}

/* A versioned reference: the version it needs is in the event. */
Test(trace, a_binding_carries_its_version)
{
    const char *path = fixture("libc_user.so");
    struct events *t = new_events();
    struct plugin_options o = { .trace = collect, .trace_ctx = t };
    plugin_error err;
    cr_assert_not_null(plugin_open_with(path, &o, &err), "%s", err.message);
    const struct copied *m = find(t, PLUGIN_TRACE_BIND, path, "memcpy");
    cr_assert_not_null(m, "no binding of memcpy");
    cr_expect_str_eq(m->s2, GLIBC_MEMCPY);
    /* The definer is the object that holds the address bound: libc, or a sanitizer's runtime
     * that interposes memcpy. */
    struct plugin_addr_info info;
    cr_assert(plugin_addr_info((const void *)(uintptr_t)m->ev.bind.value, &info), "memcpy bound to 0x%llx",
              m->ev.bind.value);
    cr_expect_str_eq(m->s3, info.path);
}

/* lonely.so needs liblonely_dep.so, which only search_paths leads to. */
Test(trace, dependencies_say_how_they_were_found)
{
    const char *path = fixture("deps/lonely.so");
    const char *const dirs[] = { fixture("deps/elsewhere"), NULL };
    struct events *t = new_events();
    struct plugin_options o = { .search_paths = dirs, .trace = collect, .trace_ctx = t };
    plugin_error err;
    cr_assert_not_null(plugin_open_with(path, &o, &err), "%s", err.message);
    expect_well_formed(t);

    const struct copied *d = find(t, PLUGIN_TRACE_DEPENDENCY, path, "liblonely_dep.so");
    cr_assert_not_null(d, "no dependency event for liblonely_dep.so");
    cr_expect_eq(d->ev.dependency.via, PLUGIN_VIA_SEARCH_PATHS);
    cr_assert_not_null(d->s2);
    cr_expect(strstr(d->s2, "/elsewhere/liblonely_dep.so") != NULL, "resolved to %s", d->s2);
    const struct copied *fd = find(t, PLUGIN_TRACE_FOUND, d->s2, "liblonely_dep.so");
    cr_assert_not_null(fd, "no found event for %s", d->s2);
    cr_expect_eq(fd->ev.found.via, PLUGIN_VIA_SEARCH_PATHS);
    cr_expect(fd < d, "the file was reported found after the dependency was resolved");

    const struct copied *libc = find(t, PLUGIN_TRACE_DEPENDENCY, path, "libc.so.6");
    cr_assert_not_null(libc, "no dependency event for libc.so.6");
    cr_expect_eq(libc->ev.dependency.via, PLUGIN_VIA_LOADED);
    cr_expect(libc->s2 && strstr(libc->s2, "libc.so.6"), "libc.so.6 resolved to %s", libc->s2);

    /* Opened again: found as already loaded. */
    struct events *again = new_events();
    o.trace_ctx = again;
    cr_assert_not_null(plugin_open_with(path, &o, &err), "%s", err.message);
    cr_assert_geq(again->n, 1);
    cr_expect_eq(again->e[0].ev.kind, PLUGIN_TRACE_FOUND);
    cr_expect_eq(again->e[0].ev.found.via, PLUGIN_VIA_LOADED);
}

/* The last event of a failed open is the failure, with the error the caller gets. */
Test(trace, a_failed_open_ends_with_the_failure)
{
    const char *path = fixture("deps/lonely.so");
    struct events *t = new_events();
    struct plugin_options o = { .trace = collect, .trace_ctx = t };
    plugin_error err;
    cr_assert_null(plugin_open_with(path, &o, &err), "lonely.so loaded without its search path");
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
    expect_well_formed(t);
    cr_assert_geq(t->n, 2, "only %zu events", t->n);
    const struct copied *last = &t->e[t->n - 1];
    cr_expect_eq(last->ev.kind, PLUGIN_TRACE_FAILURE);
    cr_expect_eq(last->ev.failure.code, PLUGIN_ERR_DEPENDENCY);
    cr_expect_str_eq(last->s1, err.message);
    cr_expect_str_eq(last->object, path);
    cr_expect_null(find(t, PLUGIN_TRACE_DEPENDENCY, path, "liblonely_dep.so"), "a dependency that was not found");

    struct events *none = new_events();
    o.trace_ctx = none;
    cr_assert_null(plugin_open_with("/nonexistent/trace.so", &o, &err));
    cr_assert_eq(none->n, 1, "%zu events for a file that does not exist", none->n);
    cr_expect_eq(none->e[0].ev.kind, PLUGIN_TRACE_FAILURE);
    cr_expect_eq(none->e[0].ev.failure.code, PLUGIN_ERR_IO);
}

Test(trace, a_memory_image_is_found_in_memory)
{
    size_t size;
    char *bytes = read_file(fixture("counter.so"), &size);
    struct events *t = new_events();
    struct plugin_options o = { .trace = collect, .trace_ctx = t };
    plugin_error err;
    cr_assert_not_null(plugin_open_memory(bytes, size, "counter-in-memory", &o, &err), "%s", err.message);
    free(bytes);
    cr_assert_geq(t->n, 1);
    cr_expect_eq(t->e[0].ev.kind, PLUGIN_TRACE_FOUND);
    cr_expect_eq(t->e[0].ev.found.via, PLUGIN_VIA_MEMORY);
    cr_expect_str_eq(t->e[0].object, "counter-in-memory");
    expect_well_formed(t);
}

Test(trace, names_of_kinds_and_ways)
{
    cr_expect_str_eq(plugin_trace_kind_name(PLUGIN_TRACE_BIND), "bind");
    cr_expect_str_eq(plugin_trace_kind_name(PLUGIN_TRACE_FAILURE), "failure");
    cr_expect_str_eq(plugin_trace_via_name(PLUGIN_VIA_RUNPATH), "RUNPATH");
    cr_expect_str_eq(plugin_trace_via_name(PLUGIN_VIA_CACHE), "ld.so cache");
}
