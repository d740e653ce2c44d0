/*
 * test_cli_macho.c — `plugin info` and `plugin symbols` on Mach-O files (build/plugin run as a
 * separate process): dylibs for both CPUs in both fixup styles and a universal file, on any host;
 * their JSON parses; plugin_lookup on a Mach-O handle returns the load address of the image plus
 * the address `plugin symbols` prints; damaged files give exit 1 and one "plugin: FILE:" line.
 *
 * Fixtures: $(FIX)/macho_cli (mk/macho.mk, "CLI fixtures"), from fixtures/macho_cli/sample.c.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

/* The lane's CPU as Mach-O names it. */
#if defined(__x86_64__)
#define MH_NATIVE "x86_64"
#else
#define MH_NATIVE "arm64"
#endif

static const char *const cpus[] = { "x86_64", "arm64" };
static const char *const styles[] = { "libcli_opcodes.dylib", "libcli_chained.dylib" };

/* $(FIX)/macho_cli/CPU/NAME, or $(FIX)/macho_cli/NAME when cpu is NULL. */
static const char *mfix(const char *cpu, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "macho_cli/%s%s%s", cpu ? cpu : "", cpu ? "/" : "", name);
    return fixture(buf);
}

/* build/plugin COMMAND FILE [OPTION [MORE...]] (at most 4 words after FILE). */
static struct run cli_words(const char *command, const char *file, const char *const words[4])
{
    char *argv[8] = { PLUGIN_CLI, (char *)command, (char *)file };
    for (size_t i = 0; i < 4 && words[i]; i++)
        argv[3 + i] = (char *)words[i];
    return run_program(argv);
}

static struct run cli(const char *command, const char *file, const char *option)
{
    return cli_words(command, file, (const char *const[4]){ option });
}

static struct run cli_ok(const char *command, const char *file, const char *option)
{
    struct run r = cli(command, file, option);
    cr_assert_eq(r.code, 0, "plugin %s %s: exit %d, stderr: %s", command, file, r.code, r.err);
    cr_expect_str_empty(r.err, "plugin %s %s wrote to stderr", command, file);
    return r;
}

static void expect_in(const char *haystack, const char *needle, const char *what)
{
    cr_expect(strstr(haystack, needle) != NULL, "%s: \"%s\" not found in:\n%s", what, needle, haystack);
}

/* ---- JSON: python3's parser when installed, else a balanced-structure check ----------------- */

/* Brackets balance outside strings, strings end, and the text is one object. */
static int balanced_json(const char *p)
{
    char stack[64];
    int depth = 0, in_string = 0;
    while (*p == ' ' || *p == '\n')
        p++;
    if (*p != '{')
        return 0;
    for (; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = 0;
            else if ((unsigned char)*p < 0x20)
                return 0;
        } else if (*p == '"') {
            in_string = 1;
        } else if (*p == '{' || *p == '[') {
            if (depth == (int)sizeof stack)
                return 0;
            stack[depth++] = *p == '{' ? '}' : ']';
        } else if (*p == '}' || *p == ']') {
            if (depth == 0 || stack[--depth] != *p)
                return 0;
        }
    }
    return depth == 0 && !in_string;
}

static void expect_json(const char *text, const char *what)
{
    cr_expect(balanced_json(text), "%s: not a balanced JSON object:\n%s", what, text);
    if (access("/usr/bin/python3", X_OK) != 0)
        return;
    char *dir = make_temp_dir(), file[4200];
    snprintf(file, sizeof file, "%s/out.json", dir);
    write_file(file, text, strlen(text));
    char *argv[] = { "/usr/bin/python3", "-c", "import json,sys; json.load(open(sys.argv[1]))", file, NULL };
    char *err = NULL;
    int status = run_capture(argv, NULL, &err);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: python3 rejects it: %s\n%s", what,
              err ? err : "", text);
    free(err);
    free(dir);
}

/* ---- info ---------------------------------------------------------------------------------- */

/* What every build of sample.c shows, whatever the CPU or fixup style. */
static void expect_sample_info(const char *out, const char *cpu, const char *what)
{
    char line[64];
    snprintf(line, sizeof line, "cpu:          %s\n", cpu);
    expect_in(out, line, what);
    expect_in(out, "type:         MH_DYLIB (dynamic library)", what);
    expect_in(out, "MH_TWOLEVEL", what);
    expect_in(out, "needed:       @rpath/libcli_dep.dylib (weak)", what);
    expect_in(out, "rpaths:       @loader_path/.", what);
    expect_in(out, "  __TEXT  ", what);
    expect_in(out, "  __DATA  ", what);
    expect_in(out, "  __LINKEDIT  ", what);
    expect_in(out, "r-x", what);
    expect_in(out, "  LC_SEGMENT_64 ", what);
    expect_in(out, "  LC_LOAD_WEAK_DYLIB ", what);
    expect_in(out, "  LC_RPATH ", what);
    expect_in(out, "exported symbols: 8\n", what);
}

Test(cli_macho, info_opcode_style_for_both_cpus)
{
    for (size_t i = 0; i < 2; i++) {
        struct run r = cli_ok("info", mfix(cpus[i], styles[0]), NULL);
        expect_sample_info(r.out, cpus[i], cpus[i]);
        expect_in(r.out, "install name: @rpath/libcli_opcodes.dylib", cpus[i]);
        expect_in(r.out, "  LC_DYLD_INFO_ONLY ", cpus[i]);
        expect_in(r.out, "fixups:       opcodes (LC_DYLD_INFO_ONLY)", cpus[i]);
        /* rebases: cli_counter_ptr and the lazy pointer; lazy bind: cli_dep_value. */
        expect_in(r.out, "  rebases:     2\n", cpus[i]);
        expect_in(r.out, "  lazy binds:  1\n", cpus[i]);
        expect_in(r.out, "  weak binds:  0\n", cpus[i]);
        cr_expect(strstr(r.out, "CHAINED") == NULL, "%s: chained in an opcode-style dylib", cpus[i]);
    }
}

Test(cli_macho, info_chained_for_both_cpus)
{
    for (size_t i = 0; i < 2; i++) {
        struct run r = cli_ok("info", mfix(cpus[i], styles[1]), NULL);
        expect_sample_info(r.out, cpus[i], cpus[i]);
        expect_in(r.out, "  LC_DYLD_CHAINED_FIXUPS ", cpus[i]);
        expect_in(r.out, "  LC_DYLD_EXPORTS_TRIE ", cpus[i]);
        expect_in(r.out, "fixups:       chained (LC_DYLD_CHAINED_FIXUPS)", cpus[i]);
        expect_in(r.out, "pointer formats: DYLD_CHAINED_PTR_64\n", cpus[i]);
        expect_in(r.out, "imports format:  DYLD_CHAINED_IMPORT,", cpus[i]);
        expect_in(r.out, "  rebases:     1\n", cpus[i]);       /* cli_counter_ptr */
        cr_expect(strstr(r.out, "lazy binds") == NULL, "%s: lazy binds in a chained dylib", cpus[i]);
    }
}

Test(cli_macho, info_fat_shows_every_slice)
{
    struct run r = cli_ok("info", mfix(NULL, "fat.dylib"), NULL);
    expect_in(r.out, "format:       Mach-O universal (FAT_MAGIC), 2 slices", "fat");
    expect_in(r.out, "  slice 0: x86_64 ", "fat");
    expect_in(r.out, "  slice 1: arm64 ", "fat");
    const char *s1 = strstr(r.out, "== slice 1 (arm64) ==");
    cr_assert(s1 && strstr(r.out, "== slice 0 (x86_64) =="), "no per-slice sections in:\n%s", r.out);
    expect_sample_info(s1, "arm64", "fat, slice 1");
    expect_in(s1, "chained (LC_DYLD_CHAINED_FIXUPS)", "fat, slice 1");
    char *s0 = strndup(r.out, (size_t)(s1 - r.out));
    expect_sample_info(s0, "x86_64", "fat, slice 0");
    free(s0);
}

Test(cli_macho, json_parses)
{
    const char *files[5] = { mfix(NULL, "fat.dylib") };
    for (size_t i = 0; i < 4; i++)
        files[1 + i] = mfix(cpus[i / 2], styles[i % 2]);
    for (size_t i = 0; i < 5; i++) {
        struct run info = cli_ok("info", files[i], "--json");
        expect_json(info.out, files[i]);
        expect_in(info.out, "\"format\": \"Mach-O\"", files[i]);
        expect_in(info.out, "{\"name\": \"__LINKEDIT\", ", files[i]);
        expect_in(info.out, "\"kind\": \"weak\", \"weak\": true", files[i]);
        expect_in(info.out, "\"exported_symbols\": 8}", files[i]);
        struct run sym = cli_ok("symbols", files[i], "--json");
        expect_json(sym.out, files[i]);
        expect_in(sym.out, "{\"name\": \"cli_add\", \"raw_name\": \"_cli_add\", \"kind\": \"regular\"", files[i]);
    }
    struct run fat = cli_ok("info", files[0], "--json");
    expect_in(fat.out, "\"universal\": \"FAT_MAGIC\"", "fat");
    expect_in(fat.out, "\"cpu\": \"x86_64\"", "fat");
    expect_in(fat.out, "\"cpu\": \"arm64\"", "fat");
    expect_in(fat.out, "\"pointer_formats\": [\"DYLD_CHAINED_PTR_64\"]", "fat");
}

/* ---- symbols ------------------------------------------------------------------------------- */

struct sym {
    char kind[32], name[64];
    uint64_t addr;
};

/* Parse the rows of `plugin symbols` text output (for a fat file: those of the slice whose
 * heading is "slice N (cpu):"). Returns the number of rows read into v. */
static size_t parse_symbols(const char *out, const char *cpu, struct sym *v, size_t max)
{
    char heading[64];
    snprintf(heading, sizeof heading, "(%s):\n", cpu);
    const char *p = strstr(out, "slice ") == out ? strstr(out, heading) : out;
    cr_assert(p, "no slice %s in:\n%s", cpu, out);
    size_t n = 0;
    for (p = strchr(p, '\n') + 1; *p && *p != '\n' && strncmp(p, "slice ", 6); p = strchr(p, '\n') + 1) {
        if (n < max && sscanf(p, "0x%" SCNx64 " %31s %63s", &v[n].addr, v[n].kind, v[n].name) == 3)
            n++;
        if (!strchr(p, '\n'))
            break;
    }
    return n;
}

static const struct sym *find_sym(const struct sym *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Every export of sample.c with its kind, sorted by name as `symbols` prints them. */
static void expect_sample_symbols(const struct sym *v, size_t n, const char *what)
{
    static const char *const want[][2] = {
        { "cli_absolute", "absolute" }, { "cli_add", "regular" }, { "cli_counter", "regular" },
        { "cli_counter_ptr", "regular" }, { "cli_read_tls", "regular" }, { "cli_tls", "thread-local" },
        { "cli_use_dep", "regular" }, { "cli_weak_fn", "weak" },
    };
    cr_assert_eq(n, 8, "%s: %zu symbols", what, n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(v[i].name, want[i][0], "%s: symbol %zu", what, i);
        cr_expect_str_eq(v[i].kind, want[i][1], "%s: kind of %s", what, v[i].name);
    }
    cr_expect_eq(find_sym(v, n, "cli_absolute")->addr, 0x1234, "%s: absolute value", what);
}

Test(cli_macho, symbols_for_both_cpus_and_styles)
{
    struct sym v[16];
    for (size_t i = 0; i < 4; i++) {
        const char *path = mfix(cpus[i / 2], styles[i % 2]);
        struct run r = cli_ok("symbols", path, NULL);
        expect_in(r.out, "ADDRESS", path);
        expect_sample_symbols(v, parse_symbols(r.out, cpus[i / 2], v, 16), path);
    }
}

Test(cli_macho, symbols_of_a_fat_file_per_slice)
{
    struct sym v[16], thin[16];
    struct run r = cli_ok("symbols", mfix(NULL, "fat.dylib"), NULL);
    for (size_t i = 0; i < 2; i++) {
        size_t n = parse_symbols(r.out, cpus[i], v, 16);
        expect_sample_symbols(v, n, cpus[i]);
        /* The same addresses as the thin file the slice was made from. */
        struct run t = cli_ok("symbols", mfix(cpus[i], styles[1]), NULL);
        cr_assert_eq(parse_symbols(t.out, cpus[i], thin, 16), n);
        for (size_t j = 0; j < n; j++)
            cr_expect_eq(v[j].addr, thin[j].addr, "%s: %s", cpus[i], v[j].name);
    }
}

/* ---- plugin_lookup returns what the CLI prints --------------------------------------------- */

/* Open path in this process; every regular or weak export must be at one constant (the load
 * address of the image) + its printed address; an absolute one at its printed value. */
static void expect_lookup_matches(const char *path)
{
    struct sym v[16];
    struct run r = cli_ok("symbols", path, NULL);
    size_t n = parse_symbols(r.out, MH_NATIVE, v, 16);
    cr_assert_eq(n, 8, "%s: %zu symbols", path, n);
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "plugin_open(%s): %s", path, err.message);
    uintptr_t base = 0;
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        bool absolute = strcmp(v[i].kind, "absolute") == 0;
        if (!absolute && strcmp(v[i].kind, "regular") && strcmp(v[i].kind, "weak"))
            continue;                                   /* thread-local: no fixed address */
        uintptr_t a = (uintptr_t)must_lookup(p, v[i].name);
        if (absolute) {
            cr_expect_eq(a, v[i].addr, "%s: %s", path, v[i].name);
            continue;
        }
        if (!base)
            base = a - v[i].addr;
        cr_expect_eq(a - v[i].addr, base, "%s: %s at %#lx, printed 0x%" PRIx64 ", image at %#lx", path,
                     v[i].name, (unsigned long)a, v[i].addr, (unsigned long)base);
        checked++;
    }
    cr_expect_eq(checked, 6, "%s: %zu symbols compared", path, checked);
    cr_expect_eq(base % 0x1000, 0, "%s: image at %#lx, not page-aligned", path, (unsigned long)base);
    /* And they are the real thing: the code runs, the data and the rebased pointer read right. */
    int (*add)(int, int) = (int (*)(int, int))must_lookup(p, "cli_add");
    cr_expect_eq(add(2, 3), 5);
    cr_expect_eq(*(int *)(base + find_sym(v, n, "cli_counter")->addr), 3);
    cr_expect_eq(**(int **)(base + find_sym(v, n, "cli_counter_ptr")->addr), 3);
}

Test(cli_macho, lookup_returns_the_printed_addresses)
{
    expect_lookup_matches(mfix(MH_NATIVE, styles[0]));
    expect_lookup_matches(mfix(MH_NATIVE, styles[1]));
    expect_lookup_matches(mfix(NULL, "fat.dylib"));
}

/* Exports whose Mach-O names lack the leading underscore (fixtures/macho/rawname.c): every row
 * `symbols` prints is reached by plugin_lookup of the printed name at the printed address; where
 * two rows print the same name (rn_shadow and _rn_shadow), the printed name reaches the C name's
 * export and "\1" + the name the other (include/plugin.h). */
Test(cli_macho, every_listed_export_is_reachable)
{
    char rel[64];
    snprintf(rel, sizeof rel, "macho/librawname.%s.dylib", MH_NATIVE);
    const char *path = fixture(rel);
    struct sym v[16];
    struct run r = cli_ok("symbols", path, NULL);
    size_t n = parse_symbols(r.out, MH_NATIVE, v, 16);
    cr_assert_eq(n, 5, "%s: %zu symbols", path, n);
    cr_assert_not_null(find_sym(v, n, ".rn_dot_name"), "%s", r.out);
    plugin *p = plugin_open(path, NULL);
    cr_assert_not_null(p);
    uintptr_t base = (uintptr_t)must_lookup(p, "rn_value") - find_sym(v, n, "rn_value")->addr;
    size_t shadowed = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t want = base + v[i].addr, got = (uintptr_t)must_lookup(p, v[i].name);
        bool twice = find_sym(v, n, v[i].name) != &v[i] || find_sym(v + i + 1, n - i - 1, v[i].name);
        if (got != want && twice) {
            char raw[80];
            snprintf(raw, sizeof raw, "\1%s", v[i].name);
            got = (uintptr_t)must_lookup(p, raw);
            shadowed++;
        }
        cr_expect_eq(got, want, "%s: %s at %#lx, printed at %#lx", path, v[i].name, (unsigned long)got,
                     (unsigned long)want);
    }
    cr_expect_eq(shadowed, 1, "%zu rows reached only by their raw name", shadowed);
}

Test(cli_macho, call_runs_functions_and_refuses_variables)
{
    const char *path = mfix(MH_NATIVE, styles[1]);
    struct run r = cli_words("call", path, (const char *const[4]){ "cli_add", "2", "3" });
    cr_expect_eq(r.code, 0, "call cli_add: exit %d, stderr: %s", r.code, r.err);
    cr_expect_str_eq(r.out, "5\n");
    r = cli_words("call", path, (const char *const[4]){ "cli_use_dep" });   /* bound to libcli_dep */
    cr_expect_str_eq(r.out, "7\n", "cli_use_dep: %s%s", r.out, r.err);
    static const char *const variables[] = { "cli_counter", "cli_counter_ptr", "cli_tls" };
    for (size_t i = 0; i < 3; i++) {
        r = cli_words("call", path, (const char *const[4]){ variables[i] });
        cr_expect_eq(r.code, 1, "call %s: exit %d (calling a variable crashes)", variables[i], r.code);
        expect_in(r.err, "is a variable, not a function", variables[i]);
    }
}

/* ---- damaged files ------------------------------------------------------------------------- */

static char *damaged_copy(const char *name, const uint8_t *data, size_t size)
{
    char *dir = make_temp_dir(), *path;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    write_file(path, data, size);
    free(dir);
    return path;
}

/* info and symbols (text and JSON; quick: info as text and symbols as JSON only) fail with exit 1
 * and one "plugin: PATH: " line on stderr (with --json one {"error": ...} line on stdout), or
 * succeed; never crash. must_fail: they have to fail. */
static void expect_clean(const char *path, bool must_fail, bool quick)
{
    static const char *const commands[] = { "info", "symbols" };
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "plugin: %s: ", path);
    for (size_t i = 0; i < 4; i++) {
        if (quick && (i == 1 || i == 2))
            continue;
        struct run r = cli(commands[i / 2], path, i % 2 ? "--json" : NULL);
        cr_assert(r.code == 0 || r.code == 1, "%s %s: exit %d (a crash?), stderr: %s", commands[i / 2], path,
                  r.code, r.err);
        if (must_fail)
            cr_expect_eq(r.code, 1, "%s %s: a damaged file was accepted", commands[i / 2], path);
        if (r.code == 1 && !(i % 2)) {
            cr_expect(strncmp(r.err, prefix, strlen(prefix)) == 0, "stderr: %s", r.err);
            cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line: %s", r.err);
            cr_expect_str_empty(r.out, "output despite the error");
        } else if (r.code == 1) {           /* --json: the error is one JSON object on stdout */
            cr_expect(strncmp(r.out, "{\"error\": {\"code\": \"PLUGIN_ERR_", strlen("{\"error\": {\"code\": \"PLUGIN_ERR_")) == 0, "stdout: %s", r.out);
            cr_expect(strchr(r.out, '\n') == r.out + strlen(r.out) - 1, "not one line: %s", r.out);
            cr_expect_str_empty(r.err, "stderr despite --json: %s", r.err);
        }
        free(r.out);
        free(r.err);
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

Test(cli_macho, truncated_files_fail_cleanly)
{
    size_t size;
    char *data = read_file(mfix("arm64", styles[1]), &size);
    const size_t cuts[] = { 4, 31, 100, 600, size / 2, size - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        expect_clean(damaged_copy("cut.dylib", (uint8_t *)data, cuts[i]), true, false);
    char *fat = read_file(mfix(NULL, "fat.dylib"), &size);
    expect_clean(damaged_copy("cut_fat.dylib", (uint8_t *)fat, 40), true, false);
    expect_clean(damaged_copy("cut_fat.dylib", (uint8_t *)fat, size - 100), true, false);
    free(data);
    free(fat);
}

Test(cli_macho, damaged_fields_are_reported)
{
    size_t size;
    uint8_t *d = (uint8_t *)read_file(mfix("x86_64", styles[1]), &size);
    put32(d + 20, 0x7ffffff0);                              /* sizeofcmds past the end */
    expect_clean(damaged_copy("sizeofcmds.dylib", d, size), true, false);
    free(d);
    d = (uint8_t *)read_file(mfix("x86_64", styles[1]), &size);
    put32(d + 32 + 4, 12);                                  /* first cmdsize not a multiple of 8 */
    expect_clean(damaged_copy("cmdsize.dylib", d, size), true, false);
    free(d);
    d = (uint8_t *)read_file(mfix("x86_64", styles[1]), &size);
    put32(d + 32 + 40, 0x7fff0000);                         /* __TEXT fileoff past the end */
    expect_clean(damaged_copy("segment.dylib", d, size), true, false);
    free(d);
    d = (uint8_t *)read_file(mfix(NULL, "fat.dylib"), &size);
    d[8 + 20 + 8] = 0x7f;                                   /* slice 1 offset past the end */
    expect_clean(damaged_copy("fat.dylib", d, size), true, false);
    free(d);
}

Test(cli_macho, corrupted_bytes_never_crash)
{
    size_t size;
    for (size_t s = 0; s < 2; s++) {
        uint8_t *orig = (uint8_t *)read_file(mfix(MH_NATIVE, styles[s]), &size);
        uint8_t *d = malloc(size);
        /* Bytes of the header and load commands, and of the linkedit data at the end. */
        for (size_t at = 16; at < size; at += at < 1400 ? 40 : 16) {
            if (at >= 1400 && at < size - 512)
                at = size - 512;
            memcpy(d, orig, size);
            d[at] ^= 0xa5;
            expect_clean(damaged_copy("flip.dylib", d, size), false, true);
        }
        free(d);
        free(orig);
    }
}
