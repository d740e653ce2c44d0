/*
 * test_static.c — a -static host (tests/static_host.c) loads plugins:
 *   - fixtures/hostcall.so (-nostdlib) with a resolve callback, which wins over the executable's
 *     .symtab (host_add) while .symtab supplies what it does not (host_note); with a static TLS
 *     pool it registers by hand, fixtures/tls/static_ie.c (initial-exec TLS);
 *   - fixtures/static_libc.so, an ordinary glibc plugin, with no callback: libc (snprintf,
 *     malloc/free, errno, the IFUNCs strlen, memcpy, strchr) and the host's own symbols come
 *     from the executable's .symtab; stripped, the open fails naming a symbol until the host
 *     registers its exports.
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
#define STRIPPED_HOST BUILD_DIR "/tests/static_host_stripped"
#define STATIC_PIE_HOST BUILD_DIR "/tests/static_pie_host"

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

/* host_add comes from the callback (callback_add_calls=2: it wins over .symtab, which has
 * host_add too), host_note from .symtab (notes=init: the callback does not know it). */
Test(static_host, loads_a_plugin_that_calls_the_host)
{
    char *argv[] = { STATIC_HOST, "callback", (char *)fixture("hostcall.so"), NULL };
    char *out, *err;
    int status = run_capture(argv, &out, &err);
    cr_assert_neq(status, -1, "cannot run %s", STATIC_HOST);
    cr_assert(WIFEXITED(status), "static_host died (signal %d); stdout:\n%s\nstderr:\n%s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, out, err);
    cr_assert_eq(WEXITSTATUS(status), 0, "exit %d; stdout:\n%s\nstderr:\n%s",
                 WEXITSTATUS(status), out, err);
    cr_assert_str_eq(out,
                     "compute(5)=30\n"
                     "compute(-10)=0\n"
                     "inits=1 notes=init callback_add_calls=2 add_calls=0\n"
                     "same handle: yes\n",
                     "stdout:\n%s\nstderr:\n%s", out, err);
}

/* The same host registers a static TLS pool by hand (no constructor, no dynamic C library) and
 * then loads a -nostdlib plugin whose own counter is initial-exec: one counter per thread. */
Test(static_host, serves_initial_exec_tls_from_a_pool_registered_by_hand)
{
    char *argv[] = { STATIC_HOST, "callback", (char *)fixture("hostcall.so"), (char *)fixture("tls/static_ie.so"),
                     NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "same handle: yes\n"
                            "without a pool: refused\n"
                            "with a pool: main 1, new thread 2, main again 2\n"), "stdout:\n%s", r.out);
}

/* What use_static_libc in tests/static_host.c prints when every import is bound right: the
 * host's function and variable, one heap both ways, one errno both ways, strchr, and the host's
 * IFUNC that only the plugin calls. */
#define STATIC_LIBC_RESULTS                                                                        \
    "describe: 2+3=5 (add_calls 1, host_counter 1)\n"                                               \
    "index: 1 -1\n"                                                                                 \
    "errno: plugin saw ERANGE, host sees EDOM\n"

/* The address a trace line "bound NAME@... to the executable's symbol table (0x...)" gives. */
static uint64_t bound_address(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "bound %s@", name);
    const char *line = strstr(out, key);
    cr_assert_not_null(line, "no binding of %s in:\n%s", name, out);
    const char *open = strstr(line, "to the executable's symbol table (0x");
    cr_assert(open && open < strchr(line, '\n'), "%s not bound to the executable's symbol table:\n%s", name, out);
    return strtoull(open + strlen("to the executable's symbol table ("), NULL, 16);
}

Test(static_host, binds_libc_and_host_symbols_from_its_symtab_without_a_callback)
{
    char *argv[] = { STATIC_HOST, "symtab", (char *)fixture("static_libc.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert_not_null(strstr(r.out, STATIC_LIBC_RESULTS "host ifunc: 42, resolver calls 1\n"), "stdout:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, "trace: the executable's symbol table: /proc/self/exe .symtab, "), "%s", r.out);
    /* Read once, for the whole open. */
    cr_assert_null(strstr(strstr(r.out, "the executable's symbol table: ") + 1, "the executable's symbol table: "));
    /* glibc's IFUNCs are bound to the implementation the host's startup chose (the value of its
     * IRELATIVE slot: __strlen_avx2, __memcpy_generic, ...), not to the resolver, which is what
     * .symtab says strlen is. */
    const char *names[] = { "strlen", "memcpy" };    /* IFUNCs on both CPUs (strchr: x86-64 only) */
    for (size_t i = 0; i < 2; i++) {
        uint64_t resolver, bound = bound_address(r.out, names[i]);
        cr_assert(file_symbol_value(STATIC_HOST, names[i], 0, &resolver), "%s not in .symtab", names[i]);
        cr_assert_neq(bound, resolver, "%s bound to its resolver", names[i]);
        char *impl = file_function_at(STATIC_HOST, bound);
        cr_assert_not_null(impl, "%s bound to 0x%llx, no function of the host", names[i], (unsigned long long)bound);
        cr_assert(strstr(impl, names[i]) && strcmp(impl, names[i]) != 0, "%s bound to %s", names[i], impl);
        free(impl);
    }
    /* host_ifunc has no IRELATIVE relocation (the host never calls it): its resolver ran, once. */
    cr_assert_not_null(strstr(r.out, "host_ifunc is an IFUNC of the executable: its resolver chose 0x"), "%s", r.out);
}

Test(static_host, stripped_fails_naming_the_symbol_then_works_with_registered_exports)
{
    uint64_t off, size;
    cr_assert_eq(file_section(STRIPPED_HOST, ".symtab", &off, &size), 0, "static_host_stripped has a .symtab");
    char *argv[] = { STRIPPED_HOST, "exports", (char *)fixture("static_libc.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    /* The first open: PLUGIN_ERR_UNDEFINED, one line naming the plugin and a libc symbol (not
     * host_counter, which PLUGIN_EXPORTS registered before main). */
    char first[512];
    cr_assert_eq(sscanf(r.out, "without exports: %511[^\n]", first), 1, "stdout:\n%s", r.out);
    char expect[600];
    snprintf(expect, sizeof expect, "%s: plugin: %s: undefined symbol ", plugin_strerror(PLUGIN_ERR_UNDEFINED),
             fixture("static_libc.so"));
    cr_assert_eq(strncmp(first, expect, strlen(expect)), 0, "first open: %s", first);
    cr_assert(strstr(first, "@GLIBC_") && !strstr(first, "host_counter"), "first open: %s", first);
    /* Then everything works through the exports (host_ifunc's export is its implementation). */
    cr_assert_not_null(strstr(r.out, STATIC_LIBC_RESULTS "host ifunc: 42, resolver calls 0\n"), "stdout:\n%s", r.out);
}

/* A stripped host without exports: the trace says why the symbol table is not there, and the
 * open fails cleanly. */
Test(static_host, stripped_without_exports_says_the_table_is_not_available)
{
    char *argv[] = { STRIPPED_HOST, "symtab", (char *)fixture("static_libc.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 1, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "trace: the executable's symbol table is not available: /proc/self/exe has no "
                                     "symbol table"), "stdout:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, "open: plugin: "), "stdout:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, ": undefined symbol "), "stdout:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, " (a static host; its symbol table is not available: /proc/self/exe has no "
                                     "symbol table (stripped?))\n"), "stdout:\n%s", r.out);
}

/* A static PIE is relocated at startup: the table's addresses are the file's plus the load bias,
 * and its libc functions are local symbols (the linker localizes hidden ones there). */
Test(static_host, a_static_pie_binds_from_its_symtab_with_the_load_bias)
{
    cr_assert_eq(file_phdr(STATIC_PIE_HOST, PT_INTERP, NULL, NULL), 0, "static_pie_host has an interpreter");
    int bind;
    cr_assert(file_find_symbol(STATIC_PIE_HOST, "malloc", 0, &bind, NULL, NULL), "no malloc in .symtab");
    cr_assert_eq(bind, STB_LOCAL, "malloc is not local in the static PIE: the case is not tested");
    char *argv[] = { STATIC_PIE_HOST, "symtab", (char *)fixture("static_libc.so"), NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert_not_null(strstr(r.out, STATIC_LIBC_RESULTS "host ifunc: 42, resolver calls 1\n"), "stdout:\n%s", r.out);
    const char *bias = strstr(r.out, ", load bias 0x");
    cr_assert_not_null(bias, "stdout:\n%s", r.out);
    cr_assert_neq(strtoull(bias + strlen(", load bias "), NULL, 16), 0, "stdout:\n%s", r.out);
    uint64_t resolver, bound = bound_address(r.out, "strlen");
    cr_assert(file_symbol_value(STATIC_PIE_HOST, "strlen", 0, &resolver));
    cr_assert_neq(bound - (strtoull(bias + strlen(", load bias "), NULL, 16)), resolver, "strlen bound to its resolver");
}
