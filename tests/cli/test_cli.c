/*
 * test_cli.c — the `plugin` command (build/plugin), run as a separate process: exit status,
 * stdout and stderr of info, symbols, load --trace and call, on the cli_sample.so fixture and on
 * the system's libz, and its errors (missing file, not ELF, usage mistakes).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

/* NATIVE_CPU, NATIVE_RELOC, OTHER_CPU, ...: helpers.h. libz as this lane's system has it. */
#define LIBZ "/usr/lib/" NATIVE_MULTIARCH "/libz.so.1"
#if defined(__x86_64__)
#define NATIVE_JUMP_SLOT R_X86_64_JUMP_SLOT
#else
#define NATIVE_JUMP_SLOT R_AARCH64_JUMP_SLOT
#endif

/* Run PLUGIN_CLI with the arguments that follow (NULL-terminated). */
static struct run cli(const char *arg, ...)
{
    char *argv[16] = { PLUGIN_CLI };
    int n = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    return run_program(argv);
}

static void expect_in(const char *haystack, const char *needle, const char *what)
{
    cr_expect(strstr(haystack, needle) != NULL, "%s: \"%s\" not found in:\n%s", what, needle,
              haystack);
}

/* ---- a small JSON checker (RFC 8259 grammar; numbers and escapes checked loosely) ---------- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;                    /* also catches the end of the text */
        if (*p == '\\' && (*++p == '\0' || !strchr("\"\\/bfnrtu", *p)))
            return NULL;
    }
    return p + 1;
}

/* An object or array: open, members separated by commas, close. */
static const char *json_container(const char *p, int depth, char close)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (close == '}') {
            p = json_string(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        if (!(p = json_value(p, depth + 1)))
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p, int depth)
{
    p = json_ws(p);
    if (depth > 64)
        return NULL;
    if (*p == '{' || *p == '[')
        return json_container(p, depth, *p == '{' ? '}' : ']');
    if (*p == '"')
        return json_string(p);
    for (const char *const *w = (const char *const[]){ "true", "false", "null", NULL }; *w; w++)
        if (strncmp(p, *w, strlen(*w)) == 0)
            return p + strlen(*w);
    const char *start = p;
    p += *p == '-';
    while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
           *p == '-')
        p++;
    return p > start && isdigit((unsigned char)p[-1]) ? p : NULL;
}

static int is_json_object(const char *text)
{
    const char *p = json_ws(text);
    if (*p != '{')
        return 0;
    p = json_value(p, 0);
    return p && *json_ws(p) == '\0';
}

/* The path of python3 when it is installed, else NULL. */
static const char *find_python(void)
{
    static char path[4096];
    const char *dirs[] = { "/usr/bin", "/usr/local/bin", "/bin" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/python3", dirs[i]);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* Validate JSON with our checker and, when python3 exists, with its json module too. */
static void expect_json(const char *text, const char *what)
{
    cr_expect(is_json_object(text), "%s: not a JSON object:\n%s", what, text);
    const char *py = find_python();
    if (!py)
        return;
    char *dir = make_temp_dir(), file[4200];
    snprintf(file, sizeof file, "%s/out.json", dir);
    write_file(file, text, strlen(text));
    char *argv[] = { (char *)py, "-c", "import json,sys; json.load(open(sys.argv[1]))", file,
                     NULL };
    char *err = NULL;
    int status = run_capture(argv, NULL, &err);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: python3 rejects it: %s\n%s",
              what, err ? err : "", text);
    free(err);
    free(dir);
}

/* ---- info ---------------------------------------------------------------------------------- */

/* The number after "exported symbols: " in `info` output. */
static long exported_count(const char *info)
{
    const char *p = strstr(info, "exported symbols: ");
    cr_assert(p, "no exported symbol count in:\n%s", info);
    return strtol(p + strlen("exported symbols: "), NULL, 10);
}

/* Lines of `symbols` output, without the heading. */
static long symbol_lines(const char *out)
{
    long n = 0;
    for (const char *p = out; *p; p++)
        n += *p == '\n';
    return n - 1;
}

Test(cli, info_describes_the_fixture)
{
    struct run r = cli("info", fixture("cli_sample.so"), NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_in(r.out, "format:      ELF", "info");
    expect_in(r.out, "class:       ELF64", "info");
    expect_in(r.out, "cpu:         " NATIVE_CPU, "info");
    expect_in(r.out, "type:        ET_DYN", "info");
    expect_in(r.out, "needed:      libc.so.6", "info");
    expect_in(r.out, "  LOAD ", "info");
    expect_in(r.out, "R-X", "info");                 /* the code segment */
    expect_in(r.out, NATIVE_RELOC "JUMP_SLOT", "info");  /* snprintf through the PLT */
    cr_expect_str_empty(r.err);

    struct run s = cli("symbols", fixture("cli_sample.so"), NULL);
    cr_assert_eq(s.code, 0, "symbols: exit %d, stderr: %s", s.code, s.err);
    cr_expect_eq(exported_count(r.out), symbol_lines(s.out),
                 "info counts %ld exports, symbols lists %ld:\n%s", exported_count(r.out),
                 symbol_lines(s.out), s.out);
}

Test(cli, info_json_is_valid_json)
{
    struct run r = cli("info", fixture("cli_sample.so"), "--json", NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_json(r.out, "info --json");
    expect_in(r.out, "\"cpu\": \"" NATIVE_CPU "\"", "info --json");
    expect_in(r.out, "\"needed\": [\"libc.so.6\"]", "info --json");
    /* The count is the one libelf finds in the file (1 on x86-64: snprintf; aarch64's gcc also
     * puts __cxa_finalize and __gmon_start__ in the PLT). */
    char want[64];
    snprintf(want, sizeof want, "\"" NATIVE_RELOC "JUMP_SLOT\": %ld",
             file_reloc_count(fixture("cli_sample.so"), NATIVE_JUMP_SLOT));
    expect_in(r.out, want, "info --json");
}

/* foreign.so: for the other CPU, built without a C library (no relocations). */
Test(cli, info_on_another_cpu)
{
    struct run r = cli("info", fixture("foreign.so"), NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_in(r.out, "cpu:         " OTHER_CPU "\n", "info");
    struct run j = cli("info", "--json", fixture("foreign.so"), NULL);
    cr_assert_eq(j.code, 0, "exit %d, stderr: %s", j.code, j.err);
    expect_json(j.out, "info --json (" OTHER_CPU ")");
    expect_in(j.out, "\"cpu\": \"" OTHER_CPU "\"", "info --json");
}

/* The relocation types of both CPUs, as ELF numbers them and as `plugin info` names them. */
struct named_type {
    uint32_t type;
    const char *name;
};

static const struct named_type aarch64_kinds[] = {
    { R_AARCH64_ABS64, "R_AARCH64_ABS64" },
    { R_AARCH64_GLOB_DAT, "R_AARCH64_GLOB_DAT" },
    { R_AARCH64_JUMP_SLOT, "R_AARCH64_JUMP_SLOT" },
    { R_AARCH64_RELATIVE, "R_AARCH64_RELATIVE" },
};
static const struct named_type x86_64_kinds[] = {
    { R_X86_64_64, "R_X86_64_64" },
    { R_X86_64_GLOB_DAT, "R_X86_64_GLOB_DAT" },
    { R_X86_64_JUMP_SLOT, "R_X86_64_JUMP_SLOT" },
    { R_X86_64_RELATIVE, "R_X86_64_RELATIVE" },
};

/* The count printed after name in `info` text ("  R_X86_64_RELATIVE      4"), or -1. */
static long info_count(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\n  %s ", name);
    const char *p = strstr(out, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* An ordinary plugin built by the other CPU's compiler (fixtures/cross/relocs.c): info names
 * its CPU and counts each of its relocation types under that CPU's names, with the counts that
 * libelf finds in the file; symbols lists its exports. Nothing is loaded. */
Test(cli, info_and_symbols_on_a_plugin_for_the_other_cpu)
{
    const char *path = fixture(CROSS_FIXTURE);
    cr_assert_eq(file_machine(path), OTHER_EM, CROSS_FIXTURE " is not for " OTHER_CPU);
    const struct named_type *kinds = OTHER_EM == EM_AARCH64 ? aarch64_kinds : x86_64_kinds;

    struct run r = cli("info", path, NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_in(r.out, "cpu:         " OTHER_CPU "\n", "info");
    cr_expect(strstr(r.out, NATIVE_RELOC) == NULL, "native relocation names in:\n%s", r.out);
    struct run j = cli("info", "--json", path, NULL);
    cr_assert_eq(j.code, 0, "exit %d, stderr: %s", j.code, j.err);
    expect_json(j.out, "info --json (" CROSS_FIXTURE ")");

    long total = 0;
    for (size_t i = 0; i < 4; i++) {
        long want = file_reloc_count(path, kinds[i].type);
        cr_assert_geq(want, 1, "the fixture has no %s", kinds[i].name);
        total += want;
        cr_expect_eq(info_count(r.out, kinds[i].name), want, "info: %s %ld, libelf counts %ld:\n%s",
                     kinds[i].name, info_count(r.out, kinds[i].name), want, r.out);
        char key[64];
        snprintf(key, sizeof key, "\"%s\": %ld", kinds[i].name, want);
        expect_in(j.out, key, "info --json");
    }
    const char *rel = strstr(r.out, "relocations: ");
    cr_assert_not_null(rel, "no relocation total in:\n%s", r.out);
    cr_expect_geq(strtol(rel + strlen("relocations: "), NULL, 10), total);

    struct run s = cli("symbols", path, NULL);
    cr_assert_eq(s.code, 0, "exit %d, stderr: %s", s.code, s.err);
    expect_in(s.out, "FUNC    GLOBAL  DEFAULT    cross_call\n", "symbols");
    expect_in(s.out, "OBJECT  GLOBAL  DEFAULT    cross_exported\n", "symbols");
    cr_expect(strstr(s.out, "printf") == NULL, "an undefined symbol is listed:\n%s", s.out);

    /* Loading it is refused: inspection is CPU-independent, loading is not. */
    struct run l = cli("load", path, NULL);
    cr_expect_eq(l.code, 1, "load of a %s object: exit %d", OTHER_CPU, l.code);
    expect_in(l.err, OTHER_CPU, "load");
}

Test(cli, info_on_libz)
{
    struct run r = cli("info", LIBZ, NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_in(r.out, "soname:      libz.so.1", "info libz");
    expect_in(r.out, NATIVE_RELOC, "info libz");
    struct run j = cli("info", LIBZ, "--json", NULL);
    expect_json(j.out, "info --json libz");
}

/* ---- symbols ------------------------------------------------------------------------------- */

Test(cli, symbols_lists_exports_only)
{
    struct run r = cli("symbols", fixture("cli_sample.so"), NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_in(r.out, "FUNC    GLOBAL  DEFAULT    add3\n", "symbols");
    expect_in(r.out, "OBJECT  GLOBAL  DEFAULT    cli_counter\n", "symbols");
    cr_expect(strstr(r.out, "cli_hidden_twice") == NULL, "a hidden function is listed:\n%s",
              r.out);
    cr_expect(strstr(r.out, "snprintf") == NULL, "an undefined symbol is listed:\n%s", r.out);
    /* sorted by name */
    cr_expect(strstr(r.out, "add3") < strstr(r.out, "cli_counter"), "not sorted:\n%s", r.out);
}

Test(cli, symbols_json_and_versions)
{
    struct run r = cli("symbols", "--json", fixture("cli_sample.so"), NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    expect_json(r.out, "symbols --json");
    expect_in(r.out, "{\"name\": \"add3\", \"version\": null", "symbols --json");

    struct run z = cli("symbols", LIBZ, NULL);      /* libz versions its symbols */
    cr_assert_eq(z.code, 0, "exit %d, stderr: %s", z.code, z.err);
    expect_in(z.out, "@@ZLIB_1.", "symbols libz");
    struct run zj = cli("symbols", LIBZ, "--json", NULL);
    expect_json(zj.out, "symbols --json libz");
}

/* ---- load and call ------------------------------------------------------------------------- */

Test(cli, load_trace_prints_each_step)
{
    struct run r = cli("load", fixture("cli_sample.so"), "--trace", NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    int traces = 0;
    for (const char *p = r.out; (p = strstr(p, "trace: ")) != NULL; p++)
        traces++;
    cr_expect_geq(traces, 3, "expected trace lines, got:\n%s", r.out);
    cr_expect(strncmp(r.out, "trace: ", 7) == 0, "output does not start with a trace:\n%s", r.out);
    expect_in(r.out, "loaded ", "load --trace");

    double ms;
    char bracket;
    cr_expect(sscanf(r.out, "trace: [%lf ms%c ", &ms, &bracket) == 2 && bracket == ']' && ms >= 0,
              "the first trace line has no time:\n%s", r.out);

    struct run quiet = cli("load", fixture("cli_sample.so"), NULL);
    cr_assert_eq(quiet.code, 0, "exit %d, stderr: %s", quiet.code, quiet.err);
    cr_expect(strstr(quiet.out, "trace: ") == NULL, "traces without --trace:\n%s", quiet.out);
}

/* --trace --json: one JSON object per line, each with a kind, a time and a text, then the
 * result. All the lines, as one array, are valid JSON too (python3 checks it when installed). */
Test(cli, load_trace_json_is_one_object_per_line)
{
    struct run r = cli("load", fixture("cli_sample.so"), "--trace", "--json", NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    size_t len = strlen(r.out);
    char *all = malloc(2 * len + 32), *copy = strdup(r.out);   /* ", " for each "\n" */
    cr_assert(all && copy);
    strcpy(all, "{\"lines\": [");
    int n = 0, binds = 0;
    const char *last = "";
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"), n++) {
        cr_expect(is_json_object(line), "line %d is not a JSON object: %s", n, line);
        cr_expect(strncmp(line, "{\"kind\": \"", 10) == 0, "line %d has no kind first: %s", n, line);
        if (!strstr(line, "\"kind\": \"result\""))
            cr_expect(strstr(line, "\"ns\": ") && strstr(line, "\"text\": \""), "line %d: %s", n, line);
        binds += strstr(line, "\"kind\": \"bind\"") && strstr(line, "\"symbol\": \"") &&
                 strstr(line, "\"definer\": ");
        strcat(strcat(all, n ? ", " : ""), line);
        last = line;
    }
    strcat(all, "]}");
    cr_expect_geq(n, 3, "only %d lines:\n%s", n, r.out);
    cr_expect_geq(binds, 1, "no bind event with its symbol and definer:\n%s", r.out);
    cr_expect(strstr(last, "{\"kind\": \"result\", \"loaded\": true, \"path\": ") == last, "last line: %s", last);
    expect_json(all, "load --trace --json");
    free(all);
    free(copy);

    struct run fail = cli("load", "/nonexistent/x.so", "--trace", "--json", NULL);
    cr_expect_eq(fail.code, 1);
    expect_in(fail.out, "{\"kind\": \"failure\", ", "load --trace --json of a missing file");
    expect_in(fail.out, "\"error\": \"input/output error\"", "load --trace --json of a missing file");
    expect_in(fail.out, "{\"kind\": \"result\", \"loaded\": false, ", "load --trace --json of a missing file");
}

Test(cli, call_add3)
{
    struct run r = cli("call", fixture("cli_sample.so"), "add3", "1", "2", "3", NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    cr_expect_str_eq(r.out, "6\n");
    struct run h = cli("call", fixture("cli_sample.so"), "add3", "-1", "0x10", "010", NULL);
    cr_assert_eq(h.code, 0, "exit %d, stderr: %s", h.code, h.err);
    cr_expect_str_eq(h.out, "23\n");                /* -1 + 16 + 8 */
    struct run d = cli("call", fixture("cli_sample.so"), "cli_digits", "-12345", NULL);
    cr_expect_str_eq(d.out, "6\n");                 /* snprintf, through libc */
}

Test(cli, libz_load_and_call)
{
    struct run l = cli("load", LIBZ, NULL);
    cr_assert_eq(l.code, 0, "exit %d, stderr: %s", l.code, l.err);
    expect_in(l.out, "loaded ", "load libz");

    struct run r = cli("call", LIBZ, "zlibVersion", NULL);
    cr_assert_eq(r.code, 0, "exit %d, stderr: %s", r.code, r.err);
    char *end;
    long long v = strtoll(r.out, &end, 10);
    cr_expect(end != r.out && strcmp(end, "\n") == 0 && v != 0, "not a number: \"%s\"", r.out);
}

/* ---- errors -------------------------------------------------------------------------------- */

Test(cli, missing_file_is_named)
{
    const char *path = FIXTURE_DIR "/no-such-plugin.so";
    const char *cmds[] = { "info", "symbols", "load" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct run r = cli(cmds[i], path, NULL);
        cr_expect_eq(r.code, 1, "%s: exit %d", cmds[i], r.code);
        expect_in(r.err, path, cmds[i]);
        cr_expect_str_empty(r.out, "%s printed to stdout: %s", cmds[i], r.out);
    }
    struct run c = cli("call", path, "F", NULL);
    cr_expect_eq(c.code, 1);
    expect_in(c.err, path, "call");
}

Test(cli, not_elf_and_truncated)
{
    char *dir = make_temp_dir(), text[4200], cut[4200];
    snprintf(text, sizeof text, "%s/notes.so", dir);
    write_file(text, "just some text\n", 15);
    struct run r = cli("info", text, NULL);
    cr_expect_eq(r.code, 1);
    expect_in(r.err, "not an ELF file", "info text file");

    size_t size;
    char *data = read_file(fixture("cli_sample.so"), &size);
    snprintf(cut, sizeof cut, "%s/cut.so", dir);
    write_file(cut, data, 100);                     /* inside the program header table */
    const char *cmds[] = { "info", "symbols", "load" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct run t = cli(cmds[i], cut, NULL);
        cr_expect_eq(t.code, 1, "%s of a truncated file: exit %d, stderr %s", cmds[i], t.code,
                     t.err);
        expect_in(t.err, "cut.so", cmds[i]);
    }
    free(data);
    free(dir);
}

Test(cli, missing_symbol_and_variable)
{
    struct run r = cli("call", fixture("cli_sample.so"), "cli_hidden_twice", NULL);
    cr_expect_eq(r.code, 1);
    expect_in(r.err, "cli_hidden_twice", "call of a hidden function");
    struct run v = cli("call", fixture("cli_sample.so"), "cli_counter", NULL);
    cr_expect_eq(v.code, 1, "calling a variable: exit %d", v.code);   /* refused, not a crash */
    expect_in(v.err, "not a function", "call of a variable");
}

Test(cli, usage_errors_exit_2)
{
    cr_expect_eq(cli("frobnicate", NULL).code, 2);
    cr_expect_eq(cli(NULL).code, 2);
    cr_expect_eq(cli("info", NULL).code, 2);                            /* no FILE */
    cr_expect_eq(cli("info", "a.so", "b.so", NULL).code, 2);
    cr_expect_eq(cli("info", "a.so", "--trace", NULL).code, 2);         /* not an info option */
    cr_expect_eq(cli("call", "a.so", "f", "1", "2", "3", "4", "5", "6", "7", NULL).code, 2);
    cr_expect_eq(cli("call", fixture("cli_sample.so"), "add3", "12abc", NULL).code, 2);
    cr_expect_eq(cli("call", fixture("cli_sample.so"), "add3", "99999999999999999999", NULL).code,
                 2);
    struct run r = cli("frobnicate", NULL);
    expect_in(r.err, "frobnicate", "unknown command");
}

Test(cli, help_everywhere)
{
    const char *cmds[] = { "info", "symbols", "deps", "load", "call", "help" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct run r = cli(cmds[i], "--help", NULL);
        cr_expect_eq(r.code, 0, "%s --help: exit %d", cmds[i], r.code);
        expect_in(r.out, "usage: plugin ", cmds[i]);
        expect_in(r.out, "exit status", cmds[i]);
    }
    struct run top = cli("--help", NULL);
    cr_expect_eq(top.code, 0);
    expect_in(top.out, "call FILE SYMBOL", "--help");
    expect_in(top.out, "2  usage error", "--help");
}
