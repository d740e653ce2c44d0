/*
 * test_nodlopen.c — objects linked -z nodlopen (DF_1_NOOPEN in DT_FLAGS_1; fixtures built by
 * mk/ldso.mk). glibc's ld.so loads them with a program but refuses to map one during a dlopen,
 * whether it is the object opened or a dependency the open would map
 * ("shared object cannot be dlopen()ed"); an object already in the process is simply reused.
 * We refuse the same ones, with PLUGIN_ERR_UNSUPPORTED and a message naming the refused file,
 * leave nothing behind (mappings, descriptors, registry entries), and fail the same way again.
 * The oracle is glibc's dlopen in a child process.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIBNOOPEN "nodlopen/libnoopen.so"
#define NOOPEN_USER "nodlopen/noopen_user.so"
#define NOOPEN_HOST BUILD_DIR "/tests/noopen_host"

/* glibc's dlopen of path in a child: its dlerror() (malloc'ed), or NULL when it loaded. */
static char *glibc_dlopen_error(const char *path)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        const char *e = dlopen(path, RTLD_NOW | RTLD_LOCAL) ? "" : dlerror();
        ssize_t w = write(fds[1], e, strlen(e));
        _exit(w < 0);
    }
    close(fds[1]);
    char buf[1024];
    ssize_t n, got = 0;
    while ((n = read(fds[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    buf[got > 0 ? got : 0] = '\0';
    return got > 0 ? strdup(buf) : NULL;
}

Test(nodlopen, fixture_is_linked_nodlopen)
{
    uint64_t flags1 = 0;
    cr_assert(file_dyn_tag(fixture(LIBNOOPEN), DT_FLAGS_1, &flags1), "no DT_FLAGS_1");
    cr_assert(flags1 & DF_1_NOOPEN, "DT_FLAGS_1 0x%llx has no DF_1_NOOPEN", (unsigned long long)flags1);
    char *needed = file_dyn_string(fixture(NOOPEN_USER), DT_NEEDED, 0);
    cr_assert_str_eq(needed, "libnoopen.so");
    free(needed);
}

/* Open path twice: refused both times with PLUGIN_ERR_UNSUPPORTED and glibc's words naming the
 * file refused (refused); /proc/self/maps and the descriptors as before. glibc refuses it too. */
static void expect_refused(const char *path, const char *refused)
{
    char *glibc = glibc_dlopen_error(path);
    cr_assert_not_null(glibc, "glibc's dlopen loaded %s", path);
    cr_assert_not_null(strstr(glibc, "cannot be dlopen()ed"), "glibc: %s", glibc);
    free(glibc);
    plugin_open(fixture("basic.so"), NULL);             /* one-time set-up is not a leak */
    plugin_open(FIXTURE_DIR "/does-not-exist.so", NULL);
    char *maps = maps_snapshot();
    int fds = count_fds();
    for (int round = 0; round < 2; round++) {
        plugin_error err;
        cr_assert_null(plugin_open(path, &err), "%s was loaded", path);
        cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
        char want[1024];
        snprintf(want, sizeof want, "%s: shared object cannot be dlopen()ed", refused);
        cr_assert_not_null(strstr(err.message, want), "no \"%s\" in: %s", want, err.message);
        cr_assert_eq(count_fds(), fds, "round %d: a descriptor was left open", round);
        char *now = maps_snapshot();
        cr_assert_str_eq(now, maps, "round %d: a mapping was left behind", round);
        free(now);
    }
    free(maps);
}

Test(nodlopen, object_itself_is_refused)
{
    expect_refused(fixture(LIBNOOPEN), fixture(LIBNOOPEN));
}

Test(nodlopen, plugin_needing_one_is_refused)
{
    expect_refused(fixture(NOOPEN_USER), fixture(LIBNOOPEN));
}

Test(nodlopen, memory_image_is_refused)
{
    size_t size;
    char *bytes = read_file(fixture(LIBNOOPEN), &size);
    plugin_error err;
    cr_assert_null(plugin_open_memory(bytes, size, "libnoopen-in-memory.so", NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert_not_null(strstr(err.message, "libnoopen-in-memory.so: shared object cannot be dlopen()ed"), "%s",
                       err.message);
    free(bytes);
}

/* The object is in the process already (the executable links it): nothing is mapped, and both
 * the object and a plugin that needs it open, as with glibc's dlopen. */
Test(nodlopen, object_already_in_the_process_is_reused)
{
    char *argv[] = { NOOPEN_HOST, (char *)fixture(LIBNOOPEN), (char *)fixture(NOOPEN_USER), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert_str_eq(r.out,
                     "glibc dlopen of the loaded object: ok\n"
                     "plugin_open of the loaded object: ok\n"
                     "plugin_open of a plugin that needs it: ok\n"
                     "noopen_user() = 17; the executable's noopen: same\n");
    free(r.out);
    free(r.err);
}
