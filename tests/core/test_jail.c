/*
 * test_jail.c — plugins loaded inside a seccomp jail that denies every system call naming a
 * path (tests/jail_host.c installs it before the loader's first use, then loads from memory).
 * Natively the filter is in force; under qemu-user (the aarch64 lane) the emulator refuses
 * PR_SET_SECCOMP for its guest, and the test is skipped with the host's reason.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#define JAIL_HOST BUILD_DIR "/tests/jail_host"

/* Runs the host; skips the test when it says the jail cannot be had here. */
static struct run run_jailed(void)
{
    char *argv[] = { JAIL_HOST, FIXTURE_DIR, NULL };
    struct run r = run_program(argv);
    if (r.code == 77)
        cr_skip("%s", r.out);
    return r;
}

Test(jail, plugins_that_need_no_file_load_from_memory_and_work)
{
    struct run r = run_jailed();
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "jailed: openat /proc/self/maps: Operation not permitted\n"
                            "libc_user.so: length_of(\"jail\") = 4\n"
                            "hostcall.so (resolve): compute(5) = 30\n"
                            "tls_default.so: tv_global = 99 here, 7 in a new thread\n"
                            "plugin_addr_info: length_of in mem:libc_user.so\n") == r.out,
              "stdout:\n%s\nstderr:\n%s", r.out, r.err);
}

/* A dependency that is not in the process, and plugin_open of a path: refused with the code and
 * a message naming the file and the denial (not "not found" alone), and the process goes on. */
Test(jail, loads_that_need_the_file_system_fail_with_the_file_and_the_denial)
{
    struct run r = run_jailed();
    char want[2048];
    snprintf(want, sizeof want,
             "lonely.so (needs liblonely_dep.so): refused, code %d: plugin: mem:lonely.so: needed library "
             "liblonely_dep.so not found (searched RPATH, LD_LIBRARY_PATH, search_paths, RUNPATH, the ld.so cache, "
             "system directories): %s/deps/elsewhere/liblonely_dep.so: Operation not permitted\n",
             PLUGIN_ERR_DEPENDENCY, FIXTURE_DIR);
    cr_assert_not_null(strstr(r.out, want), "want:\n%s\nstdout:\n%s\nstderr:\n%s", want, r.out, r.err);
    snprintf(want, sizeof want,
             "plugin_open(basic.so): refused, code %d: plugin: %s/basic.so: cannot open: Operation not permitted\n",
             PLUGIN_ERR_IO, FIXTURE_DIR);
    cr_assert_not_null(strstr(r.out, want), "want:\n%s\nstdout:\n%s", want, r.out);
}
