/*
 * test_macho_reader.c — the one Mach-O reader (loader/macho/macho_header.c, macho_fixup_walk.c,
 * macho_describe.c) as both users see it: plugin_open_memory (the loader) and `plugin info` /
 * `plugin symbols` (build/plugin as a separate process). Issue 8's Mach-O defects, each on the
 * lane's fixture with a few bytes patched (fuzz/gen_macho_reader_crashes.py writes the same
 * patches of the x86_64 fixtures into fuzz/crashes/):
 *
 *   two segments named __LINKEDIT         refused by both (was: checked against the last one, read
 *                                         through the first — an out-of-bounds read);
 *   __thread_vars not 8-byte aligned      refused by the loader (was: written through a misaligned
 *                                         struct tlv_desc); described by the CLI;
 *   a thread-local template that wraps    refused by both: a section outside its segment (was: the
 *                                         open succeeded, the first access aborted);
 *   an export trie with no exports        loads, and the CLI lists no exports (was: qsort(NULL, 0)).
 *
 * And the reader's describe mode: it accepts what loading refuses (the other CPU), and refuses what
 * it cannot describe with the same words as the loader.
 */
#include "helpers.h"
#include "macho/macho_describe.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef PLUGIN_CLI
#error "PLUGIN_CLI must be defined by the build (mk/tests.mk)"
#endif

#if defined(__x86_64__)
#define MCPU "x86_64"
#define OCPU "arm64"
#else
#define MCPU "arm64"
#define OCPU "x86_64"
#endif

enum { LC_SEGMENT_64_ = 0x19, LC_DYLD_EXPORTS_TRIE_ = 0x80000033 };

/* ---- the lane's fixtures, read and patched ---- */

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

struct file { uint8_t *b; size_t size; };

static struct file read_fixture(const char *fmt, const char *cpu)
{
    char name[256];
    snprintf(name, sizeof name, fmt, cpu);
    struct file f;
    f.b = (uint8_t *)read_file(fixture(name), &f.size);
    cr_assert_eq(rd32(f.b), 0xfeedfacfu, "%s is not a thin 64-bit Mach-O", name);
    return f;
}

/* Offset of the first load command cmd (with name as segment name, when given), or 0. */
static size_t find_cmd(const struct file *f, uint32_t cmd, const char *segname)
{
    size_t off = 32;
    for (uint32_t i = 0, n = rd32(f->b + 16); i < n; i++, off += rd32(f->b + off + 4)) {
        cr_assert_leq(off + 8, f->size);
        if (rd32(f->b + off) == cmd && (!segname || strncmp((char *)f->b + off + 8, segname, 16) == 0))
            return off;
    }
    return 0;
}

static size_t segment(const struct file *f, const char *name)
{
    size_t c = find_cmd(f, LC_SEGMENT_64_, name);
    cr_assert_neq(c, 0u, "no segment %s", name);
    return c;
}

/* The section header `name` of the segment command at seg. */
static size_t section(const struct file *f, size_t seg, const char *name)
{
    for (uint32_t k = 0, n = rd32(f->b + seg + 64); k < n; k++) {
        size_t sc = seg + 72 + 80 * (size_t)k;
        if (strncmp((char *)f->b + sc, name, 16) == 0)
            return sc;
    }
    cr_assert_fail("no section %s", name);
    return 0;
}

/* __DATA renamed __LINKEDIT, with __DATA_CONST's file offset: a second __LINKEDIT whose
 * vmaddr - fileoff differs from the real one's. */
static struct file two_linkedit(void)
{
    struct file f = read_fixture("macho/libfix.chained.%s.dylib", MCPU);
    size_t data = segment(&f, "__DATA"), cnst = segment(&f, "__DATA_CONST");
    memset(f.b + data + 8, 0, 16);
    memcpy(f.b + data + 8, "__LINKEDIT", 10);
    memcpy(f.b + data + 40, f.b + cnst + 40, 8);
    return f;
}

static struct file misaligned_thread_vars(void)
{
    struct file f = read_fixture("macho/libtlv.%s.dylib", MCPU);
    size_t sc = section(&f, segment(&f, "__DATA"), "__thread_vars");
    put64(f.b + sc + 32, rd64(f.b + sc + 32) + 4);
    return f;
}

/* __thread_data and __thread_bss sized so that address + size is 0x10 (past 2^64). */
static struct file thread_template_wraps(void)
{
    struct file f = read_fixture("macho/libtlv.%s.dylib", MCPU);
    size_t seg = segment(&f, "__DATA");
    const char *names[] = { "__thread_data", "__thread_bss" };
    for (size_t i = 0; i < 2; i++) {
        size_t sc = section(&f, seg, names[i]);
        put64(f.b + sc + 40, 0 - rd64(f.b + sc + 32) + 0x10);
    }
    return f;
}

static struct file empty_export_trie(void)
{
    struct file f = read_fixture("macho/libfix.chained.%s.dylib", MCPU);
    size_t c = find_cmd(&f, LC_DYLD_EXPORTS_TRIE_, NULL);
    cr_assert_neq(c, 0u);
    memset(f.b + rd32(f.b + c + 8), 0, 2);                      /* no terminal, no child */
    return f;
}

/* ---- the two users ---- */

static int mh_host_add(int a, int b) { return a + b; }
static int mh_host_array[128];

static void *host_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    if (!strcmp(name, "mh_host_add"))
        return (void *)mh_host_add;
    return !strcmp(name, "mh_host_array") ? mh_host_array : NULL;
}

static const struct plugin_options host_opts = { .resolve = host_resolve };

/* plugin_open_memory refuses f with code, naming the image and every string of want. */
static void expect_load_refused(const struct file *f, enum plugin_errc code, const char *const *want)
{
    plugin_error err;
    cr_assert_null(plugin_open_memory(f->b, f->size, "reader-test", &host_opts, &err), "loaded");
    cr_assert_eq(err.code, code, "code %d, message: %s", err.code, err.message);
    cr_assert(strstr(err.message, "reader-test"), "message does not name the image: %s", err.message);
    for (; *want; want++)
        cr_assert(strstr(err.message, *want), "expected \"%s\" in: %s", *want, err.message);
}

/* build/plugin COMMAND PATH [--json] */
static struct run cli(const char *command, const char *path, bool json)
{
    char *argv[] = { PLUGIN_CLI, (char *)command, (char *)path, json ? "--json" : NULL, NULL };
    return run_program(argv);
}

static char *temp_copy(const struct file *f, const char *name)
{
    char *dir = make_temp_dir(), *path;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    write_file(path, f->b, f->size);
    free(dir);
    return path;
}

/* info and symbols, text and JSON: exit 1 and one line "plugin: PATH: ..." naming want, on
 * stderr (text) or as the message of one {"error": ...} line on stdout (JSON). */
static void expect_cli_refused(const struct file *f, const char *name, const char *want)
{
    char *path = temp_copy(f, name), prefix[4200];
    snprintf(prefix, sizeof prefix, "plugin: %s: ", path);
    for (int i = 0; i < 4; i++) {
        const char *command = i < 2 ? "info" : "symbols";
        struct run r = cli(command, path, i % 2);
        cr_assert_eq(r.code, 1, "%s %s: exit %d, stderr: %s", command, path, r.code, r.err);
        const char *line = i % 2 ? r.out : r.err, *quiet = i % 2 ? r.err : r.out;
        const char *msg = i % 2 ? strstr(line, "\"message\": \"") : line;
        cr_expect(i % 2 == 0 || strncmp(line, "{\"error\": {\"code\": ", strlen("{\"error\": {\"code\": ")) == 0, "stdout: %s", line);
        cr_expect(msg && strncmp(msg + (i % 2 ? 12 : 0), prefix, strlen(prefix)) == 0, "report: %s", line);
        cr_expect(strchr(line, '\n') == line + strlen(line) - 1, "not one line: %s", line);
        cr_expect(strstr(line, want), "expected \"%s\" in: %s", want, line);
        cr_expect_str_empty(quiet, "output despite the error");
        free(r.out);
        free(r.err);
    }
    free(path);
}

/* info and symbols, text and JSON: exit 0, nothing on stderr; the info text is returned. */
static char *expect_cli_described(const struct file *f, const char *name)
{
    char *path = temp_copy(f, name), *info = NULL;
    for (int i = 0; i < 4; i++) {
        const char *command = i < 2 ? "info" : "symbols";
        struct run r = cli(command, path, i % 2);
        cr_assert_eq(r.code, 0, "%s %s: exit %d, stderr: %s", command, path, r.code, r.err);
        cr_expect_str_empty(r.err, "%s %s wrote to stderr", command, path);
        if (i == 0)
            info = r.out;
        else
            free(r.out);
        free(r.err);
    }
    free(path);
    return info;
}

/* ---- issue 8's defects ---- */

Test(macho_reader, second_linkedit_segment_is_refused)
{
    struct file f = two_linkedit();
    expect_load_refused(&f, PLUGIN_ERR_FORMAT, (const char *const[]){ "two __LINKEDIT segments", NULL });
    expect_cli_refused(&f, "two-linkedit.dylib", "two __LINKEDIT segments");
    free(f.b);
}

Test(macho_reader, misaligned_thread_vars_are_refused)
{
    struct file f = misaligned_thread_vars();
    expect_load_refused(&f, PLUGIN_ERR_FORMAT, (const char *const[]){ "__thread_vars", "not 8-byte aligned", NULL });
    free(expect_cli_described(&f, "misaligned-tlv.dylib"));    /* describing it reads no descriptor */
    free(f.b);
}

Test(macho_reader, thread_template_that_wraps_is_refused)
{
    struct file f = thread_template_wraps();
    expect_load_refused(&f, PLUGIN_ERR_FORMAT, (const char *const[]){ "__thread_data", "not inside its segment", NULL });
    expect_cli_refused(&f, "tlv-wraps.dylib", "not inside its segment");
    free(f.b);
}

Test(macho_reader, export_trie_without_exports)
{
    struct file f = empty_export_trie();
    plugin_error err;
    plugin *p = plugin_open_memory(f.b, f.size, "reader-test", &host_opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "fix_value", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    char *info = expect_cli_described(&f, "empty-trie.dylib");
    cr_expect(strstr(info, "exported symbols: 0\n"), "%s", info);
    free(info);
    free(f.b);
}

/* ---- describe mode: any CPU; the loader's refusals in the loader's words ---- */

static void describe_fixture(const char *fmt, const char *cpu, struct macho_description *out, plugin_error *err)
{
    char name[256];
    snprintf(name, sizeof name, fmt, cpu);
    size_t size;
    char *b = read_file(fixture(name), &size);
    struct source s;
    struct diag d = { .err = err };
    source_open_memory(&s, b, size, "reader-test");
    int rc = macho_describe(out, &s, &d);
    free(b);
    cr_assert_eq(rc, 0, "%s: %s", name, err->message);
}

Test(macho_reader, describes_the_other_cpu_which_loading_refuses)
{
    struct macho_description desc;
    plugin_error err;
    describe_fixture("macho/libfix.chained.%s.dylib", OCPU, &desc, &err);
    cr_assert_eq(desc.nslices, 1u);
    const struct macho_described *s = &desc.slices[0];
    char buf[32];
    cr_expect_str_eq(macho_cpu_name(s->m.cputype, s->m.cpusubtype, buf, sizeof buf), OCPU);
    cr_expect_eq(s->fixups.kind, MACHO_FIXUPS_CHAINED);
    cr_expect_gt(s->counts.rebases, 0u);
    cr_expect_gt(s->counts.binds, 0u);
    cr_expect(s->have_trie && s->nexports > 0);
    for (size_t i = 1; i < s->nexports; i++)
        cr_expect_leq(strcmp(macho_c_name(s->exports[i - 1].name), macho_c_name(s->exports[i].name)), 0);
    macho_description_free(&desc);
}

Test(macho_reader, describes_every_slice_of_a_fat_file)
{
    struct macho_description desc;
    plugin_error err;
    describe_fixture("macho/fat%s.dylib", "64", &desc, &err);
    cr_assert_eq(desc.fat_magic, 0xcafebabfu);
    cr_assert_eq(desc.nslices, 2u);
    for (size_t i = 0; i < 2; i++) {
        cr_expect_eq(desc.slices[i].at.cputype, desc.slices[i].m.cputype, "slice %zu", i);
        cr_expect_eq(desc.slices[i].m.slice_off, desc.slices[i].at.off, "slice %zu", i);
        cr_expect_gt(desc.slices[i].nexports, 0u, "slice %zu", i);
    }
    macho_description_free(&desc);
}

/* The same damage gives the same words from both users. */
Test(macho_reader, loader_and_cli_refuse_with_the_same_words)
{
    struct file f = two_linkedit();
    plugin_error err;
    cr_assert_null(plugin_open_memory(f.b, f.size, "reader-test", &host_opts, &err));
    const char *cause = strstr(err.message, "reader-test: ");
    cr_assert_not_null(cause, "%s", err.message);
    cause += strlen("reader-test: ");
    char *path = temp_copy(&f, "same-words.dylib");
    struct run r = cli("info", path, false);
    cr_assert_eq(r.code, 1);
    char want[1200];
    snprintf(want, sizeof want, "plugin: %s: %s\n", path, cause);
    cr_expect_str_eq(r.err, want);
    free(r.out);
    free(r.err);
    free(path);
    free(f.b);
}
