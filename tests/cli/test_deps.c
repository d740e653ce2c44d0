/*
 * test_deps.c — `plugin deps` and the --json output of every command, end to end: the CLI is
 * run as a separate process and its JSON is read by Python's json module (python3 is installed
 * by scripts/deps.sh), whose assertions check the fields.
 *
 *   - the tree's paths equal ldd's (fixtures found through RUNPATH $ORIGIN, RPATH chains and
 *     glibc-hwcaps, and system libraries), natively (ldd cannot run under qemu-user);
 *   - the "why" where the fixtures make it known (origin/, deps/, hwcaps/: mk/tests.mk,
 *     mk/ldso.mk): DT_RUNPATH of X, DT_RPATH of X, glibc-hwcaps/LEVEL of DIR, LD_LIBRARY_PATH,
 *     already in the process, not found with the paths tried, a candidate for another CPU
 *     refused on the way;
 *   - info, symbols, deps and call print JSON that parses, errors included ({"error": ...});
 *   - names with quotes, newlines, control bytes and bytes that are not UTF-8 (a copy of a
 *     fixture with such names patched into its string table) come out as valid JSON that
 *     decodes to the same bytes (each non-UTF-8 byte as the code point of its value).
 */
#include "helpers.h"
#include "elf/hwcaps.h"

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

#if defined(__x86_64__)
#define PLATFORM_NAME "x86_64"
#else
#define PLATFORM_NAME "aarch64"
#endif

/* Run a shell command line (the CLI with an environment, a pipe). */
static struct run sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct run sh(const char *fmt, ...)
{
    static char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *argv[] = { "/bin/sh", "-c", line, NULL };
    return run_program(argv);
}

/* Check a JSON text with Python: d is the parsed document, check holds assert statements (one
 * per line, double quotes only). The test fails with Python's message when an assertion fails
 * or the text is not JSON. */
static void py_check(const char *json, const char *check, const char *what)
{
    char *dir = make_temp_dir(), file[4200];
    snprintf(file, sizeof file, "%s/out.json", dir);
    write_file(file, json, strlen(json));
    char prog[8192];
    snprintf(prog, sizeof prog,
             "import json, os, sys\nd = json.load(open(sys.argv[1], encoding=\"utf-8\"))\n%s\nprint(\"ok\")\n", check);
    char *argv[] = { "/usr/bin/python3", "-c", prog, file, NULL };
    struct run r = run_program(argv);
    cr_assert_eq(r.code, 0, "%s: python3 says:\n%s\nabout:\n%s", what, r.err, json);
    cr_assert(strstr(r.out, "ok"), "%s", r.out);
    free(dir);
}

/* The entry of d["dependencies"] named n (Python source, for checks). */
#define DEP(n) "[e for e in d[\"dependencies\"] if e[\"name\"] == \"" n "\"][0]"

/* ---- where each dependency comes from, and why ----------------------------------------- */

Test(cli_deps, runpath_origin)
{
    const char *root = fixture("origin/origin_plugin.so");
    struct run r = sh("'%s' deps --json '%s'", PLUGIN_CLI, root);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    char check[16384];
    snprintf(check, sizeof check,
             "e = " DEP("libsib.so") "\n"
             "assert e[\"outcome\"] == \"found\", e\n"
             "assert e[\"path\"] == \"%s\", e\n"
             "assert e[\"why\"] == \"DT_RUNPATH of %s\", e\n"
             "assert d[\"complete\"] is True and d[\"objects\"][0][\"path\"] == \"%s\"\n"
             "assert len(d[\"dependencies\"]) == 1 and len(d[\"objects\"]) == 2, d\n",
             fixture("origin/libsib.so"), root, root);
    py_check(r.out, check, "origin_plugin.so");
}

Test(cli_deps, rpath_of_the_loading_chain)
{
    const char *root = fixture("deps/dst_rpath.so");
    struct run r = sh("'%s' deps --json '%s'", PLUGIN_CLI, root);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    char check[16384];
    snprintf(check, sizeof check,
             "e = " DEP("libdst_lib.so") "\n"
             "assert e[\"path\"] == \"%s\" and e[\"why\"] == \"DT_RPATH of %s\", e\n"
             "c = " DEP("libdst_chain.so") "\n"
             "assert c[\"path\"] == \"%s\", c\n"
             "assert c[\"why\"] == \"DT_RPATH of %s\", c\n"
             "assert d[\"objects\"][c[\"from\"]][\"path\"] == e[\"path\"], c\n",
             fixture("deps/lib/" NATIVE_MULTIARCH "/libdst_lib.so"), root,
             fixture("deps/plat/" PLATFORM_NAME "/libdst_chain.so"), root);
    py_check(r.out, check, "dst_rpath.so");
}

/* The level elf/hwcaps.c says this CPU takes among x86-64-v2..v4 (1: none, aarch64). */
static int best_level(void)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    for (size_t i = 0; i < h->n; i++) {
        int level = 0;
        if (sscanf(h->names[i], "x86-64-v%d", &level) == 1 && level <= 4)
            return level;
    }
    return 1;
}

Test(cli_deps, glibc_hwcaps_subdirectory)
{
    const char *root = fixture("hwcaps/user_b.so");
    struct run r = sh("'%s' deps --json '%s'", PLUGIN_CLI, root);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    char dir[4096], want_path[4200], want_why[8400], check[16384];
    snprintf(dir, sizeof dir, "%s", fixture("hwcaps/b"));
    int level = best_level();
    if (level > 1) {
        snprintf(want_path, sizeof want_path, "%s/glibc-hwcaps/x86-64-v%d/libhw.so", dir, level);
        snprintf(want_why, sizeof want_why, "glibc-hwcaps/x86-64-v%d of %s (DT_RUNPATH of %s)", level, dir, root);
    } else {
        snprintf(want_path, sizeof want_path, "%s/libhw.so", dir);
        snprintf(want_why, sizeof want_why, "DT_RUNPATH of %s", root);
    }
    snprintf(check, sizeof check, "e = " DEP("libhw.so") "\nassert e[\"path\"] == \"%s\", e\nassert e[\"why\"] == \"%s\", e\n",
             want_path, want_why);
    py_check(r.out, check, "hwcaps/user_b.so");
}

Test(cli_deps, not_found_lists_the_paths_tried)
{
    const char *root = fixture("deps/lonely.so");
    struct run r = sh("LD_LIBRARY_PATH= '%s' deps --json '%s'", PLUGIN_CLI, root);
    cr_assert_eq(r.code, 1, "a missing dependency: exit 1, got %d\n%s", r.code, r.err);
    py_check(r.out,
             "e = " DEP("liblonely_dep.so") "\n"
             "assert e[\"outcome\"] == \"not_found\" and e[\"to\"] is None and e[\"path\"] is None, e\n"
             "assert \"/usr/lib/" NATIVE_MULTIARCH "/liblonely_dep.so\" in e[\"tried\"], e\n"
             "assert d[\"complete\"] is False\n"
             "c = " DEP("libc.so.6") "\n"
             "assert c[\"outcome\"] == \"in_process\" and c[\"why\"] == \"already in the process\", c\n"
             "assert d[\"objects\"][c[\"to\"]][\"in_process\"] is True\n",
             "lonely.so");
    struct run t = sh("LD_LIBRARY_PATH= '%s' deps '%s'", PLUGIN_CLI, root);
    cr_assert_eq(t.code, 1);
    cr_assert(strstr(t.out, "liblonely_dep.so => not found") && strstr(t.out, "tried: "), "%s", t.out);
}

/* LD_LIBRARY_PATH: its first directory holds a file of that name for the other CPU, refused on
 * the way (as ld.so skips it); the second has the right one. */
Test(cli_deps, ld_library_path_and_a_refused_candidate)
{
    char *dir = make_temp_dir(), wrong[4200];
    size_t size;
    char *other = read_file(fixture(CROSS_FIXTURE), &size);
    snprintf(wrong, sizeof wrong, "%s/liblonely_dep.so", dir);
    write_file(wrong, other, size);
    const char *root = fixture("deps/lonely.so");
    struct run r = sh("LD_LIBRARY_PATH='%s:%s' '%s' deps --json '%s'", dir, fixture("deps/elsewhere"), PLUGIN_CLI, root);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    char check[16384];
    snprintf(check, sizeof check,
             "e = " DEP("liblonely_dep.so") "\n"
             "assert e[\"outcome\"] == \"found\" and e[\"why\"] == \"LD_LIBRARY_PATH\", e\n"
             "assert e[\"path\"] == \"%s\", e\n"
             "assert len(e[\"refused\"]) == 1 and e[\"refused\"][0].startswith(\"%s: \"), e\n"
             "assert \"" OTHER_CPU "\" in e[\"refused\"][0], e\n",
             fixture("deps/elsewhere/liblonely_dep.so"), wrong);
    py_check(r.out, check, "lonely.so with LD_LIBRARY_PATH");
    free(other);
    free(dir);
}

#ifndef UNDER_QEMU
/* The same paths as ldd (glibc's ld.so run in trace mode), as a set of real paths; the vDSO and
 * ld.so itself, which ldd shows without "=>", are left out of both. */
static void same_as_ldd(const char *path)
{
    struct run r = sh("LD_LIBRARY_PATH= '%s' deps --json '%s'", PLUGIN_CLI, path);
    cr_assert_eq(r.code, 0, "%s: %s%s", path, r.out, r.err);
    char check[16384];
    snprintf(check, sizeof check,
             "import subprocess\n"
             "env = dict(os.environ, LD_LIBRARY_PATH=\"\")\n"
             "out = subprocess.run([\"ldd\", \"%s\"], capture_output=True, text=True, env=env, check=True).stdout\n"
             "ldd = {os.path.realpath(l.split(\"=>\")[1].split(\" (\")[0].strip()) for l in out.splitlines() if \"=>\" in l}\n"
             "ours = {os.path.realpath(o[\"path\"]) for o in d[\"objects\"][1:] if not os.path.basename(o[\"path\"]).startswith(\"ld-linux\")}\n"
             "assert ours == ldd, (\"ours only\", sorted(ours - ldd), \"ldd only\", sorted(ldd - ours))\n",
             path);
    py_check(r.out, check, path);
}
#endif

Test(cli_deps, paths_equal_ldd)
{
#ifdef UNDER_QEMU
    cr_skip_test("ldd runs the system's ld.so, which cannot trace an aarch64 object under qemu-user");
#else
    const char *paths[] = {
        fixture("origin/origin_plugin.so"), fixture("deps/dst_rpath.so"), fixture("hwcaps/user_b.so"),
        "/usr/lib/" NATIVE_MULTIARCH "/libz.so.1", "/usr/lib/" NATIVE_MULTIARCH "/libstdc++.so.6",
        "/usr/lib/" NATIVE_MULTIARCH "/libsqlite3.so.0", "/usr/lib/" NATIVE_MULTIARCH "/libcrypto.so.3",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        same_as_ldd(paths[i]);
#endif
}

Test(cli_deps, text_tree_marks_repeats)
{
    struct run r = sh("'%s' deps '%s'", PLUGIN_CLI, fixture("deps/dst_rpath.so"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "libdst_lib.so => ") && strstr(r.out, "(DT_RPATH of "), "%s", r.out);
    cr_assert(strstr(r.out, "\n        libdst_chain.so => "), "the chain is not under libdst_lib.so:\n%s", r.out);
    cr_assert(strstr(r.out, "[shown above]"), "libc.so.6, needed three times, is expanded each time:\n%s", r.out);
}

/* ---- JSON of every command, errors included ---------------------------------------------- */

Test(cli_json, every_command_parses)
{
    const char *so = fixture("cli_sample.so");
    struct run i = sh("'%s' info --json '%s'", PLUGIN_CLI, so);
    cr_assert_eq(i.code, 0, "%s", i.err);
    py_check(i.out, "assert d[\"format\"] == \"ELF\" and isinstance(d[\"needed\"], list)\n", "info");
    struct run s = sh("'%s' symbols --json '%s'", PLUGIN_CLI, so);
    cr_assert_eq(s.code, 0, "%s", s.err);
    py_check(s.out, "assert \"add3\" in [x[\"name\"] for x in d[\"symbols\"]]\n", "symbols");
    struct run c = sh("'%s' call --json '%s' add3 1 2 -3", PLUGIN_CLI, so);
    cr_assert_eq(c.code, 0, "%s", c.err);
    py_check(c.out, "assert d[\"symbol\"] == \"add3\" and d[\"arguments\"] == [1, 2, -3] and d[\"result\"] == 0, d\n",
             "call");
}

Test(cli_json, errors_are_json_objects)
{
    const char *missing = FIXTURE_DIR "/no-such-plugin.so";
    const char *cmds[] = { "info", "symbols", "deps" };
    char check[1024];
    snprintf(check, sizeof check,
             "assert d[\"error\"][\"code\"] == \"PLUGIN_ERR_IO\" and d[\"error\"][\"number\"] == 1, d\n"
             "assert \"%s\" in d[\"error\"][\"message\"], d\n", missing);
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        struct run r = sh("'%s' %s --json '%s'", PLUGIN_CLI, cmds[k], missing);
        cr_assert_eq(r.code, 1, "%s: exit %d", cmds[k], r.code);
        cr_assert_str_empty(r.err, "%s wrote to stderr: %s", cmds[k], r.err);
        py_check(r.out, check, cmds[k]);
    }
    struct run n = sh("'%s' call --json '%s' no_such_function", PLUGIN_CLI, fixture("cli_sample.so"));
    cr_assert_eq(n.code, 1);
    py_check(n.out, "assert d[\"error\"][\"code\"] == \"PLUGIN_ERR_NOT_FOUND\", d\n", "call of a missing symbol");
    struct run t = sh("'%s' symbols --json /etc/passwd", PLUGIN_CLI);
    cr_assert_eq(t.code, 1);
    py_check(t.out, "assert d[\"error\"][\"code\"] == \"PLUGIN_ERR_FORMAT\", d\n", "symbols of a text file");
}

/* ---- hostile names --------------------------------------------------------------------------- */

/* Replace every occurrence of the NUL-delimited name from in data with to (same length). */
static int patch_name(char *data, size_t size, const char *from, const char *to)
{
    size_t n = strlen(from);
    int count = 0;
    cr_assert_eq(strlen(to), n);
    for (size_t i = 1; i + n < size; i++)
        if (data[i - 1] == '\0' && data[i + n] == '\0' && memcmp(data + i, from, n) == 0) {
            memcpy(data + i, to, n);
            count++;
        }
    return count;
}

Test(cli_json, hostile_names_stay_valid)
{
    char *dir = make_temp_dir(), so[4200], dep[4200];
    size_t size;
    /* cli_counter becomes c"<newline><SOH>\<0xff><DEL>ab<ESC>c; Python reads 0xff as U+00FF. */
    char *data = read_file(fixture("cli_sample.so"), &size);
    cr_assert_gt(patch_name(data, size, "cli_counter", "c\"\n\x01\\\xff\x7f" "ab\x1b" "c"), 0);
    snprintf(so, sizeof so, "%s/hostile.so", dir);
    write_file(so, data, size);
    struct run s = sh("'%s' symbols --json '%s'", PLUGIN_CLI, so);
    cr_assert_eq(s.code, 0, "%s", s.err);
    py_check(s.out, "assert \"c\\\"\\n\\x01\\\\\\xff\\x7fab\\x1bc\" in [x[\"name\"] for x in d[\"symbols\"]], d\n",
             "symbols of hostile.so");
    struct run i = sh("'%s' info --json '%s'", PLUGIN_CLI, so);
    cr_assert_eq(i.code, 0, "%s", i.err);
    py_check(i.out, "assert d[\"format\"] == \"ELF\"\n", "info of hostile.so");
    struct run t = sh("'%s' symbols '%s'", PLUGIN_CLI, so);
    cr_assert(strstr(t.out, "c\"\\x0a\\x01") && !strchr(t.out, '\x01') && !strchr(t.out, '\x1b'),
              "control bytes reached the terminal:\n%s", t.out);
    free(data);

    data = read_file(fixture("origin/origin_plugin.so"), &size);
    cr_assert_gt(patch_name(data, size, "libsib.so", "l\"\n\x01\\\xff.so"), 0, "no libsib.so in origin_plugin.so");
    snprintf(dep, sizeof dep, "%s/hostile_dep.so", dir);
    write_file(dep, data, size);
    struct run r = sh("'%s' deps --json '%s'", PLUGIN_CLI, dep);
    cr_assert_eq(r.code, 1, "the renamed dependency cannot be found: exit %d\n%s", r.code, r.err);
    py_check(r.out,
             "e = [e for e in d[\"dependencies\"] if e[\"name\"] == \"l\\\"\\n\\x01\\\\\\xff.so\"][0]\n"
             "assert e[\"outcome\"] == \"not_found\", e\n"
             "assert any(p.endswith(\"/l\\\"\\n\\x01\\\\\\xff.so\") for p in e[\"tried\"]), e\n",
             "deps of hostile_dep.so");
    free(data);
    free(dir);
}

/* Mach-O: LC_LOAD_DYLIB @rpath/ names found through each needing image's LC_RPATH. */
Test(cli_deps, macho_rpath)
{
#if defined(__x86_64__)
    const char *root = fixture("macho/reexport.x86_64/librxclient.dylib");
#else
    const char *root = fixture("macho/reexport.arm64/librxclient.dylib");
#endif
    struct run r = sh("'%s' deps --json '%s'", PLUGIN_CLI, root);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    char check[16384];
    snprintf(check, sizeof check,
             "e = " DEP("@rpath/librx.dylib") "\n"
             "assert e[\"outcome\"] == \"found\" and e[\"why\"] == \"LC_RPATH of %s\", e\n"
             "assert d[\"objects\"][e[\"to\"]][\"format\"] == \"Mach-O\", d\n"
             "h = " DEP("@rpath/libhost.dylib") "\n"
             "assert h[\"from\"] == e[\"to\"] and h[\"outcome\"] == \"found\", h\n"
             "assert h[\"why\"] == \"LC_RPATH of \" + d[\"objects\"][e[\"to\"]][\"path\"], h\n"
             "assert os.path.realpath(h[\"path\"]).endswith(\"/libhost.dylib\"), h\n",
             root);
    py_check(r.out, check, "librxclient.dylib");
}
