/*
 * test_dlfcn.c — the dlfcn layer (include/plugin_dlfcn.h): plugin_dlopen's search by name from
 * the calling object (its DT_RUNPATH, LD_LIBRARY_PATH), paths, every mode flag, the program's
 * handle, RTLD_DEFAULT and RTLD_NEXT, the breadth-first order of a handle's lookups, dlerror per
 * thread, dlclose counting, dladdr; the one-copy rule next to glibc's dlopen; and the ported
 * dlopen program (examples/dlhost.c), dynamic and -static.
 *
 * Where glibc has the same case, its dlopen is the oracle: the case runs again in a child process
 * with glibc's functions, and both must agree. Fixtures: fixtures/dlfcn/README. Criterion runs
 * each test in a process of its own, so what a test loads stays in that test.
 */
#include "helpers.h"
#include "plugin.h"
#include "plugin_dlfcn.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void *(*opener_fn)(const char *name, int mode);
typedef void *(*caller_open_fn)(opener_fn opener, const char *name, int mode);
typedef const char *(*str_fn)(void);
typedef int (*int_fn)(void);
typedef void *(*sym_fn)(void *handle, const char *name);

static const char *dlf(const char *name)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/dlfcn/%s", FIXTURE_DIR, name);
    return b;
}

/* Run fn in a child process; its exit code (-1 when it did not exit). */
static int in_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(fn());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* plugin_dlopen that must succeed. */
static void *must_dlopen(const char *file, int mode)
{
    void *h = plugin_dlopen(file, mode);
    cr_assert_not_null(h, "plugin_dlopen(%s): %s", file ? file : "NULL", plugin_dlerror());
    return h;
}

/* ---- search by name from the calling object ------------------------------------------------ */

Test(dlfcn, name_found_through_the_callers_runpath)
{
    /* From the test executable the name is found nowhere... */
    cr_assert_null(plugin_dlopen("libdltarget.so", PLUGIN_RTLD_NOW));
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "libdltarget.so") && strstr(msg, "not found"), "%s", msg ? msg : "(none)");
    /* ...from dl_caller.so (one of our plugins), its DT_RUNPATH $ORIGIN/hidden finds it. */
    void *caller = must_dlopen(dlf("dl_caller.so"), PLUGIN_RTLD_NOW);
    caller_open_fn open_from = (caller_open_fn)plugin_dlsym(caller, "dl_caller_open");
    cr_assert_not_null(open_from);
    void *h = open_from(plugin_dlopen, "libdltarget.so", PLUGIN_RTLD_NOW);
    cr_assert_not_null(h, "%s", plugin_dlerror());
    cr_assert_str_eq(plugin_path(h), dlf("hidden/libdltarget.so"));
    cr_assert_eq(((int_fn)plugin_dlsym(h, "dl_target_value"))(), 31);
}

/* glibc's own dlopen, from libc.so.6 (glibc 2.34+ has it there): under the sanitizers the test's
 * `dlopen` is their interceptor, which would make itself glibc's caller. */
static opener_fn libc_dlopen(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    return libc ? (opener_fn)dlsym(libc, "dlopen") : NULL;
}

static int glibc_runpath_case(void)
{
    if (dlopen("libdltarget.so", RTLD_NOW))
        return 1;                                   /* not from the executable */
    void *caller = dlopen(dlf("dl_caller.so"), RTLD_NOW);
    caller_open_fn open_from = caller ? (caller_open_fn)dlsym(caller, "dl_caller_open") : NULL;
    opener_fn real = libc_dlopen();
    void *h = open_from && real ? open_from(real, "libdltarget.so", RTLD_NOW) : NULL;
    return h ? 0 : 2;
}

Test(dlfcn, name_found_through_the_runpath_of_a_host_library)
{
    cr_assert_eq(in_child(glibc_runpath_case), 0, "glibc (the oracle) disagrees with the fixture");
    /* dl_caller.so loaded by glibc's dlopen: a library of the process, not ours. */
    void *caller = dlopen(dlf("dl_caller.so"), RTLD_NOW);
    cr_assert_not_null(caller, "%s", dlerror());
    caller_open_fn open_from = (caller_open_fn)dlsym(caller, "dl_caller_open");
    void *h = open_from(plugin_dlopen, "libdltarget.so", PLUGIN_RTLD_NOW);
    cr_assert_not_null(h, "%s", plugin_dlerror());
    cr_assert_str_eq(plugin_path(h), dlf("hidden/libdltarget.so"));
}

Test(dlfcn, name_found_through_ld_library_path)
{
    cr_assert_null(plugin_dlopen("libdltarget.so", PLUGIN_RTLD_NOW));
    setenv("LD_LIBRARY_PATH", dlf("hidden"), 1);
    void *h = must_dlopen("libdltarget.so", PLUGIN_RTLD_NOW);
    cr_assert_str_eq(plugin_path(h), dlf("hidden/libdltarget.so"));
    /* By name again: the object already loaded, matched by soname, whatever the search says. */
    unsetenv("LD_LIBRARY_PATH");
    cr_assert_eq(must_dlopen("libdltarget.so", PLUGIN_RTLD_NOW), h);
}

Test(dlfcn, name_of_an_object_the_process_has)
{
    void *libc = must_dlopen("libc.so.6", PLUGIN_RTLD_NOW);
    cr_assert_eq(plugin_dlsym(libc, "getpid"), dlsym(RTLD_DEFAULT, "getpid"));
}

Test(dlfcn, path_names)
{
    void *h = must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_LAZY);     /* LAZY: accepted, bound now */
    cr_assert_eq(h, plugin_open(dlf("libdlbase.so"), NULL));
    cr_assert_eq(((int_fn)plugin_dlsym(h, "dl_value"))(), 10);
    cr_assert_null(plugin_dlopen(dlf("no_such.so"), PLUGIN_RTLD_NOW));
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "no_such.so") && strstr(msg, "cannot open"), "%s", msg ? msg : "(none)");
}

/* ---- mode flags ---------------------------------------------------------------------------- */

Test(dlfcn, unknown_and_missing_mode_flags)
{
    cr_assert_null(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | 0x8));   /* RTLD_DEEPBIND */
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "unknown mode flags 0x8"), "%s", msg ? msg : "(none)");
    cr_assert_null(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_GLOBAL));      /* neither LAZY nor NOW */
    msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "RTLD_LAZY or RTLD_NOW is required"), "%s", msg ? msg : "(none)");
    cr_assert_null(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD),
                   "the refused calls loaded nothing");
    cr_assert_not_null(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_NODELETE));
}

Test(dlfcn, noload)
{
    char *before = maps_snapshot();
    cr_assert_null(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD));
    cr_assert_null(plugin_dlopen("libdlbase.so", PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD));
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "RTLD_NOLOAD"), "%s", msg ? msg : "(none)");
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after, "RTLD_NOLOAD mapped something");
    void *h = must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW);
    cr_assert_eq(plugin_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD), h);
    cr_assert_eq(plugin_dlopen("libdlbase.so", PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD), h, "by soname");
    free(before);
    free(after);
}

static int glibc_global_case(void)
{
    if (dlopen(dlf("dl_glob_user.so"), RTLD_NOW))
        return 1;
    if (!dlopen(dlf("libdlglob.so"), RTLD_NOW | RTLD_LOCAL) || dlopen(dlf("dl_glob_user.so"), RTLD_NOW))
        return 2;                                   /* LOCAL: still not served */
    if (!dlopen(dlf("libdlglob.so"), RTLD_NOW | RTLD_GLOBAL))
        return 3;                                   /* promoted to GLOBAL */
    void *u = dlopen(dlf("dl_glob_user.so"), RTLD_NOW);
    return u && strcmp(((str_fn)dlsym(u, "dl_glob_user"))(), "glob") == 0 ? 0 : 4;
}

Test(dlfcn, global_serves_later_loads_local_does_not)
{
    cr_assert_eq(in_child(glibc_global_case), 0, "glibc (the oracle) disagrees with the fixture");
    cr_assert_null(plugin_dlopen(dlf("dl_glob_user.so"), PLUGIN_RTLD_NOW));
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "dl_glob_name"), "%s", msg ? msg : "(none)");
    void *g = must_dlopen(dlf("libdlglob.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_LOCAL);
    cr_assert_null(plugin_dlopen(dlf("dl_glob_user.so"), PLUGIN_RTLD_NOW), "RTLD_LOCAL served a later load");
    cr_assert_null(plugin_dlsym(PLUGIN_RTLD_DEFAULT, "dl_glob_name"), "RTLD_LOCAL object in RTLD_DEFAULT");
    cr_assert_eq(must_dlopen(dlf("libdlglob.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_GLOBAL), g);
    void *u = must_dlopen(dlf("dl_glob_user.so"), PLUGIN_RTLD_NOW);
    cr_assert_str_eq(((str_fn)plugin_dlsym(u, "dl_glob_user"))(), "glob");
    /* plugin_open binds to it too: the global objects serve every later load. */
    cr_assert_eq(plugin_dlsym(PLUGIN_RTLD_DEFAULT, "dl_glob_name"), plugin_dlsym(g, "dl_glob_name"));
}

/* ---- the program's handle, RTLD_DEFAULT, RTLD_NEXT ----------------------------------------- */

Test(dlfcn, program_handle_and_default)
{
    void *prog = must_dlopen(NULL, PLUGIN_RTLD_NOW);
    cr_assert_eq(plugin_dlopen(NULL, PLUGIN_RTLD_LAZY), prog);
    cr_assert_eq(plugin_dlopen("", PLUGIN_RTLD_NOW), prog, "glibc: \"\" is the program too");
    cr_assert_eq(plugin_dlsym(prog, "getpid"), dlsym(RTLD_DEFAULT, "getpid"));
    cr_assert_eq(plugin_dlsym(PLUGIN_RTLD_DEFAULT, "getpid"), dlsym(RTLD_DEFAULT, "getpid"));
    cr_assert_null(plugin_dlsym(prog, "dl_value"));
    must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW);                   /* LOCAL: not seen */
    cr_assert_null(plugin_dlsym(prog, "dl_value"));
    cr_assert_null(plugin_dlsym(PLUGIN_RTLD_DEFAULT, "dl_value"));
    void *g = must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_GLOBAL);
    cr_assert_not_null(plugin_dlsym(prog, "dl_value"));
    cr_assert_eq(plugin_dlsym(prog, "dl_value"), plugin_dlsym(g, "dl_value"));
    cr_assert_eq(plugin_dlsym(PLUGIN_RTLD_DEFAULT, "dl_value"), plugin_dlsym(g, "dl_value"));
    cr_assert_eq(plugin_dlclose(prog), 0);
    cr_assert_eq(plugin_dlclose(prog), 0, "closing the program's handle is always fine");
}

static int glibc_next_case(void)
{
    void *w = dlopen(dlf("dl_wrap.so"), RTLD_NOW | RTLD_GLOBAL);
    if (!w)
        return 1;
    ((void (*)(sym_fn))dlsym(w, "dl_wrap_set"))(dlsym);
    return ((int_fn)dlsym(RTLD_DEFAULT, "dl_value"))();
}

Test(dlfcn, rtld_next_interposer)
{
    cr_assert_eq(in_child(glibc_next_case), 11, "glibc (the oracle) disagrees with the fixture");
    void *w = must_dlopen(dlf("dl_wrap.so"), PLUGIN_RTLD_NOW | PLUGIN_RTLD_GLOBAL);   /* and libdlbase.so */
    ((void (*)(sym_fn))plugin_dlsym(w, "dl_wrap_set"))(plugin_dlsym);
    int_fn v = (int_fn)plugin_dlsym(PLUGIN_RTLD_DEFAULT, "dl_value");
    cr_assert_eq((void *)v, plugin_dlsym(w, "dl_value"), "the first GLOBAL object wins");
    cr_assert_eq(v(), 11, "the wrapper's RTLD_NEXT is libdlbase.so's dl_value");
    void *b = must_dlopen("libdlbase.so", PLUGIN_RTLD_NOW | PLUGIN_RTLD_NOLOAD);
    cr_assert_eq(((int_fn)plugin_dlsym(b, "dl_value"))(), 10);
    /* From the executable, RTLD_NEXT skips it: libc's getpid. */
    cr_assert_eq(plugin_dlsym(PLUGIN_RTLD_NEXT, "getpid"), dlsym(RTLD_DEFAULT, "getpid"));
}

/* ---- a handle's lookups: the object, then its dependencies breadth-first ------------------- */

static int glibc_bfs_case(void)
{
    void *h = dlopen(dlf("dl_bfs_root.so"), RTLD_NOW);
    str_fn f = h ? (str_fn)dlsym(h, "bfs_name") : NULL;
    return f && strcmp(f(), "b") == 0 ? 0 : 1;
}

Test(dlfcn, handle_lookups_are_breadth_first)
{
    cr_assert_eq(in_child(glibc_bfs_case), 0, "glibc (the oracle) finds another bfs_name");
    void *h = must_dlopen(dlf("dl_bfs_root.so"), PLUGIN_RTLD_NOW);
    cr_assert_str_eq(((str_fn)plugin_dlsym(h, "bfs_name"))(), "b", "root, a, b, deep: b comes before deep");
    cr_assert_str_eq(((str_fn)plugin_dlsym(h, "a_name"))(), "a");
    cr_assert_str_eq(((str_fn)plugin_dlsym(h, "root_name"))(), "root");
    cr_assert_null(plugin_lookup(h, "bfs_name", NULL), "plugin_lookup searches the object alone");
    cr_assert_null(plugin_dlsym(h, "dl_value"));
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "undefined symbol dl_value"), "%s", msg ? msg : "(none)");
    cr_assert_null(plugin_dlsym((void *)msg, "x"), "a pointer that is no handle");
    msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "not a handle"), "%s", msg ? msg : "(none)");
}

Test(dlfcn, dlvsym)
{
    void *libc = must_dlopen("libc.so.6", PLUGIN_RTLD_NOW);
    cr_assert_eq(plugin_dlvsym(libc, "memcpy", GLIBC_MEMCPY), dlvsym(RTLD_DEFAULT, "memcpy", GLIBC_MEMCPY));
    cr_assert_null(plugin_dlvsym(libc, "memcpy", "GLIBC_0.0"));
    cr_assert_not_null(plugin_dlerror());
}

/* ---- dlerror, dlclose, dladdr -------------------------------------------------------------- */

static void *other_thread(void *arg)
{
    (void)arg;
    const char *before = plugin_dlerror();
    bool ok = before == NULL;                                   /* the main thread's error is not ours */
    ok &= plugin_dlopen(dlf("nothing_here.so"), PLUGIN_RTLD_NOW) == NULL;
    const char *mine = plugin_dlerror();
    ok &= mine && strstr(mine, "nothing_here.so") != NULL;
    ok &= plugin_dlerror() == NULL;
    return (void *)(uintptr_t)ok;
}

Test(dlfcn, dlerror_is_per_thread_and_cleared)
{
    cr_assert_null(plugin_dlerror(), "no error yet");
    cr_assert_null(plugin_dlopen(dlf("missing_main.so"), PLUGIN_RTLD_NOW));
    pthread_t t;
    void *ok;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    cr_assert_eq(pthread_join(t, &ok), 0);
    cr_assert(ok, "the other thread saw a wrong dlerror");
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "missing_main.so"), "%s", msg ? msg : "(none)");
    cr_assert_null(plugin_dlerror(), "returned once, then cleared");
    must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW);
    cr_assert_null(plugin_dlerror(), "a success sets nothing");
}

Test(dlfcn, dlclose_counts)
{
    void *h = must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW);
    cr_assert_eq(must_dlopen("libdlbase.so", PLUGIN_RTLD_NOW), h);
    cr_assert_eq(plugin_dlclose(h), 0);
    cr_assert_eq(plugin_dlclose(h), 0);
    cr_assert_neq(plugin_dlclose(h), 0, "a third close of two opens");
    const char *msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "already closed"), "%s", msg ? msg : "(none)");
    cr_assert_eq(((int_fn)plugin_dlsym(h, "dl_value"))(), 10, "nothing was unmapped");
    plugin *p = plugin_open(dlf("dl_wrap.so"), NULL);
    cr_assert_neq(plugin_dlclose(p), 0, "a handle plugin_dlopen never returned");
    msg = plugin_dlerror();
    cr_assert(msg && strstr(msg, "not a handle from dlopen"), "%s", msg ? msg : "(none)");
    cr_assert_eq(must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW), h);
    cr_assert_eq(plugin_dlclose(h), 0, "opened again: counted again");
}

Test(dlfcn, dladdr)
{
    void *h = must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW);
    void *f = plugin_dlsym(h, "dl_value");
    plugin_dl_info info;
    struct plugin_addr_info a;
    cr_assert_neq(plugin_dladdr((char *)f + 1, &info), 0);
    cr_assert_eq(plugin_addr_info((char *)f + 1, &a), 1);
    cr_assert_str_eq(info.dli_fname, dlf("libdlbase.so"));
    cr_assert_str_eq(info.dli_sname, "dl_value");
    cr_assert_eq(info.dli_saddr, f);
    cr_assert_eq(info.dli_fbase, a.base);
    /* A library of the process: glibc's dladdr gives the same answer. */
    Dl_info g;
    void *getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
    cr_assert_neq(dladdr(getpid_addr, &g), 0);
    cr_assert_neq(plugin_dladdr(getpid_addr, &info), 0);
    cr_assert_str_eq(info.dli_fname, g.dli_fname);
    cr_assert_eq(info.dli_fbase, g.dli_fbase);
    cr_assert_str_eq(info.dli_sname, g.dli_sname);
    cr_assert_eq(info.dli_saddr, g.dli_saddr);
    cr_assert_eq(plugin_dladdr((void *)16, &info), 0);
}

/* ---- next to glibc's dlopen: one copy ------------------------------------------------------ */

Test(dlfcn, object_glibc_loaded_before_is_reused)
{
    void *g = dlopen(dlf("libdlbase.so"), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(g, "%s", dlerror());
    void *h = must_dlopen("libdlbase.so", PLUGIN_RTLD_NOW);           /* by name */
    cr_assert_eq(plugin_lookup(h, "dl_value", NULL), dlsym(g, "dl_value"), "a second copy was mapped");
    cr_assert_eq(must_dlopen(dlf("libdlbase.so"), PLUGIN_RTLD_NOW), h, "by path: the same object");
}

/* ---- the ported program (examples/dlhost.c) ------------------------------------------------ */

static void run_dlhost(const char *host)
{
    char exe[512], upper[512], count[512];
    snprintf(exe, sizeof exe, "%s/tests/%s", BUILD_DIR, host);
    snprintf(upper, sizeof upper, "%s/examples", BUILD_DIR);
    setenv("LD_LIBRARY_PATH", upper, 1);                        /* dlmod_upper.so is opened by name */
    snprintf(count, sizeof count, "%s/examples/dlmod_count.so", BUILD_DIR);
    char *argv[] = { exe, "dlmod_upper.so", count, count, "no_such_module.so", NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 1, "exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "upper: module_run is in dlmod_upper.so\n> DLMOD_UPPER.SO\nupper: returned 14\n"),
              "%s\n%s", r.out, r.err);
    cr_assert(strstr(r.out, "count: module_run is in dlmod_count.so\n"), "%s", r.out);
    char want[128];
    int n = 0;
    for (const char *p = count; *p; p++)
        n += *p == '/';
    snprintf(want, sizeof want, "slashes: %d (total %d)\ncount: returned %d\n", n, 2 * n, 2 * n);
    cr_assert(strstr(r.out, want), "the second open is the same object (%s):\n%s", want, r.out);
    cr_assert(strstr(r.err, "dlhost: plugin: no_such_module.so: library no_such_module.so not found"), "%s", r.err);
}

Test(dlfcn, ported_program_dynamic)
{
    run_dlhost("dlhost");
}

Test(dlfcn, ported_program_static)
{
    run_dlhost("dlhost_static");
}
