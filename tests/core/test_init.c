/*
 * test_init.c — initializers (fixtures/initorder.c): DT_INIT before DT_INIT_ARRAY, array order,
 * constructor priorities, exactly once per object however it is opened, (argc, argv, envp).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char *expected_order = "Iabcde";   /* see fixtures/initorder.c */

Test(init, fixture_has_dt_init_and_init_array)
{
    const char *path = fixture("initorder.so");
    uint64_t v;
    cr_assert(file_dyn_tag(path, DT_INIT, &v), "no DT_INIT: the -init link flag was lost");
    cr_assert(file_dyn_tag(path, DT_INIT_ARRAYSZ, &v));
    cr_assert_geq(v, 5 * sizeof(void *), "DT_INIT_ARRAY too small: %llu", (unsigned long long)v);
}

Test(init, order_and_exactly_once)
{
    const char *path = fixture("initorder.so");
    plugin *p = open_fixture("initorder.so");
    const char *order = must_lookup(p, "init_order");
    int *calls = must_lookup(p, "init_calls");
    cr_assert_str_eq(order, expected_order);
    cr_assert_eq(*calls, (int)strlen(expected_order));

    /* Five more opens: absolute path, symlink (absolute), symlink (relative), relative path
     * from the fixture directory, relative path from elsewhere. */
    char *dir = make_temp_dir();
    char *link;
    cr_assert_geq(asprintf(&link, "%s/link.so", dir), 0);
    cr_assert_eq(symlink(path, link), 0);

    char *fixdir = strdup(path);
    fixdir = dirname(fixdir);
    char *rel_from_tmp;      /* ../../<FIXTURE_DIR>/initorder.so, from dir */
    cr_assert_geq(asprintf(&rel_from_tmp, "../..%s/initorder.so", fixdir), 0);

    plugin_error err;
    cr_assert_eq(plugin_open(path, &err), p, "absolute path: %s", err.message);
    cr_assert_eq(plugin_open(link, &err), p, "symlink: %s", err.message);
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(plugin_open("./link.so", &err), p, "relative symlink: %s", err.message);
    cr_assert_eq(plugin_open(rel_from_tmp, &err), p, "%s: %s", rel_from_tmp, err.message);
    cr_assert_eq(chdir(fixdir), 0);
    cr_assert_eq(plugin_open("./initorder.so", &err), p, "./initorder.so: %s", err.message);

    cr_assert_str_eq(order, expected_order, "initializers ran again");
    cr_assert_eq(*calls, (int)strlen(expected_order));

    /* A copy is another file (another inode): a new object, with its own initializers. */
    char *copy;
    cr_assert_geq(asprintf(&copy, "%s/copy.so", dir), 0);
    size_t size;
    char *bytes = read_file(path, &size);
    write_file(copy, bytes, size);
    plugin *q = plugin_open(copy, &err);
    cr_assert_not_null(q, "%s", err.message);
    cr_assert_neq(q, p, "a different file gave the same handle");
    cr_assert_str_eq(must_lookup(q, "init_order"), expected_order);
    cr_assert_neq(must_lookup(q, "init_order"), (void *)order);
    cr_assert_str_eq(order, expected_order);
}

/* A re-open by the absolute path an open already published is matched by that name first, as
 * glibc matches l_name before the file's identity (plugin.h): a file put at that path since is
 * not looked at. A relative name is no name match: its identity is checked, and the new file at
 * that place is loaded. */
Test(init, absolute_path_reopen_matches_the_name_first)
{
    char *dir = make_temp_dir(), path[4200];
    snprintf(path, sizeof path, "%s/plugin.so", dir);
    size_t size;
    char *bytes = read_file(fixture("basic.so"), &size);
    write_file(path, bytes, size);
    free(bytes);
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "%s", err.message);

    bytes = read_file(fixture("counter.so"), &size);    /* another file at the same path */
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    write_file(tmp, bytes, size);
    free(bytes);
    cr_assert_eq(rename(tmp, path), 0);
    cr_expect_eq(plugin_open(path, &err), p, "the absolute name did not match first: %s", err.message);

    cr_assert_eq(chdir(dir), 0);
    plugin *q = plugin_open("./plugin.so", &err);
    cr_assert_not_null(q, "%s", err.message);
    cr_expect_neq(q, p, "a relative name matched the old object, not the file now at that place");
}

/* Initializers are called as glibc calls them: (argc, argv, envp) of the process. */
Test(init, initializers_get_argc_argv_envp)
{
    plugin *p = open_fixture("initorder.so");
    int argc = *(int *)must_lookup(p, "init_argc");
    char **argv = *(char ***)must_lookup(p, "init_argv");
    char **envp = *(char ***)must_lookup(p, "init_envp");

    cr_assert_geq(argc, 1, "argc = %d", argc);
    cr_assert_not_null(argv);
    cr_assert_not_null(argv[0]);
    char *self = self_argv0();
    cr_assert_str_eq(argv[0], self, "argv[0] is \"%s\", the process's is \"%s\"", argv[0], self);
    cr_assert_null(argv[argc], "argv not NULL-terminated at argc");

    cr_assert_not_null(envp);
    int n = 0;
    while (envp[n] && n < 100000) {
        cr_assert_not_null(strchr(envp[n], '='), "envp[%d] = \"%s\"", n, envp[n]);
        n++;
    }
    cr_assert_null(envp[n]);
    if (environ && environ[0])
        cr_assert_gt(n, 0, "empty envp while the process has an environment");
}
