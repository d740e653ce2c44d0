/*
 * test_cxx.c — a C++ plugin (fixtures/cxx/cxx_plugin.cpp, mk/cxx.mk) with libstdc++ (issue 5).
 *
 * In this process (a C program: no libstdc++ of its own, so the plugin's libstdc++.so.6 and
 * libgcc_s.so.1 are loaded by us, unless glibc already has libgcc_s):
 *   - the static constructor ran once, before plugin_open returned; the destructor is registered
 *     through __cxa_atexit (the file imports it);
 *   - std::string / std::vector / std::map inside, results handed out as C strings;
 *   - exceptions thrown and caught inside the plugin (the unwinder finds the plugin's and
 *     libstdc++'s frames only because loader/elf/eh_frame.c registered their .eh_frame);
 *   - backtrace() from a plugin function: its frames are named by plugin_addr_info.
 * In a child process, tests/cxx_host.cpp (a C++ host linking libplugin.a): values returned by
 * value across the boundary, a plugin exception caught by the host, a host exception through a
 * plugin frame, backtrace through three plugin frames, destructors at exit in __cxa_atexit order.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#define CXX_FIX "cxx/cxx_plugin.so"

Test(cxx, static_constructor_ran_once_and_destructor_goes_to_cxa_atexit)
{
    plugin *p = open_fixture(CXX_FIX);
    int (*constructed)(void) = (int (*)(void))must_lookup(p, "cxx_constructed");
    const char *(*name)(void) = (const char *(*)(void))must_lookup(p, "cxx_global_name");
    int (*primes)(void) = (int (*)(void))must_lookup(p, "cxx_global_prime_sum");
    cr_assert_eq(constructed(), 1);
    cr_assert_str_eq(name(), "cxx_global");
    cr_assert_eq(primes(), 2 + 3 + 5 + 7 + 11);
    cr_assert_eq(open_fixture(CXX_FIX), p);
    cr_assert_eq(constructed(), 1, "opening again ran the constructor again");
    char *undef = file_undefined_dynsyms(fixture(CXX_FIX));
    cr_assert_not_null(strstr(undef, "__cxa_atexit "), "the destructor is not registered through "
                       "__cxa_atexit: imports are %s", undef);
    free(undef);
}

Test(cxx, std_containers_inside_the_plugin)
{
    plugin *p = open_fixture(CXX_FIX);
    size_t (*summary)(const char *, char *, size_t) =
        (size_t (*)(const char *, char *, size_t))must_lookup(p, "cxx_word_summary");
    char out[128];
    cr_assert_eq(summary("the cat saw the dog at the end", out, sizeof out), 34);
    cr_assert_str_eq(out, "at=1 cat=1 dog=1 end=1 saw=1 the=3");
    cr_assert_eq(summary("", out, sizeof out), 0);
    cr_assert_str_eq(out, "");
}

struct lines {
    char text[8192];
};
/* Keeps the trace lines about unwind tables and initializer calls (the rest is thousands of
 * bindings). */
static void collect(void *ctx, const struct plugin_trace_event *ev)
{
    const char *line = ev->text;
    struct lines *l = ctx;
    if (!strstr(line, "unwind tables") && !strstr(line, ": calling DT_INIT"))
        return;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s\n", line);
}

Test(cxx, exceptions_thrown_and_caught_inside_the_plugin)
{
    struct lines tr = { "" };
    struct plugin_options opts = { .trace = collect, .trace_ctx = &tr };
    plugin_error err;
    plugin *p = plugin_open_with(fixture(CXX_FIX), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    /* The tables went to an unwinder (ours from libgcc_s.so.1 loaded with the plugin, or glibc's
     * copy when the process already had one), before the initializers ran. */
    const char *reg = strstr(tr.text, "unwind tables: ");
    cr_assert_not_null(reg, "no unwind tables registered:\n%s", tr.text);
    cr_assert_not_null(strstr(tr.text, "registered with "), "%s", tr.text);
    const char *first_init = strstr(tr.text, ": calling DT_INIT");
    cr_assert_not_null(first_init, "%s", tr.text);
    cr_assert_lt(reg, first_init, "tables registered after an initializer ran:\n%s", tr.text);

    int (*catch_inside)(int, char *, size_t) = (int (*)(int, char *, size_t))must_lookup(p, "cxx_catch_inside");
    int (*cleanups)(void) = (int (*)(void))must_lookup(p, "cxx_cleanups");
    char what[256] = "";
    cr_assert_eq(catch_inside(1, what, sizeof what), 0);
    cr_assert_eq(cleanups(), 1);            /* the try block's local, destroyed normally */
    cr_assert_eq(catch_inside(-3, what, sizeof what), 1);
    cr_assert_str_eq(what, "negative: -3");
    cr_assert_eq(cleanups(), 2, "the local's destructor did not run during unwinding");
    cr_assert_eq(catch_inside(5, what, sizeof what), 2);
    cr_assert_not_null(strstr(what, "_M_range_check"), "what() is \"%s\"", what);
    cr_assert_eq(cleanups(), 3);
    for (int i = 0; i < 1000; i++)          /* many throws: no leak of state between them */
        cr_assert_eq(catch_inside(-i - 1, what, sizeof what), 1);
}

/* The names plugin_addr_info gives the frames (return address - 1: inside the call), and the
 * index of the first frame outside the plugin in *outside. */
/* Under ASan, backtrace() is intercepted: the sanitizer runtime's leading frames are dropped
 * (frames and n are updated), so frame 0 is the plugin function that called backtrace(). */
static bool in_sanitizer(const void *frame)
{
    struct plugin_addr_info info;
    return plugin_addr_info((const char *)frame - 1, &info) &&
           (strstr(info.path, "/libasan.") || strstr(info.path, "/libubsan."));
}

static void *const *skip_sanitizer(void *const *frames, int *n)
{
    while (*n > 0 && in_sanitizer(frames[0]))
        frames++, (*n)--;
    return frames;
}

static void frame_names(void *const *frames, int n, char names[][64], int *outside)
{
    const char *path = fixture(CXX_FIX);
    *outside = -1;
    for (int i = 0; i < n; i++) {
        struct plugin_addr_info info;
        names[i][0] = '\0';
        if (!plugin_addr_info((char *)frames[i] - 1, &info))
            continue;
        snprintf(names[i], 64, "%s", info.symbol ? info.symbol : "?");
        if (*outside < 0 && strcmp(info.path, path) != 0)
            *outside = i;
    }
}

/* The first frame is the plugin function that called backtrace(), whichever copy of libgcc's
 * unwinder glibc uses (it loads libgcc_s.so.1 itself on the first backtrace(); when that copy is
 * not the one we registered with, the walk stops at the first plugin frame). */
Test(cxx, backtrace_from_a_plugin_names_the_plugin_function)
{
    plugin *p = open_fixture(CXX_FIX);
    int (*bt)(void **, int) = (int (*)(void **, int))must_lookup(p, "cxx_backtrace");
    void *raw[64];
    int n = bt(raw, 64);
    void *const *frames = skip_sanitizer(raw, &n);
    cr_assert_geq(n, 1);
    struct plugin_addr_info info;
    cr_assert_eq(plugin_addr_info((char *)frames[0] - 1, &info), 1);
    cr_assert_str_eq(info.path, fixture(CXX_FIX));
    cr_assert_not_null(info.symbol);
    cr_assert_str_eq(info.symbol, "cxx_bt_inner");
}

/* glibc's unwinder already in the process when the plugin is opened (a backtrace() before it
 * made glibc load libgcc_s.so.1; a C++ program has it from the start): the plugin's libgcc_s
 * dependency is that copy, the plugin's tables are registered with it, and the walk goes through
 * all three plugin frames and on into this test. */
Test(cxx, backtrace_walks_through_plugin_frames)
{
    void *warm[4];
    cr_assert_geq(backtrace(warm, 4), 1);
    plugin *p = open_fixture(CXX_FIX);
    int (*bt)(void **, int) = (int (*)(void **, int))must_lookup(p, "cxx_backtrace");
    void *raw[64];
    char names[64][64];
    int n = bt(raw, 64), outside;
    void *const *frames = skip_sanitizer(raw, &n);
    cr_assert_geq(n, 4, "only %d frames", n);
    frame_names(frames, n, names, &outside);
    cr_assert_str_eq(names[0], "cxx_bt_inner");
    cr_assert_str_eq(names[1], "cxx_bt_middle");
    cr_assert_str_eq(names[2], "cxx_backtrace");
    cr_assert_eq(outside, 3, "the walk did not leave the plugin after cxx_backtrace (first frame outside: %d)",
                 outside);
    cr_assert_lt(outside, n);
}

/* The C++ host: catches what the plugin throws, and more (tests/cxx_host.cpp lists its lines). */
Test(cxx, cxx_host_catches_plugin_exceptions_and_runs_destructors_at_exit)
{
    char *argv[] = { BUILD_DIR "/tests/cxx_host", (char *)fixture(CXX_FIX), NULL };
    char *out = NULL, *errs = NULL;
    int st = run_capture(argv, &out, &errs);
    cr_assert_neq(st, -1, "cannot run %s", argv[0]);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x\nstdout:\n%s\nstderr:\n%s", st, out, errs);
    const char *expect[] = {
        "ctor=1 name=cxx_global primes=28\n",
        "greeting=hello, host!\n",
        "squares=1 4 9 16 25\n",
        "words=a:2 b:1 c:3\n",
        "caught runtime_error: plugin says: boom; cleanups=1\n",
        "relayed logic_error: from the host 7; cleanups=2\n",
        "bt: cxx_bt_inner cxx_bt_middle cxx_backtrace",
        "main: returning\n",
        "plugin global destroyed: cxx_global\n",
        "host global destroyed\n",
    };
    const char *at = out;
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        const char *hit = strstr(at, expect[i]);
        cr_assert_not_null(hit, "missing (or out of order): \"%s\"\nstdout:\n%s\nstderr:\n%s", expect[i], out, errs);
        at = hit + strlen(expect[i]);
    }
    free(out);
    free(errs);
}
