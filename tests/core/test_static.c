/*
 * test_static.c — a -static host (tests/static_host.c) loads fixtures/hostcall.so, which calls
 * back into the host through the resolve callback only, and, with a static TLS pool it registers
 * by hand, fixtures/tls/static_ie.c (initial-exec TLS).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define STATIC_HOST BUILD_DIR "/tests/static_host"

Test(static_host, host_and_plugin_are_what_they_claim)
{
    uint64_t v;
    cr_assert_eq(file_phdr(STATIC_HOST, PT_INTERP, NULL, NULL), 0, "static_host has an interpreter");
    cr_assert_eq(file_phdr(STATIC_HOST, PT_DYNAMIC, NULL, NULL), 0, "static_host is dynamic");
    const char *plugin = fixture("hostcall.so");
    cr_assert_eq(file_dyn_tag(plugin, DT_NEEDED, &v), 0, "hostcall.so needs a library");
    /* Nothing from libc: every import is a host function. */
    char *undef = file_undefined_dynsyms(plugin);
    cr_assert_not_null(strstr(undef, "host_add "), "hostcall.so imports: %s", undef);
    cr_assert_not_null(strstr(undef, "host_note "), "hostcall.so imports: %s", undef);
    for (char *tok = strtok(undef, " "); tok; tok = strtok(NULL, " "))
        cr_assert_eq(strncmp(tok, "host_", 5), 0, "hostcall.so imports %s", tok);
}

Test(static_host, loads_a_plugin_that_calls_the_host)
{
    char *argv[] = { STATIC_HOST, (char *)fixture("hostcall.so"), NULL };
    char *out, *err;
    int status = run_capture(argv, &out, &err);
    cr_assert_neq(status, -1, "cannot run %s", STATIC_HOST);
    cr_assert(WIFEXITED(status), "static_host died (signal %d); stdout:\n%s\nstderr:\n%s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, out, err);
    cr_assert_eq(WEXITSTATUS(status), 0, "exit %d; stdout:\n%s\nstderr:\n%s",
                 WEXITSTATUS(status), out, err);
    cr_assert_str_eq(out,
                     "without resolve: undefined\n"
                     "compute(5)=30\n"
                     "compute(-10)=0\n"
                     "inits=1 notes=init add_calls=2\n"
                     "same handle: yes\n",
                     "stdout:\n%s\nstderr:\n%s", out, err);
}

/* The same host registers a static TLS pool by hand (no constructor, no dynamic C library) and
 * then loads a -nostdlib plugin whose own counter is initial-exec: one counter per thread. */
Test(static_host, serves_initial_exec_tls_from_a_pool_registered_by_hand)
{
    char *argv[] = { STATIC_HOST, (char *)fixture("hostcall.so"), (char *)fixture("tls/static_ie.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "same handle: yes\n"
                            "without a pool: refused\n"
                            "with a pool: main 1, new thread 2, main again 2\n"), "stdout:\n%s", r.out);
}
