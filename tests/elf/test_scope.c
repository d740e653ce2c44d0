/*
 * test_scope.c — which of the process's objects a reference may bind to, and unique symbols.
 *
 *  - The global scope is ld.so's: the executable, its preloads and their dependencies. A library
 *    the host dlopen'ed (RTLD_LOCAL, glibc's default) is not searched; a plugin that needs it by
 *    DT_NEEDED reuses it and binds to it. The vDSO is never searched: an unversioned
 *    clock_gettime (ELF built without libc, or a Mach-O import) binds to libc's, and the vDSO's own
 *    names are undefined.
 *  - Unique symbols (STB_GNU_UNIQUE): one definition a name for the whole process, the first
 *    loaded, for binding and for plugin_lookup; a host object's copy (dlopen'ed, RTLD_LOCAL) wins
 *    over the plugins'. glibc's own dlopen is the oracle: each case is also run with dlopen in a
 *    child process, and the winner must be the same object.
 * Criterion runs each test in a process of its own, so what a test dlopen's stays in that test.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int *(*int_fn)(void);
typedef void *(*ptr_fn)(void);

static bool ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The file name of the object our loader says addr belongs to. */
static const char *owner(const void *addr)
{
    struct plugin_addr_info info;
    cr_assert_eq(plugin_addr_info(addr, &info), 1, "%p is in no object", addr);
    return info.path;
}

static void *fn(plugin *p, const char *name)
{
    return must_lookup(p, name);
}

/* Run check in a child process; its exit code (0: glibc agreed). */
static int in_child(int (*check)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(check());
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void *must_dlopen(const char *name)
{
    void *h = dlopen(fixture(name), RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "dlopen %s: %s\n", name, dlerror());
    return h;
}

/* ---- unique symbols between two plugins and their common dependency ---- */

/* glibc: uniq_a.so, then uniq_b.so; every copy of uniq_counter is uniq_a.so's. */
static int glibc_two_plugins(void)
{
    void *a = must_dlopen("scope/uniq_a.so"), *b = must_dlopen("scope/uniq_b.so");
    if (!a || !b)
        return 1;
    int *x = ((int_fn)dlsym(a, "uniq_a_addr"))();
    Dl_info info;
    if (!dladdr(x, &info) || !ends_with(info.dli_fname, "/uniq_a.so"))
        return 2;
    if (((int_fn)dlsym(a, "uniq_a_dep"))() != x || ((int_fn)dlsym(b, "uniq_b_addr"))() != x ||
        ((int_fn)dlsym(b, "uniq_b_dep"))() != x || dlsym(b, "uniq_counter") != x)
        return 3;
    return 0;
}

Test(scope, unique_symbol_is_one_for_two_plugins_and_their_dependency)
{
    plugin *a = open_fixture("scope/uniq_a.so");
    plugin *b = open_fixture("scope/uniq_b.so");
    plugin *dep = open_fixture("scope/libuniqdep.so");
    int *x = ((int_fn)fn(a, "uniq_a_addr"))();
    cr_expect_str_eq(owner(x), fixture("scope/uniq_a.so"), "the first object loaded defines the one copy");
    cr_expect_eq(((int_fn)fn(a, "uniq_a_dep"))(), x, "uniq_a.so's dependency uses another copy");
    cr_expect_eq(((int_fn)fn(b, "uniq_b_addr"))(), x, "uniq_b.so uses its own copy");
    cr_expect_eq(((int_fn)fn(b, "uniq_b_dep"))(), x);
    cr_expect_eq(fn(a, "uniq_counter"), x, "plugin_lookup answers another copy");
    cr_expect_eq(fn(b, "uniq_counter"), x, "plugin_lookup of uniq_b.so answers its own copy");
    cr_expect_eq(fn(dep, "uniq_counter"), x, "plugin_lookup of the dependency answers its own copy");
    cr_expect_eq(plugin_lookup_version(b, "uniq_counter", NULL, NULL), x);
    /* An ordinary global is not merged: the dependency's is its own. */
    cr_expect_str_eq(owner(fn(dep, "uniq_plain")), fixture("scope/libuniqdep.so"));
    int step = in_child(glibc_two_plugins);
    cr_expect_eq(step, 0, "glibc's dlopen disagrees (its check %d failed)", step);
}

/* glibc: the host dlopen'ed libuniqdep.so first; uniq_a.so's copy gives way to the host's. */
static int glibc_host_copy(void)
{
    void *dep = must_dlopen("scope/libuniqdep.so"), *a = must_dlopen("scope/uniq_a.so");
    if (!dep || !a)
        return 1;
    int *x = dlsym(dep, "uniq_counter");
    return ((int_fn)dlsym(a, "uniq_a_addr"))() == x && dlsym(a, "uniq_counter") == x ? 0 : 2;
}

Test(scope, unique_symbol_of_a_host_object_wins)
{
    void *h = must_dlopen("scope/libuniqdep.so");
    cr_assert_not_null(h);
    int *host = dlsym(h, "uniq_counter");
    cr_assert_eq(((int_fn)dlsym(h, "uniq_dep_addr"))(), host);
    plugin *a = open_fixture("scope/uniq_a.so");
    cr_expect_eq(((int_fn)fn(a, "uniq_a_addr"))(), host, "the plugin kept its own copy; the host's was first");
    cr_expect_eq(fn(a, "uniq_counter"), host, "plugin_lookup answers the plugin's own copy");
    cr_expect_eq(in_child(glibc_host_copy), 0, "glibc's dlopen disagrees");
}

/* g++'s own unique symbols: the static local of an inline function, defined by both plugins. */
static int glibc_cxx(void)
{
    void *a = must_dlopen("cxx/uniq_inline_a.so"), *b = must_dlopen("cxx/uniq_inline_b.so");
    if (!a || !b)
        return 1;
    return ((int_fn)dlsym(a, "uniq_inline_a"))() == ((int_fn)dlsym(b, "uniq_inline_b"))() ? 0 : 2;
}

Test(scope, unique_static_local_of_an_inline_function_is_one)
{
    const char *sym = "_ZZ19uniq_inline_countervE7counter";
    int bind = -1;
    cr_assert(file_find_symbol(fixture("cxx/uniq_inline_a.so"), sym, 1, &bind, NULL, NULL), "no %s", sym);
    cr_assert_eq(bind, STB_GNU_UNIQUE, "g++ did not make %s unique", sym);
    plugin *a = open_fixture("cxx/uniq_inline_a.so");
    plugin *b = open_fixture("cxx/uniq_inline_b.so");
    int *x = ((int_fn)fn(a, "uniq_inline_a"))();
    cr_expect_eq(((int_fn)fn(b, "uniq_inline_b"))(), x, "two copies of one inline function's static");
    cr_expect_str_eq(owner(x), fixture("cxx/uniq_inline_a.so"));
    cr_expect_eq(fn(b, sym), x);
    cr_expect_eq(in_child(glibc_cxx), 0, "glibc's dlopen disagrees");
}

/* ---- what the host dlopen'ed is not in the global scope ---- */

static int glibc_rtld_local(void)
{
    void *help = must_dlopen("scope/libscopehelp.so");
    void *weak = must_dlopen("scope/scope_weak.so"), *needer = must_dlopen("scope/scope_needer.so");
    if (!help || !weak || !needer)
        return 1;
    if (((int_fn)dlsym(weak, "scope_weak_probe"))() != NULL)
        return 2;
    return ((int_fn)dlsym(needer, "scope_needer_probe"))() == dlsym(help, "scope_probe") ? 0 : 3;
}

Test(scope, library_dlopened_rtld_local_is_not_searched_but_reused_when_needed)
{
    void *h = must_dlopen("scope/libscopehelp.so");
    cr_assert_not_null(h);
    int *probe = dlsym(h, "scope_probe");
    cr_assert_not_null(probe);
    plugin *weak = open_fixture("scope/scope_weak.so");
    cr_expect_null(((int_fn)fn(weak, "scope_weak_probe"))(),
                   "a weak reference bound to a library the host dlopen'ed RTLD_LOCAL");
    plugin *needer = open_fixture("scope/scope_needer.so");
    cr_expect_eq(((int_fn)fn(needer, "scope_needer_probe"))(), probe,
                 "the needed library was not the host's copy");
    cr_expect_eq(*probe, 42);
    cr_expect_eq(plugin_open(fixture("scope/libscopehelp.so"), NULL), plugin_open(fixture("scope/libscopehelp.so"), NULL));
    cr_expect_eq(in_child(glibc_rtld_local), 0, "glibc's dlopen disagrees");
}

/* The resolve callback reaches what the global scope does not (here: through dlsym). */
static void *via_dlsym(void *ctx, const char *name, const char *version)
{
    (void)version;
    return dlsym(ctx, name);
}

Test(scope, resolve_callback_reaches_a_library_outside_the_global_scope)
{
    void *h = must_dlopen("scope/libscopehelp.so");
    cr_assert_not_null(h);
    struct plugin_options opts = { .resolve = via_dlsym, .resolve_ctx = h };
    plugin_error err;
    plugin *weak = plugin_open_with(fixture("scope/scope_weak.so"), &opts, &err);
    cr_assert_not_null(weak, "%s", err.message);
    cr_expect_eq(((int_fn)fn(weak, "scope_weak_probe"))(), dlsym(h, "scope_probe"));
}

/* ---- the vDSO is not searched ---- */

Test(scope, vdso_is_not_searched)
{
    plugin *p = open_fixture("scope/vdso_user.so");
    void *cg = ((ptr_fn)fn(p, "vdso_user_clock_gettime"))();
    cr_expect_eq(cg, (void *)clock_gettime, "clock_gettime is not the one the executable binds to");
    cr_expect(!strstr(owner(cg), "vdso"), "clock_gettime bound to %s", owner(cg));
    cr_expect_null(((ptr_fn)fn(p, "vdso_user_vdso_name"))(), "a name only the vDSO defines was bound");
    if (!getauxval(AT_SYSINFO_EHDR))
        cr_log_info("no vDSO in this process (qemu-user): nothing else to choose");
}

#if defined(__x86_64__)
#define MCPU "x86_64"
#else
#define MCPU "arm64"
#endif

Test(scope, macho_import_binds_to_libc_not_the_vdso)
{
    plugin *p = open_fixture("macho/libclock." MCPU ".dylib");
    void *cg = ((ptr_fn)fn(p, "clk_addr"))();
    cr_expect_eq(cg, (void *)clock_gettime, "the Mach-O import of clock_gettime bound to %s", owner(cg));
}

/* ---- LD_PRELOAD is in the global scope ---- */

/* `plugin call scope_weak.so scope_weak_probe` prints the address its weak reference bound to:
 * with libscopehelp.so preloaded (part of the global scope, after the executable) it is bound;
 * without, 0. */
static long probe_with_env(const char *preload)
{
    if (preload)
        setenv("LD_PRELOAD", preload, 1);
    else
        unsetenv("LD_PRELOAD");
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);   /* a sanitized CLI */
    char *argv[] = { PLUGIN_CLI, "call", (char *)fixture("scope/scope_weak.so"), "scope_weak_probe", NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "plugin call failed: %s", r.err);
    return strtol(r.out, NULL, 10);
}

Test(scope, preloaded_library_is_in_the_global_scope)
{
    cr_expect_neq(probe_with_env(fixture("scope/libscopehelp.so")), 0, "a preloaded library was not searched");
    cr_expect_eq(probe_with_env(NULL), 0, "bound without the preload");
}
