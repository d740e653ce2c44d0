/*
 * test_malformed.c — the malformed corpus: one defect per file, planted by
 * tests/malformed/gen_malformed.py in a copy of a base object that loads (fixtures/malformed/),
 * listed in BUILD_DIR/malformed/cases.tsv with the plugin_errc the open must give and a
 * substring of the message that names the defect. For every case:
 *   - plugin_open fails with that code and a one-line message naming the file and the defect;
 *   - plugin_open_memory of the same bytes fails the same way;
 *   - after each, /proc/self/maps and the number of open descriptors are as before (the case
 *     opened once first, see warm_up);
 *   - `plugin load FILE` exits 1 and prints exactly one line, on stderr, naming the defect.
 * Each case runs in a child process of its own, under an alarm: a crash or a hang fails that
 * case, by name, and the walk goes on; the test reports every failing case at once.
 * The ELF cases are cut from this lane's base (x86-64 or aarch64), the Mach-O cases from its
 * CPU's (x86_64 or arm64), so both lanes walk inputs of their own CPU.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

#define CORPUS BUILD_DIR "/malformed"
#define CASE_SECONDS 30         /* per case, the CLI run included (qemu-user is slow) */

#if defined(__x86_64__)
#define MACHO_CPU "x86_64"
#else
#define MACHO_CPU "arm64"
#endif

struct mcase {
    char *name, *format, *class, *file, *code, *message;
};

/* The manifest, parsed: tab-separated, one case a line, '#' lines are comments. */
static struct mcase *read_manifest(size_t *n)
{
    size_t size, cap = 0;
    char *text = read_file(CORPUS "/cases.tsv", &size), *save = NULL;
    struct mcase *v = NULL;
    *n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *f[6], *s2 = NULL;
        int k = 0;
        for (char *t = strtok_r(line, "\t", &s2); t && k < 6; t = strtok_r(NULL, "\t", &s2))
            f[k++] = t;
        cr_assert_eq(k, 6, "cases.tsv: a line with %d fields (want 6)", k);
        if (*n == cap)
            cr_assert_not_null(v = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v));
        v[(*n)++] = (struct mcase){ f[0], f[1], f[2], f[3], f[4], f[5] };
    }
    return v;                   /* the strings point into text, kept for the test's life */
}

static int code_named(const char *name)
{
    static const char *const names[] = {
        "PLUGIN_OK", "PLUGIN_ERR_IO", "PLUGIN_ERR_FORMAT", "PLUGIN_ERR_ARCH", "PLUGIN_ERR_UNSUPPORTED",
        "PLUGIN_ERR_DEPENDENCY", "PLUGIN_ERR_UNDEFINED", "PLUGIN_ERR_NOT_FOUND", "PLUGIN_ERR_NOMEM",
    };
    for (int c = 0; c < (int)(sizeof names / sizeof names[0]); c++)
        if (strcmp(names[c], name) == 0)
            return c;
    return -1;
}

/* ---- one case, in a child: every failure is one line written to fd ---- */

struct report {
    int fd;
    const struct mcase *c;
    int failed;
};

static void fail(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct report *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "  %s: ", r->c->name);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    dprintf(r->fd, "%s\n", line);
    r->failed = 1;
}

/* The error of a failed open: the case's code, one line naming the file and the defect. */
static void check_error(struct report *r, const char *how, plugin *p, const plugin_error *err, const char *path)
{
    int want = code_named(r->c->code);
    if (p) {
        fail(r, "%s loaded it", how);
        return;
    }
    if ((int)err->code != want)
        fail(r, "%s: code %s, want %s; message: %s", how, plugin_strerror(err->code), r->c->code, err->message);
    if (!strstr(err->message, r->c->message))
        fail(r, "%s: message does not say \"%s\": %s", how, r->c->message, err->message);
    if (!strstr(err->message, path))
        fail(r, "%s: message does not name the file: %s", how, err->message);
    if (strchr(err->message, '\n'))
        fail(r, "%s: message is not one line: %s", how, err->message);
}

/* The first line where two snapshots of /proc/self/maps differ, from each, into out. */
static void first_difference(const char *a, const char *b, char *out, size_t n)
{
    size_t i = 0, line = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            line = i + 1;
        i++;
    }
    snprintf(out, n, "before: \"%.*s\" / after: \"%.*s\"", (int)strcspn(a + line, "\n"), a + line,
             (int)strcspn(b + line, "\n"), b + line);
}

/* Nothing left behind: the same mappings, the same number of descriptors. */
static void check_unchanged(struct report *r, const char *how, const char *maps, int fds)
{
    char *now = maps_snapshot(), diff[400];
    int nfds = count_fds();
    if (nfds != fds)
        fail(r, "%s: %d open descriptors before, %d after", how, fds, nfds);
    if (strcmp(now, maps) != 0) {
        first_difference(maps, now, diff, sizeof diff);
        fail(r, "%s: /proc/self/maps changed: %s", how, diff);
    }
    free(now);
}

/* `plugin load FILE`: exit status 1, nothing on stdout, one line on stderr that names the defect. */
static void check_cli(struct report *r, const char *path)
{
    char *argv[] = { "/usr/bin/timeout", "20", PLUGIN_CLI, "load", (char *)path, NULL };
    struct run run = run_program(argv);
    const char *nl = run.err ? strchr(run.err, '\n') : NULL;
    if (run.code != 1)
        fail(r, "plugin load exited %d (want 1); stderr: %s", run.code, run.err ? run.err : "");
    else if (run.out && run.out[0])
        fail(r, "plugin load printed on stdout: %s", run.out);
    else if (!nl || nl[1] != '\0')
        fail(r, "plugin load did not print exactly one line on stderr: %s", run.err ? run.err : "");
    else if (!strstr(run.err, r->c->message))
        fail(r, "plugin load does not say \"%s\": %s", r->c->message, run.err);
    free(run.out);
    free(run.err);
}

/* Lazy one-time set-up (libelf, the registry, the list of the process's objects, the Mach-O
 * front end's) and the C library's own growth (malloc arenas; under qemu-user a heap that grows
 * by new anonymous mappings) happen before the first snapshot, so that they are not taken for
 * a leak: the bases are loaded, and the case is opened once both ways. What is compared is the
 * next open of each kind; a loader that leaks on a failed open leaks there too. */
static void warm_up(const char *path, const void *bytes, size_t size)
{
    plugin_open(CORPUS "/does-not-exist.so", NULL);
    plugin_open(FIXTURE_DIR "/malformed/base.so", NULL);
    plugin_open(FIXTURE_DIR "/malformed/base.chained." MACHO_CPU ".dylib", NULL);
    plugin_open(path, NULL);
    plugin_open_memory(bytes, size, path, NULL, NULL);
    free(maps_snapshot());
}

static void run_case(const struct mcase *c, int fd)
{
    struct report r = { fd, c, 0 };
    char path[1024];
    size_t size;
    snprintf(path, sizeof path, "%s/%s", CORPUS, c->file);
    char *bytes = read_file(path, &size);
    warm_up(path, bytes, size);
    char *maps = maps_snapshot();
    int fds = count_fds();
    plugin_error err;
    err.code = PLUGIN_OK;
    check_error(&r, "plugin_open", plugin_open(path, &err), &err, path);
    check_unchanged(&r, "plugin_open", maps, fds);
    err.code = PLUGIN_OK;
    check_error(&r, "plugin_open_memory", plugin_open_memory(bytes, size, path, NULL, &err), &err, path);
    check_unchanged(&r, "plugin_open_memory", maps, fds);
    free(maps);
    free(bytes);
    check_cli(&r, path);
    _exit(r.failed);
}

/* Run one case in a child; append what went wrong to out. 0: the case passed. */
static int walk_one(const struct mcase *c, char *out, size_t outsize)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork");
    if (pid == 0) {
        close(p[0]);
        signal(SIGALRM, SIG_DFL);
        alarm(CASE_SECONDS);
        run_case(c, p[1]);
    }
    close(p[1]);
    size_t len = strlen(out);
    ssize_t got;
    while (len + 1 < outsize && (got = read(p[0], out + len, outsize - len - 1)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(out + len, outsize - len, "  %s: hung (no answer in %d s)\n", c->name, CASE_SECONDS);
    else if (WIFSIGNALED(status))
        snprintf(out + len, outsize - len, "  %s: crashed (%s)\n", c->name, strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) > 1)
        snprintf(out + len, outsize - len, "  %s: the check exited %d\n", c->name, WEXITSTATUS(status));
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Every case of one format; all failures reported together. */
static void walk_format(const char *format)
{
    size_t n, walked = 0;
    int failed = 0;
    struct mcase *v = read_manifest(&n);
    static char out[1 << 16];
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].format, format) != 0)
            continue;
        cr_assert_geq(code_named(v[i].code), 1, "%s: unknown code %s", v[i].name, v[i].code);
        failed += walk_one(&v[i], out, sizeof out);
        walked++;
    }
    cr_assert_gt(walked, 0, "no %s case in the manifest", format);
    cr_assert_eq(failed, 0, "%d of %zu %s cases failed:\n%s", failed, walked, format, out);
}

Test(malformed, elf_cases_are_refused, .timeout = 1200)
{
    walk_format("elf");
}

Test(malformed, macho_cases_are_refused, .timeout = 1200)
{
    walk_format("macho");
}

/* The corpus is what the issue asks for: at least 80 distinct defects, both formats, every
 * class of defect; and the bases the cases are cut from load (else a case could fail for a
 * reason of the base's, not its own defect). */
Test(malformed, corpus_covers_the_defect_classes)
{
    size_t n, elf = 0, macho = 0;
    struct mcase *v = read_manifest(&n);
    cr_assert_geq(n, 80, "%zu cases (want at least 80)", n);
    for (size_t i = 0; i < n; i++) {
        elf += strcmp(v[i].format, "elf") == 0;
        macho += strcmp(v[i].format, "macho") == 0;
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(v[i].name, v[k].name, "case %s is listed twice", v[i].name);
    }
    cr_assert_geq(elf, 40, "%zu ELF cases", elf);
    cr_assert_geq(macho, 40, "%zu Mach-O cases", macho);
    static const char *const classes[] = {
        "elf:truncation", "elf:header", "elf:segments", "elf:tls", "elf:dynamic", "elf:hash",
        "elf:relocations", "elf:versions", "macho:truncation", "macho:header", "macho:load commands",
        "macho:segments", "macho:fixups", "macho:export trie", "macho:fat",
    };
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        size_t count = 0, flen = strcspn(classes[k], ":");
        for (size_t i = 0; i < n; i++)
            count += strncmp(v[i].format, classes[k], flen) == 0 && v[i].format[flen] == '\0' &&
                     strcmp(v[i].class, classes[k] + flen + 1) == 0;
        cr_assert_geq(count, 3, "class %s has %zu cases", classes[k], count);
    }
}

Test(malformed, bases_load)
{
    static const char *const bases[] = {
        FIXTURE_DIR "/malformed/base.so",
        FIXTURE_DIR "/malformed/base.info." MACHO_CPU ".dylib",
        FIXTURE_DIR "/malformed/base.chained." MACHO_CPU ".dylib",
    };
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        plugin_error err;
        plugin *p = plugin_open(bases[i], &err);
        cr_assert_not_null(p, "base %s does not load: %s", bases[i], err.message);
        int *value = plugin_lookup(p, i == 0 ? "base_value" : "mbase_value", &err);
        cr_assert_not_null(value, "%s", err.message);
        cr_assert_eq(*value, 43, "%s: the initializer did not run (value %d)", bases[i], *value);
    }
}
