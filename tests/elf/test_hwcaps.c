/*
 * test_hwcaps.c — glibc-hwcaps subdirectories in the dependency search (fixtures/hwcaps/, built
 * by mk/ldso.mk). libhw.so exists in a directory and in its glibc-hwcaps/<level>/ subdirectories,
 * each copy returning its level from hw_level() (1 for the directory itself), so a call tells
 * which copy was chosen:
 *   a/  the directory, x86-64-v2/ and x86-64-v9/ (a level no CPU has: never used)
 *   b/  the directory, x86-64-v2/, -v3/ and -v4/: the best level this CPU supports wins
 * The oracles: the system's ld.so, which lists the subdirectories it searches (ld.so --help),
 * and glibc's dlopen of the same plugin in a child process. On aarch64 glibc 2.36 has no
 * subdirectories at all, so there the directory itself is always used.
 */
#include "helpers.h"
#include "elf/hwcaps.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SYSTEM_LD_SO "/lib64/ld-linux-x86-64.so.2"
#else
#define SYSTEM_LD_SO "/lib/ld-linux-aarch64.so.1"
#endif

/* The level of the best subdirectory this CPU uses among x86-64-v2..v<max> (1: none). */
static int best_level_up_to(int max)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    for (size_t i = 0; i < h->n; i++) {
        int level = 0;
        if (sscanf(h->names[i], "x86-64-v%d", &level) == 1 && level <= max)
            return level;
    }
    return 1;
}

static int call_hw_user(plugin *p)
{
    return ((int (*)(void))must_lookup(p, "hw_user"))();
}

/* The oracle: glibc's dlopen of path in a child; what its hw_user() returns (-1: failed). */
static int glibc_hw_user(const char *path)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        int (*f)(void) = h ? (int (*)(void))dlsym(h, "hw_user") : NULL;
        int v = f ? f() : -1;
        ssize_t w = write(fds[1], &v, sizeof v);
        _exit(w == (ssize_t)sizeof v ? 0 : 1);
    }
    close(fds[1]);
    int v = -1, status;
    ssize_t got = read(fds[0], &v, sizeof v);
    close(fds[0]);
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof v ? v : -1;
}

/* The subdirectories ld.so --help lists as "supported, searched", in its priority order, joined
 * by spaces ("" when it says it searches none, as on aarch64); NULL when ld.so cannot be run
 * here or prints neither. */
static char *ld_so_searched(void)
{
    char *argv[] = { SYSTEM_LD_SO, "--help", NULL };
    if (access(SYSTEM_LD_SO, X_OK) != 0)
        return NULL;
    struct run r = run_program(argv);
    char *list = calloc(1, strlen(r.out) + 1);
    const char *sec = strstr(r.out, "Subdirectories of glibc-hwcaps directories");
    const char *line = sec ? strchr(sec, '\n') : NULL;
    while (line && line[1] == ' ') {                   /* the section's lines are indented */
        char text[256], name[64];
        size_t len = strcspn(line + 1, "\n");
        snprintf(text, sizeof text, "%.*s", (int)len, line + 1);
        if (sscanf(text, " %63s", name) == 1 && strstr(text, "(supported, searched)"))
            strcat(strcat(list, list[0] ? " " : ""), name);
        line = line[1 + len] ? line + 1 + len : NULL;
    }
    bool none = strstr(r.out, "No subdirectories of glibc-hwcaps directories are searched") != NULL;
    free(r.out);
    free(r.err);
    if (!sec && !none)
        free(list);
    return sec || none ? list : NULL;
}

Test(hwcaps, levels_are_those_the_system_ld_so_searches)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    char ours[256] = "";
    for (size_t i = 0; i < h->n; i++)
        strcat(strcat(ours, i ? " " : ""), h->names[i]);
#if defined(__aarch64__)
    cr_assert_eq(h->n, 0, "aarch64 has no glibc-hwcaps levels in glibc 2.36; we have: %s", ours);
#endif
    char *theirs = ld_so_searched();
    if (!theirs)
        cr_skip_test("%s --help does not run or lists no glibc-hwcaps subdirectories here", SYSTEM_LD_SO);
    cr_assert_str_eq(ours, theirs, "we search glibc-hwcaps/{%s}, %s searches {%s}", ours, SYSTEM_LD_SO, theirs);
    free(theirs);
}

/* b/ has v2, v3 and v4: the best this CPU supports is chosen, as glibc's dlopen chooses. */
Test(hwcaps, runpath_directory_prefers_the_best_supported_level)
{
    const char *path = fixture("hwcaps/user_b.so");
    int want = best_level_up_to(4);
    int glibc = glibc_hw_user(path);
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "%s", err.message);
    int got = call_hw_user(p);
    cr_assert_eq(got, want, "libhw.so of level %d chosen, want %d", got, want);
    cr_assert_eq(got, glibc, "we chose the copy of level %d, glibc's dlopen the one of level %d", got, glibc);
}

/* a/ has v2 and a level that does not exist (x86-64-v9): v2 when the CPU has it, never v9. */
Test(hwcaps, unknown_level_directory_is_never_used)
{
    const char *path = fixture("hwcaps/user_a.so");
    int want = best_level_up_to(2);
    int glibc = glibc_hw_user(path);
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "%s", err.message);
    int got = call_hw_user(p);
    cr_assert_neq(got, 9, "glibc-hwcaps/x86-64-v9/ was used");
    cr_assert_eq(got, want, "libhw.so of level %d chosen, want %d", got, want);
    cr_assert_eq(got, glibc, "we chose the copy of level %d, glibc's dlopen the one of level %d", got, glibc);
}

Test(hwcaps, v2_directory_is_chosen_when_the_cpu_has_v2)
{
    if (best_level_up_to(2) != 2)
        cr_skip_test("this CPU (or lane) supports no x86-64-v2: no glibc-hwcaps subdirectory applies");
    plugin_error err;
    plugin *p = plugin_open(fixture("hwcaps/user_a.so"), &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(call_hw_user(p), 2);
}

/* search_paths and LD_LIBRARY_PATH directories get their glibc-hwcaps subdirectories too. */
static void check_list(const char *what, const char *want_via)
{
    static struct tracebuf t;
    const char *const paths[] = { FIXTURE_DIR "/hwcaps/b", NULL };
    struct plugin_options o = { .trace = trace_collect, .trace_ctx = &t };
    if (strcmp(what, "search_paths") == 0)
        o.search_paths = paths;
    else
        setenv("LD_LIBRARY_PATH", paths[0], 1);
    plugin_error err;
    plugin *p = plugin_open_with(fixture("hwcaps/user_bare.so"), &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    int want = best_level_up_to(4);
    cr_assert_eq(call_hw_user(p), want, "%s: level %d chosen, want %d", what, call_hw_user(p), want);
    char line[256];
    if (want > 1)
        snprintf(line, sizeof line, "found %s/glibc-hwcaps/x86-64-v%d/libhw.so (%s, glibc-hwcaps/x86-64-v%d)",
                 paths[0], want, want_via, want);
    else
        snprintf(line, sizeof line, "found %s/libhw.so (%s)", paths[0], want_via);
    cr_assert_not_null(strstr(t.text, line), "no \"%s\" in the trace:\n%s", line, t.text);
}

Test(hwcaps, search_paths_directories_have_subdirectories) { check_list("search_paths", "search_paths"); }
Test(hwcaps, ld_library_path_directories_have_subdirectories) { check_list("LD_LIBRARY_PATH", "LD_LIBRARY_PATH"); }
