/*
 * test_gdb.c — stock gdb sees inside a loaded plugin (issue 5), with the one documented step:
 * tools/plugin-gdb.py. gdb runs `plugin call gdbtrap.so gdbtrap_outer 5` in batch mode; the
 * fixture raises SIGTRAP inside gdbtrap_inner, and `bt` must show gdbtrap_inner and
 * gdbtrap_outer with their source file (fixtures/gdbtrap.c is built with -g).
 *
 *  - the brief's command line: -x tools/plugin-gdb.py -ex run -ex plugin-symbols -ex bt;
 *  - the script alone (its silent breakpoint on plugin_debug_state loads the symbols as the
 *    plugin is published): -x tools/plugin-gdb.py -ex run -ex bt;
 *  - the script sourced only after the stop (plugin-symbols by hand, as for a late attach);
 *  - and without the script, the plugin's frames are anonymous (the test means something).
 *
 * Skipped when gdb is not installed, and in the aarch64 lane on an x86-64 host: that lane runs under
 * qemu-user, and the host's gdb (an x86-64 program, which is how the lane is recognized) cannot run
 * an aarch64 program. tools/plugin-gdb.py is found by walking up from BUILD_DIR.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BUILD_DIR
#error "BUILD_DIR must be defined by the build (mk/tests.mk)"
#endif

/* tools/plugin-gdb.py of the source tree: the first parent of BUILD_DIR that has it. */
static const char *gdb_script(void)
{
    static char path[PATH_MAX + 32];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", BUILD_DIR);
    for (;;) {
        char *slash = strrchr(dir, '/');
        cr_assert_not_null(slash, "no tools/plugin-gdb.py above " BUILD_DIR);
        *slash = '\0';
        snprintf(path, sizeof path, "%s/tools/plugin-gdb.py", dir);
        if (access(path, R_OK) == 0)
            return path;
    }
}

/* gdb's full path from PATH, or NULL. */
static char *find_gdb(void)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    cr_assert_not_null(copy);
    char *save = NULL, *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/gdb", dir);
        if (access(full, X_OK) == 0)
            found = strdup(full);
    }
    free(copy);
    return found;
}

static char *need_gdb(void)
{
    char *gdb = find_gdb();
    if (!gdb)
        cr_skip_test("gdb is not installed (scripts/deps.sh installs it)");
    if (file_machine(gdb) != NATIVE_EM)
        cr_skip_test("gdb: native lane only, the aarch64 lane runs under qemu-user");
    return gdb;
}

/* Run gdb in batch mode with the given options, then `--args plugin call gdbtrap.so ...`, bounded
 * in time; returns gdb's stdout + stderr. */
static char *run_gdb(const char *gdb, const char *const *opts)
{
    char source[PATH_MAX + 8];
    char *argv[32];
    int n = 0;
    argv[n++] = "/usr/bin/timeout";
    argv[n++] = "120";
    argv[n++] = (char *)gdb;
    argv[n++] = "-q";
    argv[n++] = "-batch";
    argv[n++] = "-nx";
    for (; *opts; opts++) {
        if (strcmp(*opts, "SCRIPT") == 0)
            argv[n++] = (char *)gdb_script();
        else if (strcmp(*opts, "source SCRIPT") == 0)
            snprintf(source, sizeof source, "source %s", gdb_script()), argv[n++] = source;
        else
            argv[n++] = (char *)*opts;
    }
    argv[n++] = "--args";
    argv[n++] = PLUGIN_CLI;
    argv[n++] = "call";
    argv[n++] = (char *)fixture("gdbtrap.so");
    argv[n++] = "gdbtrap_outer";
    argv[n++] = "5";
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    int st = run_capture(argv, &out, &err);
    cr_assert_neq(st, -1, "cannot run %s", gdb);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 124, "gdb timed out:\n%s%s", out, err);
    size_t lo = strlen(out), le = strlen(err);
    char *all = malloc(lo + le + 1);
    cr_assert_not_null(all);
    memcpy(all, out, lo);
    memcpy(all + lo, err, le + 1);
    free(out);
    free(err);
    return all;
}

/* bt names both plugin functions with their source file. */
static void expect_plugin_frames(const char *out)
{
    cr_assert_not_null(strstr(out, "SIGTRAP"), "the program did not stop on SIGTRAP:\n%s", out);
    cr_assert_not_null(strstr(out, "in gdbtrap_inner ("), "bt does not name gdbtrap_inner:\n%s", out);
    cr_assert_not_null(strstr(out, "in gdbtrap_outer ("), "bt does not name gdbtrap_outer:\n%s", out);
    cr_assert_not_null(strstr(out, "gdbtrap.c:"), "bt does not give gdbtrap.c's lines:\n%s", out);
}

Test(gdb, backtrace_with_plugin_symbols, .timeout = 300)
{
    char *gdb = need_gdb();
    const char *opts[] = { "-x", "SCRIPT", "-ex", "run", "-ex", "plugin-symbols", "-ex", "bt", NULL };
    char *out = run_gdb(gdb, opts);
    expect_plugin_frames(out);
    free(out);
    free(gdb);
}

Test(gdb, script_loads_symbols_by_itself, .timeout = 300)
{
    char *gdb = need_gdb();
    const char *opts[] = { "-x", "SCRIPT", "-ex", "run", "-ex", "bt", "-ex", "plugin-list", NULL };
    char *out = run_gdb(gdb, opts);
    expect_plugin_frames(out);
    cr_assert_not_null(strstr(out, "ELF    " FIXTURE_DIR "/gdbtrap.so"), "plugin-list:\n%s", out);
    free(out);
    free(gdb);
}

Test(gdb, plugin_symbols_after_the_stop, .timeout = 300)
{
    char *gdb = need_gdb();
    const char *opts[] = { "-ex", "run", "-ex", "source SCRIPT", "-ex", "plugin-symbols", "-ex", "bt", NULL };
    char *out = run_gdb(gdb, opts);
    expect_plugin_frames(out);
    cr_assert_not_null(strstr(out, "plugin-symbols: " FIXTURE_DIR "/gdbtrap.so at 0x"), "%s", out);
    free(out);
    free(gdb);
}

Test(gdb, without_the_script_the_frames_are_anonymous, .timeout = 300)
{
    char *gdb = need_gdb();
    const char *opts[] = { "-ex", "run", "-ex", "bt", NULL };
    char *out = run_gdb(gdb, opts);
    cr_assert_not_null(strstr(out, "SIGTRAP"), "%s", out);
    cr_assert_null(strstr(out, "gdbtrap_inner"), "gdb named the plugin's function on its own:\n%s", out);
    free(out);
    free(gdb);
}
