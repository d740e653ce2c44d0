/*
 * test_errors.c — files that must be refused, with the right code, a message naming the file,
 * and nothing left behind: /proc/self/maps and the set of open descriptors as before.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

struct snapshot {
    char *maps;
    int fds;
};

/* One failing open first, so that one-time lazy set-up (libelf, the registry, the list of the
 * process's objects) is not taken for a leak. */
static void warm_up(void)
{
    plugin_open(FIXTURE_DIR "/does-not-exist.so", NULL);
    plugin_open(fixture("basic.so"), NULL);
}

static struct snapshot take(void)
{
    struct snapshot s = { maps_snapshot(), count_fds() };
    return s;
}

static void first_difference(const char *a, const char *b, char *out, size_t n)
{
    size_t i = 0, line = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            line = i + 1;               /* the start of the line that will differ */
        i++;
    }
    snprintf(out, n, "before: \"%.*s\" / after: \"%.*s\"", (int)strcspn(a + line, "\n"),
             a + line, (int)strcspn(b + line, "\n"), b + line);
}

static void expect_unchanged(const struct snapshot *before, const char *what)
{
    struct snapshot after = take();
    cr_assert_eq(after.fds, before->fds, "%s: %d open descriptors before, %d after", what,
                 before->fds, after.fds);
    if (strcmp(before->maps, after.maps) != 0) {
        char diff[400];
        first_difference(before->maps, after.maps, diff, sizeof diff);
        cr_assert_fail("%s: /proc/self/maps changed: %s", what, diff);
    }
    free(after.maps);
}

/* Open path, expect failure with code and a message naming the file; then nothing left behind.
 * Twice: a failed open leaves no registry entry, so the second one fails the same way. */
static void expect_refused(const char *path, enum plugin_errc code)
{
    warm_up();
    struct snapshot before = take();
    for (int round = 0; round < 2; round++) {
        plugin_error err;
        err.code = PLUGIN_OK;
        plugin *p = plugin_open(path, &err);
        cr_assert_null(p, "%s was loaded", path);
        cr_assert_eq(err.code, code, "%s: code %d (%s), want %d (%s); message: %s", path,
                     err.code, plugin_strerror(err.code), code, plugin_strerror(code),
                     err.message);
        cr_assert_not_null(strstr(err.message, path), "message does not name the file: %s",
                           err.message);
        cr_assert_null(strchr(err.message, '\n'), "message is not one line: %s", err.message);
        expect_unchanged(&before, path);
    }
    cr_assert_null(plugin_open(path, NULL));          /* err may be NULL */
    expect_unchanged(&before, path);
    free(before.maps);
}

/* A copy of a real fixture, modified, in a temporary file. */
static char *variant(const char *name, size_t keep, void (*patch)(char *buf, size_t size))
{
    size_t size;
    char *buf = read_file(fixture("basic.so"), &size);
    if (keep && keep < size)
        size = keep;
    if (patch)
        patch(buf, size);
    char *path;
    cr_assert_geq(asprintf(&path, "%s/%s", make_temp_dir(), name), 0);
    write_file(path, buf, size);
    free(buf);
    return path;
}

Test(errors, missing_file_is_io)
{
    expect_refused(FIXTURE_DIR "/no-such-plugin.so", PLUGIN_ERR_IO);
}

Test(errors, directory_is_refused)
{
    warm_up();
    plugin_error err;
    cr_assert_null(plugin_open(FIXTURE_DIR, &err));
    cr_assert(err.code == PLUGIN_ERR_IO || err.code == PLUGIN_ERR_FORMAT, "code %d", err.code);
}

Test(errors, text_file_is_format)
{
    char *path;
    cr_assert_geq(asprintf(&path, "%s/notes.so", make_temp_dir()), 0);
    const char *text = "This is not an ELF file.\nJust text, long enough to have a header's size "
                       "and more: 0123456789012345678901234567890123456789\n";
    write_file(path, text, strlen(text));
    expect_refused(path, PLUGIN_ERR_FORMAT);
}

Test(errors, empty_file_is_format)
{
    char *path;
    cr_assert_geq(asprintf(&path, "%s/empty.so", make_temp_dir()), 0);
    write_file(path, "", 0);
    expect_refused(path, PLUGIN_ERR_FORMAT);
}

Test(errors, truncated_to_64_bytes_is_format)
{
    expect_refused(variant("cut64.so", 64, NULL), PLUGIN_ERR_FORMAT);
}

Test(errors, truncated_to_600_bytes_is_format)
{
    expect_refused(variant("cut600.so", 600, NULL), PLUGIN_ERR_FORMAT);
}

Test(errors, truncated_segments_are_format)
{
    size_t size;
    free(read_file(fixture("basic.so"), &size));
    /* The headers are intact, but the segments run past the end of the file. */
    expect_refused(variant("cuthalf.so", size / 3, NULL), PLUGIN_ERR_FORMAT);
}

static void phoff_past_end(char *buf, size_t size)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    eh->e_phoff = size - 8;           /* the table starts 8 bytes before the end of the file */
}

static void phoff_overflow(char *buf, size_t size)
{
    (void)size;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    eh->e_phoff = UINT64_MAX - 16;    /* e_phoff + e_phnum * e_phentsize wraps around */
}

static void phnum_past_end(char *buf, size_t size)
{
    (void)size;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    eh->e_phnum = 0xfff0;             /* 0xfff0 * 56 bytes: far past the end */
}

Test(errors, program_headers_past_end_are_format)
{
    expect_refused(variant("phoff.so", 0, phoff_past_end), PLUGIN_ERR_FORMAT);
}

Test(errors, program_header_offset_overflow_is_format)
{
    expect_refused(variant("phoff-wrap.so", 0, phoff_overflow), PLUGIN_ERR_FORMAT);
}

Test(errors, too_many_program_headers_is_format)
{
    expect_refused(variant("phnum.so", 0, phnum_past_end), PLUGIN_ERR_FORMAT);
}

static void elfclass32(char *buf, size_t size)
{
    (void)size;
    buf[EI_CLASS] = ELFCLASS32;
}

Test(errors, wrong_class_is_refused)
{
    warm_up();
    plugin_error err;
    const char *path = variant("class32.so", 0, elfclass32);
    cr_assert_null(plugin_open(path, &err));
    cr_assert(err.code == PLUGIN_ERR_ARCH || err.code == PLUGIN_ERR_FORMAT, "code %d: %s",
              err.code, err.message);
}

/* foreign.so is a valid shared object for the other CPU (aarch64 in the x86-64 lane, x86-64 in
 * the aarch64 lane): refused as PLUGIN_ERR_ARCH, and the message names that CPU. */
Test(errors, other_cpu_object_is_arch)
{
    const char *path = fixture("foreign.so");
    uint64_t v;
    cr_assert(file_dyn_tag(path, DT_STRTAB, &v), "fixture is not a shared object");
    cr_assert_eq(file_machine(path), OTHER_EM, "foreign.so is not for " OTHER_CPU);
    expect_refused(path, PLUGIN_ERR_ARCH);
    plugin_error err;
    plugin_open(path, &err);
    cr_assert_not_null(strcasestr(err.message, OTHER_CPU), "message does not name the CPU "
                       OTHER_CPU ": %s", err.message);
}

/* Failures after the segments were mapped must unmap them too. */
Test(errors, unresolved_symbol_leaves_nothing)
{
    expect_refused(fixture("undef.so"), PLUGIN_ERR_UNDEFINED);
}

Test(errors, text_relocations_are_unsupported)
{
    const char *path = fixture("textrel.so");
    uint64_t v;
    cr_assert(file_dyn_tag(path, DT_TEXTREL, &v), "fixture has no DT_TEXTREL");
    cr_assert_geq(file_relocs_into_readonly(path), 1,
                  "textrel.so has no relocation into a read-only segment");
    expect_refused(path, PLUGIN_ERR_UNSUPPORTED);
}

/* The same object with the DT_TEXTREL marks removed: the relocation that targets the read-only
 * text segment must still be refused. */
static void strip_textrel_marks(char *buf, size_t size)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    cr_assert_leq(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size);
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
    int patched = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_DYNAMIC)
            continue;
        cr_assert_leq(ph[i].p_offset + ph[i].p_filesz, size);
        Elf64_Dyn *d = (Elf64_Dyn *)(buf + ph[i].p_offset);
        for (size_t k = 0; k < ph[i].p_filesz / sizeof *d && d[k].d_tag != DT_NULL; k++) {
            if (d[k].d_tag == DT_TEXTREL) {
                d[k].d_tag = DT_DEBUG;          /* harmless: ld.so writes r_debug there */
                patched++;
            } else if (d[k].d_tag == DT_FLAGS && (d[k].d_un.d_val & DF_TEXTREL)) {
                d[k].d_un.d_val &= ~(uint64_t)DF_TEXTREL;
                patched++;
            }
        }
    }
    cr_assert_geq(patched, 1, "no DT_TEXTREL found to remove");
}

Test(errors, relocation_into_text_is_unsupported)
{
    size_t size;
    char *buf = read_file(fixture("textrel.so"), &size);
    strip_textrel_marks(buf, size);
    warm_up();
    struct snapshot before = take();
    plugin_error err;
    cr_assert_null(plugin_open_memory(buf, size, "textrel-unmarked.so", NULL, &err),
                   "a relocation into read-only text was applied");
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, "textrel-unmarked.so"), "message: %s", err.message);
    expect_unchanged(&before, "textrel-unmarked.so");
}

Test(errors, memory_garbage_is_format)
{
    warm_up();
    struct snapshot before = take();
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 31 + 7);
    plugin_error err;
    cr_assert_null(plugin_open_memory(garbage, sizeof garbage, "garbage.so", NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, "garbage.so"), "message: %s", err.message);

    size_t size;
    char *elf = read_file(fixture("basic.so"), &size);
    cr_assert_null(plugin_open_memory(elf, 64, "cut.so", NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT, "code %d: %s", err.code, err.message);
    cr_assert_null(plugin_open_memory(elf, 0, "empty.so", NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT, "code %d: %s", err.code, err.message);
    expect_unchanged(&before, "memory images");
}

Test(errors, strerror_names_every_code)
{
    for (int c = PLUGIN_OK; c <= PLUGIN_ERR_POLICY; c++) {
        const char *s = plugin_strerror((enum plugin_errc)c);
        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 0);
        for (int d = PLUGIN_OK; d < c; d++)
            cr_assert_str_neq(s, plugin_strerror((enum plugin_errc)d), "codes %d and %d", c, d);
    }
}
