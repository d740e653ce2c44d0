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
 * In the aarch64 lane on an x86-64 host (recognized by gdb being a program for another CPU) the
 * program runs under qemu-user with its gdb stub (QEMU_GDB=port) and gdb-multiarch attaches to it
 * with `target remote`; `run` becomes `continue`. Skipped, with the reason printed, only when no
 * suitable gdb is installed. tools/plugin-gdb.py is found by walking up from BUILD_DIR.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
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

static bool remote;             /* this lane runs under qemu-user: gdb-multiarch + qemu's gdb stub */

static char *need_gdb(void)
{
    char *gdb = find_gdb();
    if (!gdb)
        cr_skip_test("gdb is not installed (scripts/deps.sh installs it)");
    if (file_machine(gdb) != NATIVE_EM) {
        free(gdb);
        remote = true;
        if (access("/usr/bin/gdb-multiarch", X_OK) != 0)
            cr_skip_test("gdb-multiarch is not installed (scripts/deps.sh installs it for the aarch64 lane)");
        gdb = strdup("/usr/bin/gdb-multiarch");
    }
    return gdb;
}

/* A free TCP port on the loopback interface for qemu's gdb stub. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Start `plugin call gdbtrap.so gdbtrap_outer 5` under qemu-user, stopped in qemu's gdb stub. */
static pid_t start_under_qemu(int port)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char env[32];
        snprintf(env, sizeof env, "%d", port);
        setenv("QEMU_GDB", env, 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(PLUGIN_CLI, PLUGIN_CLI, "call", fixture("gdbtrap.so"), "gdbtrap_outer", "5", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Run gdb in batch mode with the given options, on `plugin call gdbtrap.so gdbtrap_outer 5`
 * (started by gdb, or under qemu-user and attached to), bounded in time; returns gdb's stdout +
 * stderr. */
static char *run_gdb(const char *gdb, const char *const *opts)
{
    char source[PATH_MAX + 8], target[64];
    char *argv[40];
    int n = 0, port = remote ? free_port() : 0;
    pid_t child = remote ? start_under_qemu(port) : -1;
    argv[n++] = "/usr/bin/timeout";
    argv[n++] = "120";
    argv[n++] = (char *)gdb;
    argv[n++] = "-q";
    argv[n++] = "-batch";
    argv[n++] = "-nx";
    if (remote) {
        snprintf(target, sizeof target, "target remote 127.0.0.1:%d", port);
        const char *pre[] = { "-ex", "set sysroot /", "-ex", "set tcp connect-timeout 30", "-ex",
                              "file " PLUGIN_CLI, "-ex", target };
        for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
            argv[n++] = (char *)pre[i];
    }
    for (; *opts; opts++) {
        if (strcmp(*opts, "SCRIPT") == 0)
            argv[n++] = (char *)gdb_script();
        else if (strcmp(*opts, "source SCRIPT") == 0)
            snprintf(source, sizeof source, "source %s", gdb_script()), argv[n++] = source;
        else if (remote && strcmp(*opts, "run") == 0)
            argv[n++] = "continue";
        else
            argv[n++] = (char *)*opts;
    }
    if (!remote) {
        argv[n++] = "--args";
        argv[n++] = PLUGIN_CLI;
        argv[n++] = "call";
        argv[n++] = (char *)fixture("gdbtrap.so");
        argv[n++] = "gdbtrap_outer";
        argv[n++] = "5";
    }
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    int st = run_capture(argv, &out, &err);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
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
