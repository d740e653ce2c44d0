/*
 * test_package.c — what `make install` ships, checked on the build: the version (plugin.h,
 * plugin_version(), plugin.pc), the shared library's soname, exports and needs, and the man
 * pages (they lint clean and cover every public function and every command and option of the
 * CLI).
 *
 * The exported set is compared with the public headers themselves: every `plugin_NAME(`
 * declaration and `extern` variable of the headers in include/, plus the debugger hook (plugin_debug,
 * plugin_debug_state: loader/core/debug.c) — so a function added to a header but not to
 * loader/libplugin.map fails here, and so does an internal symbol that leaks out. The man pages
 * are checked the same way: each declared function has a page or a link page (a `.\" links:`
 * line, scripts/man-links.sh). Tools used: nm, groff and man-db (scripts/deps.sh).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SOURCE_DIR
#error "SOURCE_DIR must be defined by the build (mk/tests.mk)"
#endif

#define SHARED_LIB BUILD_DIR "/libplugin.so"

/* ---- a list of names ---------------------------------------------------------------------- */

struct names {
    char *v[256];
    int n;
};

static int names_has(const struct names *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return 1;
    return 0;
}

/* Adds a copy of the first len bytes of name, once. */
static void names_add(struct names *s, const char *name, size_t len)
{
    char *copy = strndup(name, len);
    cr_assert_not_null(copy);
    if (names_has(s, copy)) {
        free(copy);
        return;
    }
    cr_assert_lt(s->n, 256, "too many names");
    s->v[s->n++] = copy;
}

/* The output of a shell command; the test fails when it does not exit 0. */
static char *shell(const char *cmd, char **err)
{
    char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "`%s` exited with %d:\n%s", cmd, r.code, r.err);
    if (err)
        *err = r.err;
    return r.out;
}

/* ---- what the public headers declare ------------------------------------------------------ */

/* Blanks out comments and preprocessor lines (with their continuation lines), in place, so that
 * what is left is the C declarations. */
static void strip_comments_and_directives(char *t)
{
    int line_start = 1;
    for (char *p = t; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end + 2 : p + strlen(p);
            memset(p, ' ', (size_t)(stop - p));
            p = stop - 1;
        } else if (p[0] == '/' && p[1] == '/') {
            for (; *p && *p != '\n'; p++)
                *p = ' ';
            p--;
        } else if (line_start && *p == '#') {
            /* Up to a newline that does not follow a backslash (blanked already: kept in prev). */
            for (char prev = 0; *p && !(*p == '\n' && prev != '\\'); p++) {
                prev = *p;
                if (*p != '\n')
                    *p = ' ';
            }
            p--;
        }
        if (*p == '\n')
            line_start = 1;
        else if (!isspace((unsigned char)*p))
            line_start = 0;
    }
}

/* One statement (text between ';', '{' and '}'): a function declaration when an identifier
 * plugin_NAME is followed by '(' (the first such is the declarator: parameters come after it);
 * an extern variable when it starts with `extern`, has no '(' and no string (`extern "C"`):
 * then the last identifier. */
static void names_of_statement(const char *s, size_t len, struct names *out)
{
    char *st = strndup(s, len);
    cr_assert_not_null(st);
    for (char *p = st; (p = strstr(p, "plugin_")) != NULL; p++) {
        if (p > st && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        char *e = p;
        while (isalnum((unsigned char)*e) || *e == '_')
            e++;
        char *q = e;
        while (isspace((unsigned char)*q))
            q++;
        if (*q == '(') {
            names_add(out, p, (size_t)(e - p));
            free(st);
            return;
        }
    }
    char *w = st;
    while (isspace((unsigned char)*w))
        w++;
    if (strncmp(w, "extern", 6) == 0 && isspace((unsigned char)w[6]) && !strchr(w, '(') &&
        !strchr(w, '"')) {
        char *e = w + strlen(w);
        while (e > w && !(isalnum((unsigned char)e[-1]) || e[-1] == '_'))
            e--;
        char *b = e;
        while (b > w && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
            b--;
        names_add(out, b, (size_t)(e - b));
    }
    free(st);
}

/* Every function and extern variable declared in SOURCE_DIR/include/\*.h. */
static void declared_names(struct names *out)
{
    DIR *d = opendir(SOURCE_DIR "/include");
    cr_assert_not_null(d, "cannot open " SOURCE_DIR "/include");
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".h") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/include/%s", SOURCE_DIR, e->d_name);
        char *text = read_file(path, NULL);
        strip_comments_and_directives(text);
        for (char *s = text, *p = text;; p++) {
            if (*p == ';' || *p == '{' || *p == '}' || *p == '\0') {
                names_of_statement(s, (size_t)(p - s), out);
                s = p + 1;
            }
            if (*p == '\0')
                break;
        }
        free(text);
    }
    closedir(d);
}

/* ---- what the shared library exports ------------------------------------------------------ */

/* `nm -D --defined-only` of the library: every defined dynamic symbol, without its @@VERSION,
 * leaving out the version definitions themselves (type A). *versions gets the version of each,
 * joined with spaces. */
static void exported_names(struct names *out, char **versions)
{
    char *text = shell("nm -D --defined-only " SHARED_LIB, NULL);
    size_t cap = strlen(text) + 1;
    *versions = calloc(1, cap);
    cr_assert_not_null(*versions);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char addr[32], type[4], name[512];
        if (sscanf(line, "%31s %3s %511s", addr, type, name) != 3 || strcmp(type, "A") == 0)
            continue;
        char *at = strchr(name, '@');
        names_add(out, name, at ? (size_t)(at - name) : strlen(name));
        strcat(*versions, at ? at : "@(none)");
        strcat(*versions, " ");
    }
    free(text);
}

/* ---- the version -------------------------------------------------------------------------- */

Test(package, version_is_one_number_everywhere)
{
    char numbers[64];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", PLUGIN_VERSION_MAJOR, PLUGIN_VERSION_MINOR,
             PLUGIN_VERSION_PATCH);
    cr_expect_str_eq(PLUGIN_VERSION, numbers, "PLUGIN_VERSION is not MAJOR.MINOR.PATCH");
    cr_expect_str_eq(plugin_version(), PLUGIN_VERSION, "plugin_version() differs from the header");

    char *pc = read_file(BUILD_DIR "/plugin.pc", NULL);
    char *v = strstr(pc, "\nVersion: ");
    cr_assert_not_null(v, "plugin.pc has no Version line:\n%s", pc);
    v += strlen("\nVersion: ");
    cr_expect_eq(strncmp(v, PLUGIN_VERSION "\n", strlen(PLUGIN_VERSION) + 1), 0,
                 "plugin.pc says Version: %.20s, the header " PLUGIN_VERSION, v);
}

/* The soname is libplugin.so.MAJOR, from the same header. */
Test(package, soname_is_the_major_version)
{
    char want[64];
    snprintf(want, sizeof want, "libplugin.so.%d", PLUGIN_VERSION_MAJOR);
    char *soname = file_dyn_string(SHARED_LIB, DT_SONAME, 0);
    cr_assert_not_null(soname, SHARED_LIB " has no DT_SONAME");
    cr_expect_str_eq(soname, want);
}

/* plugin_version of the shared library itself, loaded with plugin_open: the library reports the
 * version it was built with. Not under AddressSanitizer: an instrumented copy of the library
 * would register its globals with the runtime a second time. */
Test(package, shared_library_reports_the_version)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("the sanitized libplugin.so is not loaded into the sanitized test process");
#endif
    plugin_error err;
    plugin *p = plugin_open(SHARED_LIB, &err);
    cr_assert_not_null(p, "%s", err.message);
    void *sym = plugin_lookup(p, "plugin_version", &err);
    cr_assert_not_null(sym, "%s", err.message);
    const char *(*version)(void);
    memcpy(&version, &sym, sizeof version);
    cr_expect_str_eq(version(), PLUGIN_VERSION);
}

/* ---- the exports -------------------------------------------------------------------------- */

Test(package, exports_are_exactly_the_public_api)
{
    struct names declared = { 0 }, exported = { 0 };
    char *versions;
    declared_names(&declared);
    exported_names(&exported, &versions);
    cr_assert(names_has(&declared, "plugin_open") && names_has(&declared, "plugin_version"),
              "the header parser missed plugin_open or plugin_version");
    names_add(&declared, "plugin_debug", strlen("plugin_debug"));            /* debug.c */
    names_add(&declared, "plugin_debug_state", strlen("plugin_debug_state"));

    for (int i = 0; i < declared.n; i++)
        cr_expect(names_has(&exported, declared.v[i]),
                  "%s is declared in include/ but not exported (loader/libplugin.map?)",
                  declared.v[i]);
    for (int i = 0; i < exported.n; i++)
        cr_expect(names_has(&declared, exported.v[i]),
                  "%s is exported but is not public API (declared in no include/*.h)",
                  exported.v[i]);
    /* Every symbol at the one version node of the map, as its default version. */
    for (char *v = versions; (v = strchr(v, '@')) != NULL; v = strchr(v, ' '))
        cr_expect_eq(strncmp(v, "@@PLUGIN_0 ", 11), 0, "an export has version %.20s", v);
}

/* Nothing of libelf or zlib is re-exported, and the library does not need libdl. */
Test(package, no_libelf_or_zlib_exports_and_no_libdl)
{
    static const char *const foreign[] = { "elf_", "elf32_", "elf64_", "gelf_", "deflate",
                                           "inflate", "crc32", "adler32", "zlib" };
    struct names exported = { 0 };
    char *versions;
    exported_names(&exported, &versions);
    cr_assert_gt(exported.n, 0, "nm found no export at all");
    for (int i = 0; i < exported.n; i++)
        for (size_t f = 0; f < sizeof foreign / sizeof *foreign; f++)
            cr_expect_neq(strncmp(exported.v[i], foreign[f], strlen(foreign[f])), 0,
                          "%s (libelf/zlib) is exported by libplugin.so", exported.v[i]);

    int has_libelf = 0;
    char *needed;
    for (int i = 0; (needed = file_dyn_string(SHARED_LIB, DT_NEEDED, i)) != NULL; i++) {
        cr_expect_neq(strncmp(needed, "libdl.so", 8), 0, "libplugin.so needs %s", needed);
        has_libelf |= strcmp(needed, "libelf.so.1") == 0;
    }
    cr_expect(has_libelf, "libplugin.so does not need libelf.so.1: DT_NEEDED not read?");
}

/* ---- the man pages ------------------------------------------------------------------------ */

/* The man/ pages with the given suffix (".1", ".3"), as paths. */
static void man_pages(const char *suffix, struct names *out)
{
    DIR *d = opendir(SOURCE_DIR "/man");
    cr_assert_not_null(d, "cannot open " SOURCE_DIR "/man");
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n > 2 && strcmp(e->d_name + n - 2, suffix) == 0) {
            char path[4096];
            int len = snprintf(path, sizeof path, "%s/man/%s", SOURCE_DIR, e->d_name);
            names_add(out, path, (size_t)len);
        }
    }
    closedir(d);
}

/* groff with every warning, and man-db's rendering (what `man -l` shows): nothing on stderr. */
Test(man, pages_render_without_warnings, .timeout = 120)
{
    struct names pages = { 0 };
    man_pages(".1", &pages);
    man_pages(".3", &pages);
    cr_assert_geq(pages.n, 2, "man/ has no pages");
    for (int i = 0; i < pages.n; i++) {
        char cmd[8192], *err;
        snprintf(cmd, sizeof cmd, "groff -man -ww -z -Tutf8 '%s'", pages.v[i]);
        shell(cmd, &err);
        cr_expect_str_empty(err, "%s:\n%s", cmd, err);
        snprintf(cmd, sizeof cmd, "MANWIDTH=80 man --warnings -l -P cat '%s'", pages.v[i]);
        char *out = shell(cmd, &err);
        cr_expect_str_empty(err, "%s:\n%s", cmd, err);
        cr_expect(strstr(out, "NAME") && strstr(out, "SEE ALSO"), "%s renders as:\n%s", cmd, out);
    }
}

/* Every function of include/\*.h has a page or a link page, and appears in its page's synopsis
 * (as "NAME("); every link names a declared function. */
Test(man, every_function_has_a_page)
{
    struct names declared = { 0 };
    declared_names(&declared);
    /* Lines "LINK.3 PAGE.3", each after a newline, so that every one is found as "\nLINK.3 ". */
    char *out = shell("cd " SOURCE_DIR " && echo && bash scripts/man-links.sh man/*.3", NULL);
    char *links = strdup(out);
    for (int i = 0; i < declared.n; i++) {
        char page[4096], line[512];
        snprintf(page, sizeof page, "%s/man/%s.3", SOURCE_DIR, declared.v[i]);
        snprintf(line, sizeof line, "\n%s.3 ", declared.v[i]);
        char *target = NULL;
        if (access(page, F_OK) != 0) {
            char *hit = strstr(links, line);
            cr_expect_not_null(hit, "%s has no man page and no link page", declared.v[i]);
            if (!hit)
                continue;
            hit += strlen(line);
            target = strndup(hit, strcspn(hit, "\n"));
            snprintf(page, sizeof page, "%s/man/%s", SOURCE_DIR, target);
        }
        char *text = read_file(page, NULL), call[300];
        snprintf(call, sizeof call, "%s(", declared.v[i]);
        cr_expect_not_null(strstr(text, call), "%s does not show %s", page, call);
        free(text);
        free(target);
    }
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        char name[256];
        cr_assert_eq(sscanf(l, "%255[^. ]", name), 1);
        cr_expect(names_has(&declared, name), "link page %s: no such function in include/", l);
    }
}

/* plugin(1) describes every command of `plugin help` (a ".SS" heading each) and every option. */
Test(man, cli_page_covers_every_command_and_option)
{
    char *argv[] = { PLUGIN_CLI, "help", NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "plugin help: %s", r.err);
    char *page = read_file(SOURCE_DIR "/man/plugin.1", NULL);
    char *list = strstr(r.out, "commands:\n");
    cr_assert_not_null(list, "no command list in:\n%s", r.out);
    int commands = 0;
    for (char *l = strtok(list + strlen("commands:\n"), "\n"); l && l[0] == ' ';
         l = strtok(NULL, "\n")) {
        char word[64], heading[96];
        cr_assert_eq(sscanf(l, "%63s", word), 1);
        snprintf(heading, sizeof heading, "\n.SS \"%s ", word);
        cr_expect(strstr(page, heading), "plugin(1) has no section for the command %s", word);
        commands++;
        for (char *o = strstr(l, "--"); o; o = strstr(o + 2, "--")) {
            char opt[64] = "", roff[160];
            sscanf(o + 2, "%63[a-z-]", opt);
            size_t n = 0;
            for (char *c = opt; *c; c++) {        /* roff writes each '-' as "\-" */
                if (*c == '-')
                    roff[n++] = '\\';
                roff[n++] = *c;
            }
            roff[n] = '\0';
            char want[200];
            snprintf(want, sizeof want, ".B \\-\\-%s\n", roff);
            cr_expect(strstr(page, want), "plugin(1) does not describe --%s (%s)", opt, word);
        }
    }
    cr_expect_geq(commands, 4, "found only %d commands in:\n%s", commands, r.out);
}
