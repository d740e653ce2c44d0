/*
 * test_musl.c — the static musl host (tests/musl_host.c, mk/musl.mk): a musl-gcc -static
 * executable, with the loader and libelf built for musl, loads plugins built with
 * musl-gcc -shared -fPIC (fixtures/musl/) that reach musl's functions only through the host's
 * resolve callback, run initializers, and use thread-local variables from two threads (dynamic
 * ones, and initial-exec ones from the host's static TLS pool).
 *
 * x86-64 lane only: the aarch64 lane is cross-built with glibc's aarch64 toolchain, and Debian
 * has no musl cross toolchain for it (musl-tools builds for the machine's own CPU). mk/musl.mk
 * defines MUSL_DIR where the host is built.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#ifdef MUSL_DIR
#define MUSL_HOST MUSL_DIR "/tests/musl_host"
#define MUSL_FIX  MUSL_DIR "/fixtures/"

#define SKIP_WITHOUT_MUSL() ((void)0)
#else
#define MUSL_HOST ""
#define MUSL_FIX  ""
#define SKIP_WITHOUT_MUSL() \
    cr_skip_test("the static musl host is built in the x86-64 lane only (no musl toolchain for this lane)")
#endif

Test(musl_host, host_and_plugins_are_what_they_claim)
{
    SKIP_WITHOUT_MUSL();
    /* A static executable (no interpreter, no dynamic table) of musl (its start-up code). */
    cr_assert_eq(file_phdr(MUSL_HOST, PT_INTERP, NULL, NULL), 0, "musl_host has an interpreter");
    cr_assert_eq(file_phdr(MUSL_HOST, PT_DYNAMIC, NULL, NULL), 0, "musl_host is dynamic");
    cr_assert(file_find_symbol(MUSL_HOST, "__init_libc", 0, NULL, NULL, NULL), "musl_host is not musl's");
    cr_assert(file_find_symbol(MUSL_HOST, "plugin_open_with", 0, NULL, NULL, NULL), "musl_host lacks the loader");

    /* Plugins linked against musl's libc.so, importing its functions. */
    const char *greet = MUSL_FIX "greet.so", *tls = MUSL_FIX "tls.so";
    char *needed = file_dyn_string(greet, DT_NEEDED, 0);
    cr_assert_str_eq(needed ? needed : "(none)", "libc.so", "greet.so needs %s", needed);
    free(needed);
    char *undef = file_undefined_dynsyms(greet);
    for (const char *f = "printf \0snprintf \0strlen \0malloc \0toupper \0"; *f; f += strlen(f) + 1)
        cr_assert_not_null(strstr(undef, f), "greet.so does not import %s: %s", f, undef);
    free(undef);
    undef = file_undefined_dynsyms(tls);
    cr_assert_not_null(strstr(undef, "__tls_get_addr "), "tls.so is not general-dynamic: %s", undef);
    free(undef);
    cr_assert(file_phdr(tls, PT_TLS, NULL, NULL), "tls.so has no PT_TLS");
    uint64_t flags = 0;
    file_dyn_tag(MUSL_FIX "static_ie.so", DT_FLAGS, &flags);
    cr_assert(flags & DF_STATIC_TLS, "static_ie.so is not initial-exec (DT_FLAGS 0x%llx)", (unsigned long long)flags);
}

Test(musl_host, loads_musl_plugins_through_resolve)
{
    SKIP_WITHOUT_MUSL();
    char *argv[] = { MUSL_HOST, MUSL_FIX "greet.so", MUSL_FIX "tls.so", MUSL_FIX "static_ie.so", NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert_str_eq(r.out,
                     /* initializers in priority order, calling the host, given (0, NULL, environ) */
                     "host_log: greet.so initializing\n"
                     /* no libc.so in the process: musl's printf & co. come from resolve */
                     "resolve served: printf snprintf strlen malloc toupper environ host_log\n"
                     "initializers ran: abc; given argc 0, argv NULL, envp environ\n"
                     "hello, musl host, from the plugin\n"
                     "greet printed 34 bytes\n"
                     "shout: MUSL!\n"
                     "same handle: yes\n"
                     /* tls.so, opened without resolve (its imports from the host's .symtab):
                      * the opening thread's block (initializer ran there), then a new thread's */
                     "tls main: 6 (its initializer ran here), lookup agrees, tag main\n"
                     "tls thread: 5, zero 0, set 22 -> 22, lookup agrees, tag thread\n"
                     "tls blocks: one per thread\n"
                     "tls main again: 11, zero 11, tag main\n"
                     /* initial-exec TLS from the host's PLUGIN_STATIC_TLS_POOL: one per thread */
                     "static tls: main 1, new thread 2, main again 2\n",
                     "stdout:\n%s\nstderr:\n%s", r.out, r.err);
}
