/*
 * test_macho.c — Mach-O objects built by clang-19 / lld-19 from the sources in fixtures/macho (mk/macho.mk),
 * loaded and called (issue 4). The lane's CPU is used: x86_64 natively, arm64 under qemu; the
 * other CPU's build gives PLUGIN_ERR_ARCH.
 *
 *  - fix.c built three ways (opcode-style dylib, chained-fixups dylib, bundle), its chained build
 *    inside fat and fat64 files, and the chained build patched to DYLD_CHAINED_PTR_64_OFFSET: the
 *    same checks on each (exports by value, rebases, function pointers, a flat-lookup bind to a
 *    host function given by resolve, a bind with an addend, weak imports that read NULL,
 *    constructors run once in priority order with (argc, argv, envp));
 *  - addend64.c: a bind with an addend >= 2^32 (imports_format 3, checked in the file);
 *  - libtwolevel.dylib → libhost.dylib through @rpath / @loader_path, bound by ordinal;
 *  - printf.c: a variadic bind, refused on arm64, working on x86_64;
 *  - tlv.c: a __thread variable from 8 threads;
 *  - damaged copies made here (a chain that runs off its page, an export trie with a cycle,
 *    truncated load commands, a segment past the end of the file), the other CPU, a fat file
 *    without this CPU: refused with the right code, and nothing left behind.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MCPU  "x86_64"
#define OCPU  "arm64"
#else
#define MCPU  "arm64"
#define OCPU  "x86_64"
#endif

enum {
    LC_SEGMENT_64 = 0x19, LC_DYLD_INFO_ONLY = 0x80000022, LC_DYLD_EXPORTS_TRIE = 0x80000033,
    LC_DYLD_CHAINED_FIXUPS = 0x80000034, MH_DYLIB = 6, MH_BUNDLE = 8,
};

/* ---- what the host gives the fixtures (through plugin_options.resolve) ---- */

static int mh_host_add(int a, int b) { return a + b; }
static int mh_host_array[128];
static char mh_host_far[16];            /* only its address is used: far + 2^32 + 16 */
static int resolve_underscored;         /* a name given to resolve with its '_' (it must not be) */

static void *host_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    if (name[0] == '_')
        resolve_underscored++;
    if (!strcmp(name, "mh_host_add"))
        return (void *)mh_host_add;
    if (!strcmp(name, "mh_host_array"))
        return mh_host_array;
    if (!strcmp(name, "mh_host_far"))
        return mh_host_far;
    return NULL;
}

static const struct plugin_options host_opts = { .resolve = host_resolve };

/* FIXTURE_DIR/macho/<name>, with "%s" in name replaced by a CPU name. */
static const char *mfix(const char *fmt, const char *cpu)
{
    char name[256];
    snprintf(name, sizeof name, fmt, cpu);
    char *full = malloc(strlen(name) + 8);
    cr_assert_not_null(full);
    sprintf(full, "macho/%s", name);
    return fixture(full);
}

static plugin *open_macho(const char *path)
{
    plugin_error err;
    plugin *p = plugin_open_with(path, &host_opts, &err);
    cr_assert_not_null(p, "%s: %s", path, err.message);
    cr_assert_eq(err.code, PLUGIN_OK);
    return p;
}

/* ---- reading a Mach-O file (the tests' own reader, to check and patch fixtures) ---- */

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Offset of the first load command cmd of a thin file, or 0. */
static size_t find_cmd(const uint8_t *b, size_t size, uint32_t cmd)
{
    cr_assert_geq(size, 32u);
    cr_assert_eq(rd32(b), 0xfeedfacfu);
    uint32_t ncmds = rd32(b + 16);
    size_t off = 32;
    for (uint32_t i = 0; i < ncmds; i++) {
        cr_assert_leq(off + 8, size);
        if (rd32(b + off) == cmd)
            return off;
        off += rd32(b + off + 4);
    }
    return 0;
}

struct seg { uint64_t vmaddr, vmsize, fileoff, filesize; };

/* The index-th LC_SEGMENT_64; 0 when there is none. */
static int segment_at(const uint8_t *b, uint32_t index, struct seg *s, char name[17])
{
    uint32_t ncmds = rd32(b + 16), n = 0;
    size_t off = 32;
    for (uint32_t i = 0; i < ncmds; i++, off += rd32(b + off + 4)) {
        if (rd32(b + off) != LC_SEGMENT_64 || n++ != index)
            continue;
        *s = (struct seg){ rd64(b + off + 24), rd64(b + off + 32), rd64(b + off + 40), rd64(b + off + 48) };
        if (name) {
            memcpy(name, b + off + 8, 16);
            name[16] = '\0';
        }
        return 1;
    }
    return 0;
}

/* The imports_format of the LC_DYLD_CHAINED_FIXUPS payload (offset 20 of its header). */
static uint32_t imports_format(const char *path)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(path, &size);
    size_t c = find_cmd(b, size, LC_DYLD_CHAINED_FIXUPS);
    cr_assert_neq(c, 0u, "%s has no LC_DYLD_CHAINED_FIXUPS", path);
    uint32_t dataoff = rd32(b + c + 8);
    cr_assert_leq(dataoff + 28, size);
    uint32_t f = rd32(b + dataoff + 20);
    free(b);
    return f;
}

/* A copy of the file in a fresh temporary directory; returns its path (malloc'ed). */
static char *temp_copy(const uint8_t *b, size_t size, const char *name)
{
    char *dir = make_temp_dir(), *path = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(path);
    sprintf(path, "%s/%s", dir, name);
    write_file(path, b, size);
    free(dir);
    return path;
}

/* ---- the checks every build of fix.c must pass ---- */

static void check_fix(plugin *p)
{
    /* An exported variable: by value, and its address equals what the plugin's code uses. */
    int *value = must_lookup(p, "fix_value");
    cr_assert_eq(*value, 42);
    int *(*value_addr)(void) = (int *(*)(void))must_lookup(p, "fix_value_addr");
    cr_assert_eq(value_addr(), value, "fix_value_addr() = %p, lookup = %p", (void *)value_addr(), (void *)value);

    /* Rebased pointers to data (__DATA) and to strings (__DATA_CONST). */
    int **table = must_lookup(p, "fix_table");
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(table[i]);
        cr_assert_eq(*table[i], i + 1, "*fix_table[%d] = %d", i, *table[i]);
    }
    cr_assert_eq(((int (*)(void))must_lookup(p, "fix_table_sum"))(), 6);
    const char *const *strings = must_lookup(p, "fix_strings");
    cr_assert_str_eq(strings[0], "zero");
    cr_assert_str_eq(strings[1], "one");
    cr_assert_str_eq(strings[2], "two");

    /* Function pointers (rebases into __TEXT), called from here and from the plugin. */
    int (**fns)(int) = must_lookup(p, "fix_fns");
    cr_assert_eq(fns[0](7), 14);
    cr_assert_eq(fns[1](7), 21);
    int (*call_table)(int, int) = (int (*)(int, int))must_lookup(p, "fix_call_table");
    cr_assert_eq(call_table(0, 5), 10);
    cr_assert_eq(call_table(1, 5), 15);

    /* A flat-lookup bind to a host function given by resolve (without the leading '_'). */
    cr_assert_eq(((int (*)(int))must_lookup(p, "fix_call_host"))(5), 1005);
    cr_assert_eq(resolve_underscored, 0, "resolve was given a name with its Mach-O underscore");

    /* A bind with an addend (400: beyond a chained bind's 8 inline bits). */
    int **addend_ptr = must_lookup(p, "fix_addend_ptr");
    cr_assert_eq(*addend_ptr, &mh_host_array[100], "fix_addend_ptr = %p, want %p", (void *)*addend_ptr,
                 (void *)&mh_host_array[100]);

    /* Weak imports nobody defines read NULL, from data and from code. */
    cr_assert_null(*(void **)must_lookup(p, "fix_weak_fn_ptr"));
    cr_assert_null(*(void **)must_lookup(p, "fix_weak_var_ptr"));
    cr_assert_null(((void *(*)(void))must_lookup(p, "fix_weak_fn_code"))());

    /* Constructors: once each, in priority order, with the process's (argc, argv). */
    int *order = must_lookup(p, "fix_order"), *nctors = must_lookup(p, "fix_nctors");
    cr_assert_eq(*nctors, 3, "%d constructor calls", *nctors);
    cr_assert(order[0] == 1 && order[1] == 2 && order[2] == 3, "constructor order %d %d %d", order[0], order[1],
              order[2]);
    int argc = *(int *)must_lookup(p, "fix_ctor_argc");
    char **argv = *(char ***)must_lookup(p, "fix_ctor_argv");
    cr_assert_geq(argc, 1, "argc = %d", argc);
    cr_assert_not_null(argv);
    char *self = self_argv0();
    cr_assert_str_eq(argv[0], self);
    free(self);
    cr_assert_null(argv[argc], "argv not NULL-terminated at argc");
    extern char **environ;
    cr_assert_eq(*(char ***)must_lookup(p, "fix_ctor_envp"), environ, "envp is not the process's environ");

    /* Opening it again returns the same handle and runs nothing again. */
    plugin_error err;
    cr_assert_eq(plugin_open_with(plugin_path(p), &host_opts, &err), p, "%s", err.message);
    cr_assert_eq(*nctors, 3);

    /* __DATA_CONST (SG_READ_ONLY) is read-only after the fixups, __DATA stays writable, code is
     * executable; nothing is writable and executable. */
    char perms[5], first[256];
    cr_assert_eq(maps_perms_of(strings, perms), 0);
    cr_assert_str_eq(perms, "r--p", "__DATA_CONST mapped %s", perms);
    cr_assert_eq(maps_perms_of(table, perms), 0);
    cr_assert_str_eq(perms, "rw-p", "__DATA mapped %s", perms);
    cr_assert_eq(maps_perms_of((void *)fns[0], perms), 0);
    cr_assert_str_eq(perms, "r-xp", "__TEXT mapped %s", perms);
    cr_assert_eq(count_wx_mappings(first), 0, "%s", first);
}

Test(macho, opcode_style_dylib)
{
    const char *path = mfix("libfix.info.%s.dylib", MCPU);
    size_t size;
    uint8_t *b = (uint8_t *)read_file(path, &size);
    cr_assert_eq(rd32(b + 12), MH_DYLIB);
    cr_assert_neq(find_cmd(b, size, LC_DYLD_INFO_ONLY), 0u, "no LC_DYLD_INFO_ONLY");
    cr_assert_eq(find_cmd(b, size, LC_DYLD_CHAINED_FIXUPS), 0u);
    free(b);
    check_fix(open_macho(path));
}

Test(macho, chained_fixups_dylib)
{
    const char *path = mfix("libfix.chained.%s.dylib", MCPU);
    size_t size;
    uint8_t *b = (uint8_t *)read_file(path, &size);
    cr_assert_eq(rd32(b + 12), MH_DYLIB);
    cr_assert_eq(find_cmd(b, size, LC_DYLD_INFO_ONLY), 0u);
    cr_assert_neq(find_cmd(b, size, LC_DYLD_EXPORTS_TRIE), 0u);
    free(b);
    cr_assert_eq(imports_format(path), 2u, "the addend of 400 needs DYLD_CHAINED_IMPORT_ADDEND");
    check_fix(open_macho(path));
}

Test(macho, bundle)
{
    const char *path = mfix("fix.%s.bundle", MCPU);
    size_t size;
    uint8_t *b = (uint8_t *)read_file(path, &size);
    cr_assert_eq(rd32(b + 12), MH_BUNDLE);
    free(b);
    check_fix(open_macho(path));
}

/* The three builds are three images: each has its own data and ran its own constructors. */
Test(macho, three_builds_are_three_images)
{
    plugin *a = open_macho(mfix("libfix.info.%s.dylib", MCPU));
    plugin *b = open_macho(mfix("libfix.chained.%s.dylib", MCPU));
    plugin *c = open_macho(mfix("fix.%s.bundle", MCPU));
    cr_assert(a != b && b != c && a != c);
    int *va = must_lookup(a, "fix_value"), *vb = must_lookup(b, "fix_value"), *vc = must_lookup(c, "fix_value");
    cr_assert(va != vb && vb != vc && va != vc);
    *va = 1;
    cr_assert_eq(*vb, 42);
    cr_assert_eq(*vc, 42);
    check_fix(b);
    check_fix(c);
}

Test(macho, fat_picks_this_cpus_slice)
{
    const char *path = mfix("fat.dylib", NULL);
    size_t size;
    char *b = read_file(path, &size);
    cr_assert_eq(rd32((uint8_t *)b), 0xbebafecau, "not cafebabe");      /* big-endian magic */
    free(b);
    plugin *p = open_macho(path);
    cr_assert_str_eq(plugin_path(p), path);
    check_fix(p);
}

Test(macho, fat64_picks_this_cpus_slice)
{
    const char *path = mfix("fat64.dylib", NULL);
    size_t size;
    char *b = read_file(path, &size);
    cr_assert_eq(rd32((uint8_t *)b), 0xbfbafecau, "not cafebabf");
    free(b);
    check_fix(open_macho(path));
}

/* ---- refusals: the right code and message, and nothing left behind ---- */

static void expect_refused_with(const char *path, const struct plugin_options *opts, enum plugin_errc code,
                                const char *want)
{
    plugin_error err;
    plugin_open_with(path, opts, &err);                         /* warm-up */
    char *before = maps_snapshot();
    int fds = count_fds();
    cr_assert_null(plugin_open_with(path, opts, &err), "%s was loaded", path);
    cr_assert_eq(err.code, code, "code %d (%s), message: %s", err.code, plugin_strerror(err.code), err.message);
    cr_assert(strstr(err.message, path), "message does not name the file: %s", err.message);
    cr_assert(strstr(err.message, want), "expected \"%s\" in: %s", want, err.message);
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after, "mappings changed");
    cr_assert_eq(count_fds(), fds, "descriptors changed");
    free(before);
    free(after);
}

static void expect_refused(const char *path, enum plugin_errc code, const char *want)
{
    expect_refused_with(path, &host_opts, code, want);
}

Test(macho, fat_without_this_cpu_names_the_slices)
{
    expect_refused(mfix("fat_only_%s.dylib", OCPU), PLUGIN_ERR_ARCH, "slices: " OCPU);
}

Test(macho, other_cpu_is_an_arch_error)
{
    expect_refused(mfix("libfix.chained.%s.dylib", OCPU), PLUGIN_ERR_ARCH, OCPU);
}

/* The chained build, with every starts_in_segment's pointer_format changed from
 * DYLD_CHAINED_PTR_64 (2) to DYLD_CHAINED_PTR_64_OFFSET (6): valid because __TEXT is at vmaddr 0
 * (a target vmaddr is then also an offset from the image's base). */
Test(macho, chained_ptr_64_offset)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    struct seg text;
    char name[17];
    cr_assert(segment_at(b, 0, &text, name));
    cr_assert_str_eq(name, "__TEXT");
    cr_assert_eq(text.vmaddr, 0u, "__TEXT at 0x%llx: the patch needs it at 0", (unsigned long long)text.vmaddr);
    size_t c = find_cmd(b, size, LC_DYLD_CHAINED_FIXUPS);
    cr_assert_neq(c, 0u);
    uint8_t *h = b + rd32(b + c + 8);
    uint32_t starts = rd32(h + 4), nseg = rd32(h + starts), patched = 0;
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t so = rd32(h + starts + 4 + 4 * i);
        if (!so)
            continue;
        uint8_t *fmt = h + starts + so + 6;
        cr_assert_eq(rd16(fmt), 2u, "segment %u has pointer_format %u", i, rd16(fmt));
        uint16_t six = 6;
        memcpy(fmt, &six, 2);
        patched++;
    }
    cr_assert_geq(patched, 2u, "only %u segments with chains", patched);
    char *path = temp_copy(b, size, "libfix.offset.dylib");
    free(b);
    check_fix(open_macho(path));
    free(path);
}

/* A chain that runs off its page: the last fixup of a page's chain gets a `next` that goes past
 * the page's end. */
Test(macho, chain_running_off_its_page_is_refused)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    size_t c = find_cmd(b, size, LC_DYLD_CHAINED_FIXUPS);
    uint8_t *h = b + rd32(b + c + 8);
    uint32_t starts = rd32(h + 4), nseg = rd32(h + starts);
    bool done = false;
    for (uint32_t i = 0; i < nseg && !done; i++) {
        uint32_t so = rd32(h + starts + 4 + 4 * i);
        if (!so)
            continue;
        const uint8_t *s = h + starts + so;
        uint16_t page_size = rd16(s + 4), pages = rd16(s + 20);
        struct seg g;
        cr_assert(segment_at(b, i, &g, NULL));
        for (uint16_t k = 0; k < pages && !done; k++) {
            uint16_t start = rd16(s + 22 + 2 * k);
            if (start == 0xffff)
                continue;
            uint64_t page = g.fileoff + (uint64_t)k * page_size, off = start, w;
            for (;;) {
                cr_assert_leq(page + off + 8, size);
                w = rd64(b + page + off);
                uint64_t next = (w >> 51) & 0xfff;
                if (!next)
                    break;
                off += next * 4;
            }
            uint64_t next = (page_size - off + 3) / 4;          /* lands at or past the page's end */
            if (next > 0xfff)
                continue;                                       /* cannot reach: try another page */
            w = (w & ~(0xfffULL << 51)) | next << 51;
            memcpy(b + page + off, &w, 8);
            done = true;
        }
    }
    cr_assert(done, "no chain to damage");
    char *path = temp_copy(b, size, "libfix.offpage.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_FORMAT, "runs off its page");
    free(path);
}

/* An export trie whose root's first child is the root itself. */
Test(macho, export_trie_cycle_is_refused)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    size_t c = find_cmd(b, size, LC_DYLD_EXPORTS_TRIE);
    cr_assert_neq(c, 0u);
    uint8_t *t = b + rd32(b + c + 8);
    size_t pos = 0;
    uint64_t tsize = 0;
    for (unsigned shift = 0;; shift += 7) {                     /* terminal size (ULEB128) */
        tsize |= (uint64_t)(t[pos] & 0x7f) << shift;
        if (!(t[pos++] & 0x80))
            break;
    }
    pos += tsize;
    cr_assert_geq(t[pos], 1, "the root has no child");
    pos++;
    pos += strlen((char *)t + pos) + 1;                         /* the first edge's label */
    while (t[pos] & 0x80)                                       /* its child offset: now 0 */
        t[pos++] = 0x80;
    t[pos] = 0;
    char *path = temp_copy(b, size, "libfix.cycle.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_FORMAT, "cycle");
    free(path);
}

/* The file cut in the middle of its load commands. */
Test(macho, truncated_load_commands_are_refused)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    uint32_t sizeofcmds = rd32(b + 20);
    char *path = temp_copy(b, 32 + sizeofcmds / 2, "libfix.cut.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_FORMAT, "load commands");
    free(path);
}

/* The last load command claims more bytes than the command area has. */
Test(macho, load_command_larger_than_the_commands_is_refused)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    uint32_t ncmds = rd32(b + 16);
    size_t off = 32;
    for (uint32_t i = 0; i + 1 < ncmds; i++)
        off += rd32(b + off + 4);
    uint32_t big = rd32(b + 20) + 8;
    memcpy(b + off + 4, &big, 4);
    char *path = temp_copy(b, size, "libfix.bigcmd.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_FORMAT, "does not fit");
    free(path);
}

/* The file cut inside its last segment (__LINKEDIT): the segment lies past the end of the file. */
Test(macho, segment_past_end_of_file_is_refused)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    struct seg g = { 0 }, last = { 0 };
    char name[17], last_name[17] = "";
    for (uint32_t i = 0; segment_at(b, i, &g, name); i++)
        if (g.filesize)
            last = g, memcpy(last_name, name, sizeof name);
    cr_assert_str_eq(last_name, "__LINKEDIT");
    cr_assert_gt(last.filesize, 16u);
    char *path = temp_copy(b, last.fileoff + last.filesize - 16, "libfix.short.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_FORMAT, "__LINKEDIT");
    free(path);
}

/* ---- binds with addends, two-level namespace, variadic functions ---- */

Test(macho, import_addend64)
{
    const char *path = mfix("libaddend64.%s.dylib", MCPU);
    cr_assert_eq(imports_format(path), 3u, "an addend >= 2^32 needs DYLD_CHAINED_IMPORT_ADDEND64");
    plugin *p = open_macho(path);
    uintptr_t want = (uintptr_t)mh_host_far + 0x100000010ULL;
    char *far = *(char **)must_lookup(p, "a64_far_ptr");
    cr_assert_eq((uintptr_t)far, want, "a64_far_ptr = %p, want 0x%lx", (void *)far, (unsigned long)want);
    cr_assert_eq((uintptr_t)((char *(*)(void))must_lookup(p, "a64_far"))(), want);
    cr_assert_eq(*(int **)must_lookup(p, "a64_near_ptr"), &mh_host_array[100]);
    int *value = must_lookup(p, "a64_value");
    cr_assert_eq(*value, 64);
    cr_assert_eq(*(int **)must_lookup(p, "a64_self_ptr"), value);
}

/* libtwolevel.dylib binds libhost's symbols by library ordinal 1: libhost (found through
 * @rpath/libhost.dylib and LC_RPATH @loader_path/.) wins over what resolve offers. */
static int decoy_value = -1;
static int decoy_twice(int x) { return -x; }
static void *decoy_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    if (!strcmp(name, "libhost_value"))
        return &decoy_value;
    if (!strcmp(name, "libhost_twice"))
        return (void *)decoy_twice;
    return NULL;
}

Test(macho, two_level_dependency_through_rpath)
{
    const char *path = mfix("twolevel.%s/libtwolevel.dylib", MCPU);
    const char *host_path = mfix("twolevel.%s/libhost.dylib", MCPU);
    struct plugin_options opts = { .resolve = decoy_resolve };
    plugin_error err;
    plugin *p = plugin_open_with(path, &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(int))must_lookup(p, "tl_call"))(5), 11);
    /* libhost was loaded by that open: opening it now returns the same image. */
    plugin *h = plugin_open(host_path, &err);
    cr_assert_not_null(h, "%s", err.message);
    cr_assert_neq(h, p);
    int *host_value = must_lookup(h, "libhost_value");
    cr_assert_eq(*host_value, 7);
    cr_assert_eq(((int *(*)(void))must_lookup(h, "libhost_value_addr"))(), host_value);
    int *seen = ((int *(*)(void))must_lookup(p, "tl_host_value_addr"))();
    cr_assert_eq(seen, host_value, "libtwolevel sees libhost_value at %p, libhost has it at %p (decoy %p)",
                 (void *)seen, (void *)host_value, (void *)&decoy_value);
    cr_assert_eq(*(int **)must_lookup(p, "tl_host_value_ptr"), host_value);
}

/* The fixture's printf goes to this test's stdout, captured (not shown) and compared. */
Test(macho, variadic_host_function, .init = cr_redirect_stdout)
{
    const char *path = mfix("libprintf.%s.dylib", MCPU);
#if defined(__aarch64__)
    expect_refused(path, PLUGIN_ERR_UNSUPPORTED, "printf");
#else
    plugin *p = open_macho(path);
    int (*pf)(int, const char *) = (int (*)(int, const char *))must_lookup(p, "pf_print");
    fflush(stdout);
    int n = pf(12345, "abc");
    fflush(stdout);
    cr_assert_eq(n, (int)strlen("macho printf: 12345 abc ok\n"), "printf returned %d", n);
    cr_assert_eq(*(int *)must_lookup(p, "pf_value"), 5);
    cr_assert_stdout_eq_str("macho printf: 12345 abc ok\n", "pf_print printed something else");
#endif
}

/* ---- thread-local variables ---- */

enum { NTHREADS = 8 };

struct tv_api {
    int (*get)(void);
    void (*set)(int);
    int (*get_hidden)(void);
    int *(*addr)(void);
};

struct tv_thread {
    const struct tv_api *api;
    plugin *p;
    pthread_barrier_t *barrier;
    int id, initial, initial_hidden, after_set, after_others, hidden;
    int *addr, *addr_again, *looked_up;
};

static void *tv_worker(void *arg)
{
    struct tv_thread *t = arg;
    t->initial = t->api->get();                         /* a fresh thread sees the template: 3 */
    t->initial_hidden = t->api->get_hidden();           /* and zero fill (__thread_bss) */
    t->api->set(100 + t->id);
    t->after_set = t->api->get();
    t->addr = t->api->addr();
    pthread_barrier_wait(t->barrier);                   /* every thread has set its own value */
    t->after_others = t->api->get();
    t->hidden = t->api->get_hidden();
    t->addr_again = t->api->addr();
    t->looked_up = plugin_lookup(t->p, "tv", NULL);    /* this thread's address, as dlsym gives */
    pthread_barrier_wait(t->barrier);                   /* all alive until every address is taken */
    return NULL;
}

Test(macho, thread_local_variable_from_8_threads)
{
    plugin *p = open_macho(mfix("libtlv.%s.dylib", MCPU));
    struct tv_api api = {
        (int (*)(void))must_lookup(p, "tv_get"), (void (*)(int))must_lookup(p, "tv_set"),
        (int (*)(void))must_lookup(p, "tv_get_hidden"), (int *(*)(void))must_lookup(p, "tv_addr"),
    };
    cr_assert_eq(api.get(), 3);
    api.set(1);                                         /* this thread's copy only */
    cr_assert_eq(api.get(), 1);
    int *main_addr = api.addr();
    cr_assert_eq(*main_addr, 1);

    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    struct tv_thread t[NTHREADS];
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        t[i] = (struct tv_thread){ .api = &api, .p = p, .barrier = &barrier, .id = i };
        cr_assert_eq(pthread_create(&th[i], NULL, tv_worker, &t[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);

    for (int i = 0; i < NTHREADS; i++) {
        cr_assert_eq(t[i].initial, 3, "thread %d first read %d", i, t[i].initial);
        cr_assert_eq(t[i].initial_hidden, 0, "thread %d: zero-filled variable read %d", i, t[i].initial_hidden);
        cr_assert_eq(t[i].after_set, 100 + i);
        cr_assert_eq(t[i].after_others, 100 + i, "thread %d reads %d after the others set theirs", i,
                     t[i].after_others);
        cr_assert_eq(t[i].hidden, 101 + i);
        cr_assert_eq(t[i].addr, t[i].addr_again);
        cr_assert_eq(t[i].looked_up, t[i].addr, "thread %d: plugin_lookup(\"tv\") = %p, &tv = %p", i,
                     (void *)t[i].looked_up, (void *)t[i].addr);
        cr_assert_neq(t[i].addr, main_addr);
        for (int k = 0; k < i; k++)
            cr_assert_neq(t[i].addr, t[k].addr, "threads %d and %d share %p", i, k, (void *)t[i].addr);
    }
    cr_assert_eq(api.get(), 1, "the main thread's copy changed");
    cr_assert_eq(api.addr(), main_addr);
    plugin_error err;
    cr_assert_eq(plugin_lookup(p, "tv", &err), main_addr, "%s", err.message);
}

/* A thread that already exists when the plugin is opened gets its block on first use too. */
struct early_thread {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    plugin *p;
    int initial, after_set;
    int *addr;
};

static void *early_worker(void *arg)
{
    struct early_thread *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->p)
        pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    e->initial = ((int (*)(void))plugin_lookup(e->p, "tv_get", NULL))();
    ((void (*)(int))plugin_lookup(e->p, "tv_set", NULL))(77);
    e->after_set = ((int (*)(void))plugin_lookup(e->p, "tv_get", NULL))();
    e->addr = ((int *(*)(void))plugin_lookup(e->p, "tv_addr", NULL))();
    return NULL;
}

Test(macho, thread_local_variable_in_a_thread_older_than_the_open)
{
    struct early_thread e = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, NULL };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, early_worker, &e), 0);
    plugin *p = open_macho(mfix("libtlv.%s.dylib", MCPU));
    pthread_mutex_lock(&e.mu);
    e.p = p;
    pthread_cond_signal(&e.cv);
    pthread_mutex_unlock(&e.mu);
    pthread_join(th, NULL);
    cr_assert_eq(e.initial, 3);
    cr_assert_eq(e.after_set, 77);
    int *mine = ((int *(*)(void))must_lookup(p, "tv_addr"))();
    cr_assert_neq(e.addr, mine);
    cr_assert_eq(*mine, 3, "the main thread's copy is %d", *mine);
}

/* The getter must keep every register the compiled code holds live across a thread-local
 * access (fixtures/macho/tlvregs.c), on a thread's first access too, when it allocates. */
typedef double (*keep_live_fn)(double, double, double, double, double, double, double, double,
                               long, long, long, long, long, long);

static double keep_live_expected(long hits, double scale)
{
    double a = 1.5, b = 2.25, c = -3.0, d = 4.5, e = 0.75, f = 6.0, g = -7.25, h = 8.0;
    long i = 3, j = -5, k = 7, l = 11, m = -13, n = 17;
    double s = a * b + c * d + e * f + g * h + (a + h) * (b + g) + (c + f) * (d + e);
    long t = i * j + k * l + m * n + (i + n) * (j + m);
    return (s + (double)t + (double)hits) * scale;
}

static void *keep_live_worker(void *fn)
{
    static double got[3];
    keep_live_fn f = (keep_live_fn)fn;
    for (int r = 0; r < 3; r++)
        got[r] = f(1.5, 2.25, -3.0, 4.5, 0.75, 6.0, -7.25, 8.0, 3, -5, 7, 11, -13, 17);
    return got;
}

Test(macho, thread_local_access_preserves_registers)
{
    plugin *p = open_macho(mfix("libtlvregs.%s.dylib", MCPU));
    void *fn = must_lookup(p, "keep_live");
    for (int th = 0; th < 4; th++) {                    /* each thread starts with a fresh block */
        pthread_t t;
        double *got;
        cr_assert_eq(pthread_create(&t, NULL, keep_live_worker, fn), 0);
        pthread_join(t, (void **)&got);
        for (int r = 0; r < 3; r++)
            cr_assert_eq(got[r], keep_live_expected(r + 1, 2.0 * (1 << r)),
                         "thread %d call %d: %f, expected %f", th, r, got[r],
                         keep_live_expected(r + 1, 2.0 * (1 << r)));
    }
}

/* ---- failures after mapping, memory images, the symbol table as a fallback ---- */

/* Without the resolve callback, mh_host_add and mh_host_array are nowhere (which is bound first
 * depends on the build): the open fails after the image was mapped, and leaves nothing behind. */
Test(macho, undefined_symbol_after_mapping_leaves_nothing)
{
    struct plugin_options none = { 0 };
    expect_refused_with(mfix("libfix.chained.%s.dylib", MCPU), &none, PLUGIN_ERR_UNDEFINED, "mh_host_");
    expect_refused_with(mfix("libfix.info.%s.dylib", MCPU), &none, PLUGIN_ERR_UNDEFINED, "mh_host_");
}

/* libtwolevel.dylib copied alone: @rpath/libhost.dylib is not next to it. */
Test(macho, missing_rpath_dependency)
{
    size_t size;
    char *b = read_file(mfix("twolevel.%s/libtwolevel.dylib", MCPU), &size);
    char *path = temp_copy((uint8_t *)b, size, "libtwolevel.dylib");
    free(b);
    expect_refused(path, PLUGIN_ERR_DEPENDENCY, "libhost.dylib");
    free(path);
}

/* The same bytes from memory: loaded, fixed up and initialized; every call is a new image. */
Test(macho, memory_image)
{
    const char *names[] = { "libfix.info.%s.dylib", "libfix.chained.%s.dylib", "fat.dylib", "fat64.dylib" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t size;
        char *b = read_file(mfix(names[i], MCPU), &size);
        plugin_error err;
        plugin *p = plugin_open_memory(b, size, "macho-memory", &host_opts, &err);
        cr_assert_not_null(p, "%s: %s", names[i], err.message);
        plugin *q = plugin_open_memory(b, size, "macho-memory", &host_opts, &err);
        cr_assert_not_null(q, "%s: %s", names[i], err.message);
        free(b);
        cr_assert_neq(p, q);
        int *v = must_lookup(p, "fix_value");
        cr_assert_neq(v, must_lookup(q, "fix_value"));
        cr_assert_eq(*v, 42);
        cr_assert_eq(((int *(*)(void))must_lookup(p, "fix_value_addr"))(), v);
        cr_assert_eq(((int (*)(void))must_lookup(p, "fix_table_sum"))(), 6);
        cr_assert_eq(((int (*)(int))must_lookup(q, "fix_call_host"))(1), 1001);
        cr_assert_eq(*(int **)must_lookup(q, "fix_addend_ptr"), &mh_host_array[100]);
        cr_assert_eq(*(int *)must_lookup(p, "fix_nctors"), 3);
        cr_assert_eq(*(int *)must_lookup(q, "fix_nctors"), 3);
    }
}

/* The chained build with its LC_DYLD_EXPORTS_TRIE emptied (datasize 0): exports come from the
 * symbol table (external symbols defined in a section). */
Test(macho, exports_from_the_symbol_table_without_a_trie)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib", MCPU), &size);
    size_t c = find_cmd(b, size, LC_DYLD_EXPORTS_TRIE);
    cr_assert_neq(c, 0u);
    memset(b + c + 12, 0, 4);                                   /* datasize */
    char *path = temp_copy(b, size, "libfix.notrie.dylib");
    free(b);
    plugin *p = open_macho(path);
    check_fix(p);
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "twice", &err), "a static function was found");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "mh_host_add", &err), "an import was found as an export");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    free(path);
}

/* Lookups: the C name, not the Mach-O one; a miss is NOT_FOUND. */
Test(macho, lookup_uses_c_names)
{
    plugin *p = open_macho(mfix("libfix.chained.%s.dylib", MCPU));
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "_fix_value", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "fix_valu", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "fix_value_", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_not_null(plugin_lookup(p, "fix_value", &err), "%s", err.message);
    cr_assert_eq(err.code, PLUGIN_OK);
}
