/*
 * test_tour.c — docs/tour.md cannot drift from what the loader prints.
 *
 * The tour quotes real command output (`$ build/plugin load --trace ...` blocks). The checker,
 * scripts/tour.py, runs every quoted command again and compares after normalizing what varies
 * between runs and machines (addresses as offsets inside their object, the checkout's path,
 * times); it also checks that every `file.c:function()` the tour cites exists. These tests run
 * it in check mode on the tour itself, and show that it fails when a quote is edited (so the
 * first test can fail) and that update mode (`make tour`) repairs such a quote, elisions kept.
 *
 * Native x86-64 lane, plain build only: the quotes are that CPU's output (relocation names,
 * Mach-O x86_64 fixtures) from build/plugin. Under qemu (the aarch64 lane) and in the sanitized
 * builds (build/san: the sanitizer runtime loads libgcc_s, which changes the unwind-table trace
 * lines, and fixtures linked there carry longer install names) the tests skip, saying so.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BUILD_DIR
#error "BUILD_DIR must be defined by the build (mk/tests.mk)"
#endif

/* The checkout: BUILD_DIR less its last "/build" component and what follows it ("/build",
 * "/build/san"). The build directory relative to it goes to the checker's --build. */
static void checkout(char root[PATH_MAX], const char **build)
{
    const char *b = BUILD_DIR, *cut = NULL;
    for (const char *p = strstr(b, "/build"); p; p = strstr(p + 1, "/build"))
        if (p[6] == '\0' || (p[6] == '/' && !strchr(p + 7, '/')))
            cut = p;
    cr_assert_not_null(cut, "BUILD_DIR %s does not end in /build or /build/NAME", b);
    snprintf(root, PATH_MAX, "%.*s", (int)(cut - b), b);
    *build = cut + 1;
}

/* python3 scripts/tour.py MODE --build DIR FILE (FILE NULL: the checkout's docs/tour.md). */
static struct run tour(const char *mode, const char *file)
{
    char root[PATH_MAX], script[PATH_MAX + 32], doc[PATH_MAX + 32];
    const char *build;
    checkout(root, &build);
    snprintf(script, sizeof script, "%s/scripts/tour.py", root);
    snprintf(doc, sizeof doc, "%s/docs/tour.md", root);
    char *argv[] = { "/usr/bin/env", "python3", script, (char *)mode, "--build", (char *)build,
                     (char *)(file ? file : doc), NULL };
    return run_program(argv);
}

/* A copy of the tour in a fresh directory, with the first occurrence of from replaced by to. */
static char *edited_copy(const char *from, const char *to, char **dir)
{
    char root[PATH_MAX], doc[PATH_MAX + 32];
    const char *build;
    checkout(root, &build);
    snprintf(doc, sizeof doc, "%s/docs/tour.md", root);
    char *text = read_file(doc, NULL);
    char *at = strstr(text, from);
    cr_assert_not_null(at, "docs/tour.md no longer contains \"%s\" (the test edits it)", from);
    size_t head = (size_t)(at - text), len = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(len + 1);
    cr_assert_not_null(out);
    snprintf(out, len + 1, "%.*s%s%s", (int)head, text, to, at + strlen(from));
    *dir = make_temp_dir();
    char *path = malloc(strlen(*dir) + 16);
    cr_assert_not_null(path);
    sprintf(path, "%s/tour.md", *dir);
    write_file(path, out, strlen(out));
    free(text);
    free(out);
    return path;
}

static void remove_copy(char *path, char *dir)
{
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The tour quotes the plain x86-64 build: build/plugin and build/fixtures. Elsewhere the output
 * differs by design, so the tests skip, saying why. */
static void plain_native_only(void)
{
#ifdef UNDER_QEMU
    cr_skip_test("the tour quotes x86-64 output; this lane runs aarch64 under qemu");
#else
    char root[PATH_MAX];
    const char *build;
    checkout(root, &build);
    if (strcmp(build, "build") != 0)
        cr_skip_test("the tour quotes the plain build; in %s the CLI is sanitized (its runtime brings "
                     "libgcc_s: other unwind-table lines) and Mach-O install names are longer", build);
#endif
}

/* The tour as it is: every quote matches a fresh run, every cited function exists. */
Test(tour, quotes_match_the_loader)
{
    plain_native_only();
    struct run r = tour("--check", NULL);
    cr_expect_eq(r.code, 0, "docs/tour.md drifted (run `make tour` and review the diff):\n%s%s", r.out, r.err);
    cr_expect(strstr(r.out, " 0 drifted, 0 bad references") != NULL, "checker said:\n%s", r.out);
}

/* Edits the checker must catch: a count, a protection, a file offset, a cited function that
 * is not where the tour says or nowhere at all. */
Test(tour, an_edited_quote_fails)
{
    plain_native_only();
    static const char *const edits[][3] = {
        { "applied 6 R_X86_64_GLOB_DAT", "applied 7 R_X86_64_GLOB_DAT", "drifted" },
        { "mapped r-x ", "mapped rwx ", "drifted" },
        { "from file offset 0x1000", "from file offset 0x2000", "drifted" },
        { "`loader/core/api.c:load_object()`", "`loader/core/api.c:load_objects()`", "does not define" },
        { "`bind_rela()`", "`bind_relas()`", "no source file defines" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *dir, *path = edited_copy(edits[i][0], edits[i][1], &dir);
        struct run r = tour("--check", path);
        cr_expect_eq(r.code, 1, "edit %zu (%s): the checker exited %d:\n%s%s", i, edits[i][1], r.code, r.out, r.err);
        cr_expect(strstr(r.out, edits[i][2]) != NULL, "edit %zu: no \"%s\" in:\n%s", i, edits[i][2], r.out);
        remove_copy(path, dir);
    }
}

/* An address 8 bytes off: still inside the object, so only the offset from its start differs
 * (B+0x10f0 quoted as B+0x10f8, say) — what normalization must not hide. */
Test(tour, an_address_off_by_eight_fails)
{
    plain_native_only();
    char root[PATH_MAX], doc[PATH_MAX + 32], from[96], to[96];
    const char *build, *mark = "calling DT_INIT_ARRAY[0] at 0x";
    checkout(root, &build);
    snprintf(doc, sizeof doc, "%s/docs/tour.md", root);
    char *text = read_file(doc, NULL), *at = strstr(text, mark);
    cr_assert_not_null(at, "docs/tour.md no longer contains \"%s\"", mark);
    unsigned long long addr = strtoull(at + strlen(mark), NULL, 16);
    snprintf(from, sizeof from, "%s%llx", mark, addr);
    snprintf(to, sizeof to, "%s%llx", mark, addr + 8);
    free(text);
    char *dir, *path = edited_copy(from, to, &dir);
    struct run r = tour("--check", path);
    cr_expect_eq(r.code, 1, "the checker exited %d:\n%s%s", r.code, r.out, r.err);
    cr_expect(strstr(r.out, "drifted") && strstr(r.out, "}+0x"), "the diff does not show object offsets:\n%s", r.out);
    remove_copy(path, dir);
}

/* make tour's update mode puts the real output back, and keeps the "[...]" elisions. */
Test(tour, update_repairs_a_quote)
{
    plain_native_only();
    char *dir, *path = edited_copy("applied 2 R_X86_64_DTPOFF64", "applied 9 R_X86_64_DTPOFF64", &dir);
    char *before = read_file(path, NULL);
    struct run u = tour("--update", path);
    cr_assert_eq(u.code, 0, "update failed:\n%s%s", u.out, u.err);
    cr_expect(strstr(u.out, " 1 updated") != NULL, "update said:\n%s", u.out);
    char *after = read_file(path, NULL);
    cr_expect(strstr(after, "applied 2 R_X86_64_DTPOFF64") != NULL && !strstr(after, "applied 9 R_X86_64_DTPOFF64"),
              "the edited line was not repaired");
    cr_expect_eq(count_of(after, "\n[...]\n"), count_of(before, "\n[...]\n"), "elisions lost or added");
    struct run c = tour("--check", path);
    cr_expect_eq(c.code, 0, "the updated copy does not check:\n%s", c.out);
    free(before);
    free(after);
    remove_copy(path, dir);
}
