/*
 * test_macho_header.c — the Mach-O front end's first stages (slice choice, header, load commands,
 * segments, linkedit ranges) on images built byte by byte here, for this CPU and the other one.
 * The smallest valid image (no fixups, an empty export trie) loads; every damaged one is refused
 * with the right code, a message naming the image, and nothing left behind.
 */
#include "arch.h"
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CPU_X86_64 0x01000007u
#define CPU_ARM64 0x0100000cu

static uint32_t native_cpu(void) { return arch_native()->macho_cputype; }
static uint32_t other_cpu(void) { return native_cpu() == CPU_X86_64 ? CPU_ARM64 : CPU_X86_64; }
static const char *cpu_name(uint32_t cpu) { return cpu == CPU_X86_64 ? "x86_64" : "arm64"; }

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

enum { IMG_SIZE = 0x1100, CMDS = 32, SEG = 72 };

/* A minimal MH_DYLIB: __TEXT (r-x, 0x1000 bytes), __LINKEDIT (r--, 0x100 bytes) holding an
 * LC_DYLD_EXPORTS_TRIE of 16 bytes. Offsets of the pieces tests patch are returned. */
struct thin { uint8_t *b; size_t size; size_t text_cmd, linkedit_cmd, trie_cmd; };

static void segment(uint8_t *c, const char *name, uint64_t vmaddr, uint64_t size, uint64_t fileoff, uint32_t prot)
{
    put32(c, 0x19);
    put32(c + 4, SEG);
    strncpy((char *)c + 8, name, 16);
    put64(c + 24, vmaddr);
    put64(c + 32, size);
    put64(c + 40, fileoff);
    put64(c + 48, size);
    put32(c + 56, prot);
    put32(c + 60, prot);
}

static struct thin make_thin(uint32_t cpu)
{
    struct thin t = { calloc(1, IMG_SIZE), IMG_SIZE, CMDS, CMDS + SEG, CMDS + 2 * SEG };
    cr_assert_not_null(t.b);
    put32(t.b, 0xfeedfacf);
    put32(t.b + 4, cpu);
    put32(t.b + 12, 6);                                 /* MH_DYLIB */
    put32(t.b + 16, 3);                                 /* ncmds */
    put32(t.b + 20, 2 * SEG + 16);                      /* sizeofcmds */
    segment(t.b + t.text_cmd, "__TEXT", 0, 0x1000, 0, 5);
    segment(t.b + t.linkedit_cmd, "__LINKEDIT", 0x1000, 0x100, 0x1000, 1);
    put32(t.b + t.trie_cmd, 0x80000033);                /* LC_DYLD_EXPORTS_TRIE */
    put32(t.b + t.trie_cmd + 4, 16);
    put32(t.b + t.trie_cmd + 8, 0x1000);
    put32(t.b + t.trie_cmd + 12, 16);
    return t;
}

/* plugin_open_memory must fail with code; the message names the image and contains want.
 * Nothing may stay behind: same mappings, same descriptors. */
static void expect_refused(const void *img, size_t size, enum plugin_errc code, const char *want)
{
    plugin_error err;
    plugin_open_memory(img, size, "macho-test", NULL, &err);    /* warm-up */
    char *before = maps_snapshot();
    int fds = count_fds();
    cr_assert_null(plugin_open_memory(img, size, "macho-test", NULL, &err));
    cr_assert_eq(err.code, code, "code %d, message: %s", err.code, err.message);
    cr_assert(strstr(err.message, "macho-test"), "message does not name the image: %s", err.message);
    cr_assert(strstr(err.message, want), "expected \"%s\" in: %s", want, err.message);
    char *after = maps_snapshot();
    cr_assert_str_eq(before, after);
    cr_assert_eq(fds, count_fds());
    free(before);
    free(after);
}

/* A valid image loads; it exports nothing, so a lookup is a clean miss. */
static void expect_loaded(const void *img, size_t size)
{
    plugin_error err;
    plugin *p = plugin_open_memory(img, size, "macho-test", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "anything", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
}

Test(macho_header, smallest_valid_dylib_loads)
{
    struct thin t = make_thin(native_cpu());
    expect_loaded(t.b, t.size);
    free(t.b);
}

Test(macho_header, other_cpu_is_an_arch_error_naming_it)
{
    struct thin t = make_thin(other_cpu());
    expect_refused(t.b, t.size, PLUGIN_ERR_ARCH, cpu_name(other_cpu()));
    free(t.b);
}

/* A universal file: fat header (big-endian), then the slices at 0x1000-aligned offsets. */
static uint8_t *make_fat(bool wide, const uint32_t *cpus, int n, size_t *size)
{
    size_t esz = wide ? 32 : 20, off = 0x1000;
    *size = off + (size_t)n * 0x2000;
    uint8_t *b = calloc(1, *size);
    cr_assert_not_null(b);
    put32be(b, wide ? 0xcafebabf : 0xcafebabe);
    put32be(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++, off += 0x2000) {
        uint8_t *e = b + 8 + i * esz;
        struct thin t = make_thin(cpus[i]);
        memcpy(b + off, t.b, t.size);
        free(t.b);
        put32be(e, cpus[i]);
        if (wide) {
            put32be(e + 12, (uint32_t)off);             /* 64-bit offset, high word 0 */
            put32be(e + 20, IMG_SIZE);
        } else {
            put32be(e + 8, (uint32_t)off);
            put32be(e + 12, IMG_SIZE);
        }
    }
    return b;
}

Test(macho_header, fat_and_fat64_pick_this_cpus_slice)
{
    uint32_t cpus[2] = { other_cpu(), native_cpu() };
    for (int wide = 0; wide < 2; wide++) {
        size_t size;
        uint8_t *b = make_fat(wide, cpus, 2, &size);
        expect_loaded(b, size);                         /* the other slice would be an ARCH error */
        free(b);
    }
}

Test(macho_header, fat_without_this_cpu_lists_the_slices)
{
    uint32_t cpus[1] = { other_cpu() };
    size_t size;
    uint8_t *b = make_fat(false, cpus, 1, &size);
    char want[64];
    snprintf(want, sizeof want, "slices: %s", cpu_name(other_cpu()));
    expect_refused(b, size, PLUGIN_ERR_ARCH, want);
    free(b);
}

Test(macho_header, slice_past_the_end_of_the_file)
{
    uint32_t cpus[1] = { native_cpu() };
    size_t size;
    uint8_t *b = make_fat(false, cpus, 1, &size);
    put32be(b + 8 + 12, 0x100000);                      /* size of slice 0 */
    expect_refused(b, size, PLUGIN_ERR_FORMAT, "slice 0");
    free(b);
}

Test(macho_header, truncated_load_commands)
{
    struct thin t = make_thin(native_cpu());
    expect_refused(t.b, 100, PLUGIN_ERR_FORMAT, "load commands");
    put32(t.b + t.trie_cmd + 4, 64);                    /* last command runs past sizeofcmds */
    expect_refused(t.b, t.size, PLUGIN_ERR_FORMAT, "load command 2");
    free(t.b);
}

Test(macho_header, segment_past_the_end_of_the_file)
{
    struct thin t = make_thin(native_cpu());
    put64(t.b + t.linkedit_cmd + 48, 0x10000);          /* filesize */
    put64(t.b + t.linkedit_cmd + 32, 0x10000);          /* vmsize */
    expect_refused(t.b, t.size, PLUGIN_ERR_FORMAT, "segment __LINKEDIT");
    free(t.b);
}

Test(macho_header, writable_and_executable_segment)
{
    struct thin t = make_thin(native_cpu());
    put32(t.b + t.text_cmd + 60, 7);                    /* initprot rwx */
    expect_refused(t.b, t.size, PLUGIN_ERR_UNSUPPORTED, "writable and executable");
    free(t.b);
}

Test(macho_header, unknown_required_load_command_is_named)
{
    struct thin t = make_thin(native_cpu());
    put32(t.b + t.trie_cmd, 0x80000077);
    expect_refused(t.b, t.size, PLUGIN_ERR_UNSUPPORTED, "0x80000077");
    put32(t.b + t.trie_cmd, 0x77);                      /* not required: ignored */
    expect_loaded(t.b, t.size);
    free(t.b);
}

Test(macho_header, linkedit_data_outside_linkedit)
{
    struct thin t = make_thin(native_cpu());
    put32(t.b + t.trie_cmd + 8, 0x800);                 /* export trie inside __TEXT */
    expect_refused(t.b, t.size, PLUGIN_ERR_FORMAT, "export trie");
    free(t.b);
}

Test(macho_header, java_class_file_is_not_taken_for_a_fat_file)
{
    uint8_t b[64] = { 0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34 };
    expect_refused(b, sizeof b, PLUGIN_ERR_FORMAT, "not an ELF");
}
