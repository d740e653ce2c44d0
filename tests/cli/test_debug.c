/*
 * test_debug.c — PLUGIN_DEBUG, the loader's LD_DEBUG: `plugin load` run with it set, its stderr
 * read line by line. Every line is "<pid>:\t<text>" with the pid of the process that loaded (a
 * shell prints its pid, then execs the command, which keeps it); each category shows its own
 * events and none of the others'; help lists the categories and the load goes on.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

/* `PLUGIN_DEBUG=value plugin load file` under the shell's pid, which is stored in *pid. */
static struct run debug_load(const char *value, const char *file, long *pid)
{
    char *argv[] = { "/bin/sh", "-c", "echo $$; PLUGIN_DEBUG=\"$1\" exec \"$0\" load \"$2\"", PLUGIN_CLI,
                     (char *)value, (char *)file, NULL };
    struct run r = run_program(argv);
    char *end;
    *pid = strtol(r.out, &end, 10);
    cr_assert(*pid > 0 && *end == '\n', "the shell did not print its pid: %s", r.out);
    return r;
}

/* Every line of err is "<pid>:\t..." (the pid right-aligned, as glibc prints it) or, when
 * help_allowed, a line of PLUGIN_DEBUG=help's list. Returns the number of pid lines. */
static int check_lines(const char *err, long pid, int help_allowed)
{
    int n = 0;
    for (const char *line = err; *line;) {
        const char *nl = strchr(line, '\n');
        cr_assert_not_null(nl, "an unterminated line: %s", line);
        char *end;
        long got = strtol(line, &end, 10);
        if (end != line && end[0] == ':' && end[1] == '\t') {
            cr_expect_eq(got, pid, "line of pid %ld, not %ld: %.*s", got, pid, (int)(nl - line), line);
            n++;
        } else {
            cr_expect(help_allowed, "a line without the pid prefix: %.*s", (int)(nl - line), line);
        }
        line = nl + 1;
    }
    return n;
}

static void expect_in(const char *text, const char *needle)
{
    cr_expect(strstr(text, needle) != NULL, "\"%s\" not in:\n%s", needle, text);
}

static void expect_not_in(const char *text, const char *needle)
{
    cr_expect(strstr(text, needle) == NULL, "\"%s\" should not be in:\n%s", needle, text);
}

Test(debug_env, bindings_name_the_symbol_and_its_definer)
{
    const char *path = fixture("basic.so");
    long pid;
    struct run r = debug_load("bindings", path, &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    expect_in(r.out, "loaded ");
    cr_expect_geq(check_lines(r.err, pid, 0), 3);
    char want[4200];
    snprintf(want, sizeof want, ":\t%s: bound V to %s (0x", path, path);
    expect_in(r.err, want);
    snprintf(want, sizeof want, ":\t%s: bound __cxa_finalize to /", path);
    expect_in(r.err, want);
    expect_in(r.err, "libc.so.6 (0x");
    expect_not_in(r.err, ": mapped ");          /* files */
    expect_not_in(r.err, ": applied ");         /* reloc */
    expect_not_in(r.err, "init order");         /* init */
    expect_not_in(r.err, "calling DT_INIT");
    expect_not_in(r.out, "trace: ");            /* stdout has no trace */
}

Test(debug_env, files_show_the_search_and_the_mappings)
{
    const char *path = fixture("deps/dst_rpath.so");
    long pid;
    struct run r = debug_load("files", path, &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    cr_expect_geq(check_lines(r.err, pid, 0), 5);
    expect_in(r.err, ": loading (");
    expect_in(r.err, ": needs libdst_lib.so\n");
    expect_in(r.err, "/libdst_lib.so (DT_RPATH)\n");
    expect_in(r.err, "  libdst_lib.so resolved to /");
    expect_in(r.err, ": mapped r-x 0x");
    expect_not_in(r.err, ": bound ");
    expect_not_in(r.err, ": applied ");
    expect_not_in(r.err, "calling DT_INIT");
}

Test(debug_env, reloc_shows_the_counts_per_type)
{
    long pid;
    struct run r = debug_load("reloc", fixture("basic.so"), &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    cr_expect_geq(check_lines(r.err, pid, 0), 2);
    expect_in(r.err, ": applied ");
    expect_in(r.err, " " NATIVE_RELOC "RELATIVE\n");
    expect_in(r.err, "is now read-only");
    expect_not_in(r.err, ": bound ");
    expect_not_in(r.err, ": mapped ");
    expect_not_in(r.err, "init order");
}

Test(debug_env, init_shows_the_order_and_the_calls)
{
    const char *path = fixture("basic.so");
    long pid;
    struct run r = debug_load("init", path, &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    cr_expect_geq(check_lines(r.err, pid, 0), 2);
    char want[4200];
    snprintf(want, sizeof want, ":\tinit order 1/1: %s\n", path);
    expect_in(r.err, want);
    snprintf(want, sizeof want, ":\t%s: calling DT_INIT at 0x", path);
    expect_in(r.err, want);
    expect_not_in(r.err, ": bound ");
    expect_not_in(r.err, ": mapped ");
    expect_not_in(r.err, ": applied ");
}

/* Two categories, either separator; "all" has every category; a failure under any of them. */
Test(debug_env, categories_combine)
{
    long pid;
    struct run r = debug_load("init:bindings", fixture("basic.so"), &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    check_lines(r.err, pid, 0);
    expect_in(r.err, ": bound V to ");
    expect_in(r.err, "init order 1/1: ");
    expect_not_in(r.err, ": mapped ");

    struct run a = debug_load("all", fixture("basic.so"), &pid);
    cr_assert_eq(a.code, 0, "exit %d: %s", a.code, a.err);
    check_lines(a.err, pid, 0);
    expect_in(a.err, ": bound V to ");
    expect_in(a.err, ": mapped ");
    expect_in(a.err, ": applied ");
    expect_in(a.err, "init order 1/1: ");

    struct run f = debug_load("reloc,nonsense", fixture("deps/lonely.so"), &pid);
    cr_assert_eq(f.code, 1, "lonely.so loaded without its search path: %s", f.out);
    cr_expect_eq(check_lines(f.err, pid, 1), 1, "not one failure line:\n%s", f.err);   /* and the CLI's own */
    expect_in(f.err, ":\topen failed (dependency not found): plugin: ");
    expect_in(f.err, "\nplugin: ");
}

Test(debug_env, help_lists_the_categories_and_the_load_goes_on)
{
    long pid;
    struct run r = debug_load("help", fixture("basic.so"), &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    expect_in(r.out, "loaded ");
    cr_expect_eq(check_lines(r.err, pid, 1), 0, "help printed events too:\n%s", r.err);
    expect_in(r.err, "PLUGIN_DEBUG");
    const char *names[] = { "  files ", "  bindings ", "  reloc ", "  init ", "  all ", "  help " };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        expect_in(r.err, names[i]);
}

Test(debug_env, unset_or_empty_prints_nothing)
{
    long pid;
    struct run r = debug_load("", fixture("basic.so"), &pid);
    cr_assert_eq(r.code, 0, "exit %d: %s", r.code, r.err);
    cr_expect_str_eq(r.err, "");
}
