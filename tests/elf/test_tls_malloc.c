/*
 * test_tls_malloc.c — thread-local blocks come from the process's malloc, as glibc's ld.so takes
 * them: tests/malloc_host.c replaces malloc/calloc/realloc/free, loads a TLS fixture, touches
 * its variables from three threads and checks that each thread's block is an allocation its own
 * malloc made (of the size the fixture's PT_TLS asks for) and that the two threads that exit
 * give theirs back to its free.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MALLOC_HOST BUILD_DIR "/tests/malloc_host"

static void run_host(const char *fixture_name)
{
    char *argv[] = { MALLOC_HOST, (char *)fixture(fixture_name), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "%s: exit %d; stdout:\n%s\nstderr:\n%s", fixture_name, r.code, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "blocks from our malloc: 3 of 3; freed by our free: 2 of 2"),
                       "%s: stdout:\n%s", fixture_name, r.out);
    free(r.out);
    free(r.err);
}

/* tv_zero is aligned to 64, more than malloc's alignment: the block is aligned by hand inside
 * an allocation of p_memsz + 64 bytes. */
Test(tls_malloc, blocks_come_from_the_process_malloc_general_dynamic) { run_host("tls/tls_trad.so"); }
Test(tls_malloc, blocks_come_from_the_process_malloc_descriptors) { run_host("tls/tls_desc.so"); }
