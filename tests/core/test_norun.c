/*
 * test_norun.c — PLUGIN_NO_RUN: load (map, bind, protect) without running any code of the
 * objects loaded; the initializers run at the first later open without the flag.
 *
 * Fixtures: norun/norun_plugin.so needs norun/libnorun_dep.so; both log their initializer in
 * the dependency's norun_log ('D', then 'P') and print "norun: fini ..." when finalized; the
 * plugin exports an IFUNC (norun_pick) nothing inside uses. ifunc.so has IRELATIVE relocations
 * (resolvers that must run to bind it). macho/libfix.chained.<cpu>.dylib has three constructors.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#define MACHO_CPU "x86_64"
#else
#define MACHO_CPU "arm64"
#endif

static plugin *open_no_run(const char *name, struct tracebuf *t, plugin_error *err)
{
    struct plugin_options o = { .flags = PLUGIN_NO_RUN, .trace = t ? trace_collect : NULL, .trace_ctx = t };
    return plugin_open_with(fixture(name), &o, err);
}

static plugin *open_traced(const char *name, struct tracebuf *t)
{
    struct plugin_options o = { .trace = trace_collect, .trace_ctx = t };
    plugin_error err;
    plugin *p = plugin_open_with(fixture(name), &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    return p;
}

Test(norun, initializers_wait_for_the_next_open_without_the_flag)
{
    struct tracebuf t = { 0 };
    plugin_error err;
    plugin *p = open_no_run("norun/norun_plugin.so", &t, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert(strstr(t.text, "PLUGIN_NO_RUN: not running the initializers of 2 objects"), "%s", t.text);
    cr_assert_null(strstr(t.text, "calling DT_INIT"), "an initializer ran:\n%s", t.text);
    cr_assert_eq(*(int *)must_lookup(p, "norun_inits"), 0);

    /* The dependency, opened with the flag too: the same object, still nothing run. */
    plugin *dep = open_no_run("norun/libnorun_dep.so", NULL, &err);
    cr_assert_not_null(dep, "%s", err.message);
    const char *log = must_lookup(dep, "norun_log");
    cr_assert_str_eq(log, "");

    /* A plain open of the same file: the same handle, and both initializers, dependency first. */
    struct tracebuf t2 = { 0 };
    cr_assert_eq(open_traced("norun/norun_plugin.so", &t2), p);
    cr_assert_str_eq(log, "DP");
    cr_assert(strstr(t2.text, "loaded with PLUGIN_NO_RUN; running the initializers of 2 objects now"), "%s", t2.text);
    cr_assert_eq(*(int *)must_lookup(p, "norun_inits"), 1);

    /* Once run, never again. */
    cr_assert_eq(plugin_open(fixture("norun/norun_plugin.so"), &err), p, "%s", err.message);
    cr_assert_eq(open_no_run("norun/norun_plugin.so", NULL, &err), p, "%s", err.message);
    cr_assert_str_eq(log, "DP");
}

Test(norun, a_dependency_opened_itself_runs_only_its_own)
{
    plugin_error err;
    plugin *p = open_no_run("norun/norun_plugin.so", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    plugin *dep = plugin_open(fixture("norun/libnorun_dep.so"), &err);
    cr_assert_not_null(dep, "%s", err.message);
    const char *log = must_lookup(dep, "norun_log");
    cr_assert_str_eq(log, "D", "the plugin's initializer ran with its dependency's: \"%s\"", log);
    cr_assert_eq(plugin_open(fixture("norun/norun_plugin.so"), &err), p, "%s", err.message);
    cr_assert_str_eq(log, "DP");
}

Test(norun, an_ifunc_is_not_resolved_before_the_initializers)
{
    plugin_error err;
    plugin *p = open_no_run("norun/norun_plugin.so", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "norun_pick", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert(strstr(err.message, "norun_pick") && strstr(err.message, "PLUGIN_NO_RUN"), "%s", err.message);
    cr_assert_null(plugin_lookup_version(p, "norun_pick", NULL, &err));
    cr_assert_eq(*(int *)must_lookup(p, "norun_resolver_calls"), 0, "the resolver ran");

    cr_assert_eq(plugin_open(fixture("norun/norun_plugin.so"), &err), p, "%s", err.message);
    int (*pick)(void) = (int (*)(void))must_lookup(p, "norun_pick");
    cr_assert_eq(pick(), 42);
    cr_assert_eq(*(int *)must_lookup(p, "norun_resolver_calls"), 1);
}

Test(norun, the_process_ifuncs_still_bind)
{
    plugin_error err;
    plugin *p = open_no_run("norun/norun_plugin.so", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    long (*len)(const char *) = (long (*)(const char *))must_lookup(p, "norun_len");
    cr_assert_eq(len("hello"), 5, "strlen / memcpy from libc are not bound");
}

Test(norun, a_relocation_that_needs_a_resolver_is_refused)
{
    char *before = maps_snapshot();
    int fds = count_fds();
    struct tracebuf t = { 0 };
    plugin_error err;
    cr_assert_null(open_no_run("ifunc.so", &t, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert(strstr(err.message, "ifunc.so") && strstr(err.message, "IFUNC resolver") &&
              strstr(err.message, "PLUGIN_NO_RUN") && strstr(err.message, NATIVE_RELOC), "%s", err.message);
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after, "the failed open left a mapping behind");
    cr_assert_eq(count_fds(), fds);

    /* Nothing was kept: a plain open loads it from scratch and runs its resolvers. */
    plugin *p = open_fixture("ifunc.so");
    const int *record = must_lookup(p, "ifunc_record");
    cr_assert_gt(record[0], 0, "resolve_sum never ran");
    free(before);
    free(after);
}

/* The CLI: --no-run loads, prints that nothing ran, and nothing is finalized at its exit; without
 * the flag, the finalizers run (the plugin's before its dependency's). */
Test(norun, cli_load_no_run)
{
    setenv("NORUN_SAY_FINI", "1", 1);
    char *argv[] = { PLUGIN_CLI, "load", "--trace", "--no-run", (char *)fixture("norun/norun_plugin.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "(nothing run)"), "%s", r.out);
    cr_assert(strstr(r.out, "trace: ") && strstr(r.out, "PLUGIN_NO_RUN: not running the initializers"), "%s", r.out);
    cr_assert_null(strstr(r.out, "norun: fini"), "a finalizer ran:\n%s", r.out);

    char *plain[] = { PLUGIN_CLI, "load", (char *)fixture("norun/norun_plugin.so"), NULL };
    struct run q = run_program(plain);
    cr_assert_eq(q.code, 0, "%s", q.err);
    const char *fp = strstr(q.out, "norun: fini plugin"), *fd = strstr(q.out, "norun: fini dep");
    cr_assert(fp && fd && fp < fd, "%s", q.out);

    char *bad[] = { PLUGIN_CLI, "call", "--no-run", (char *)fixture("norun/norun_plugin.so"), "norun_len", NULL };
    cr_assert_eq(run_program(bad).code, 2, "--no-run is for `load` only");
}

/* What the Mach-O fixture imports from the host. */
static int host_add(int a, int b) { return a + b; }
static int host_array[128];
static char host_far[16];

static void *macho_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    return !strcmp(name, "mh_host_add")     ? (void *)host_add
           : !strcmp(name, "mh_host_array") ? (void *)host_array
           : !strcmp(name, "mh_host_far")   ? (void *)host_far
                                            : NULL;
}

Test(norun, macho_constructors_wait_too)
{
    const char *path = fixture("macho/libfix.chained." MACHO_CPU ".dylib");
    struct plugin_options o = { .resolve = macho_resolve, .flags = PLUGIN_NO_RUN };
    plugin_error err;
    plugin *p = plugin_open_with(path, &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    int *nctors = must_lookup(p, "fix_nctors");
    cr_assert_eq(*nctors, 0, "%d constructors ran", *nctors);
    int (*call_host)(int) = (int (*)(int))must_lookup(p, "fix_call_host");
    cr_assert_eq(call_host(1), 1001, "bound through the resolve callback");
    o.flags = 0;
    cr_assert_eq(plugin_open_with(path, &o, &err), p, "%s", err.message);
    cr_assert_eq(*nctors, 3);
}
