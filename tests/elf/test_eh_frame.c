/*
 * test_eh_frame.c — an object's unwind tables are handed to libgcc only when they hold what
 * libgcc reads of them as soon as anything in the process throws (loader/elf/eh_frame.c):
 * record lengths it can walk, FDEs whose CIE pointer leads to a CIE, CIE augmentations inside
 * their records with an FDE encoding it can read, FDEs long enough for pc_begin and pc_range.
 *
 * Each test copies basic.so into memory, breaks one thing in its .eh_frame (found through the
 * section headers), opens the copy with plugin_open_memory and reads the trace: the open
 * succeeds (ld.so ignores unwind tables too) and the tables are not registered, for the reason
 * named. The unbroken copy is registered.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "helpers.h"

struct eh_copy {
    char *file;             /* the whole object */
    size_t size;
    uint8_t *eh;            /* its .eh_frame, inside file */
    uint64_t eh_size;
    size_t cie, fde;        /* offsets in .eh_frame of the first CIE and the first FDE after it */
};

static uint32_t word(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put_word(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void load_copy(struct eh_copy *c)
{
    const char *path = fixture("basic.so");
    uint64_t off;
    cr_assert(file_section(path, ".eh_frame", &off, &c->eh_size), "basic.so has no .eh_frame");
    c->file = read_file(path, &c->size);
    cr_assert(off + c->eh_size <= c->size);
    c->eh = (uint8_t *)c->file + off;
    c->cie = c->fde = SIZE_MAX;
    for (size_t at = 0; at + 8 <= c->eh_size && word(c->eh + at) != 0; at += 4 + word(c->eh + at)) {
        if (word(c->eh + at + 4) == 0 && c->cie == SIZE_MAX)
            c->cie = at;
        else if (word(c->eh + at + 4) != 0 && c->cie != SIZE_MAX && c->fde == SIZE_MAX)
            c->fde = at;
    }
    cr_assert(c->cie != SIZE_MAX && c->fde != SIZE_MAX, "basic.so's .eh_frame has no CIE and FDE");
}

/* Open the copy; the trace's line about basic.so's unwind tables, or NULL when there is none. */
static char *open_copy(struct eh_copy *c)
{
    static struct tracebuf t;
    memset(&t, 0, sizeof t);
    struct plugin_options o = { .trace = trace_collect, .trace_ctx = &t };
    plugin_error err;
    plugin *p = plugin_open_memory(c->file, c->size, "eh_copy.so", &o, &err);
    cr_assert_not_null(p, "a broken .eh_frame must not fail the open: %s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "F"))(), 13);   /* V = 1: the copy works */
    free(c->file);
    char *line = strstr(t.text, "unwind tables not registered: ");
    if (!line)
        return NULL;
    line += strlen("unwind tables not registered: ");
    char *end = strchr(line, '\n');
    return strndup(line, end ? (size_t)(end - line) : strlen(line));
}

static void expect_refused(struct eh_copy *c, const char *why)
{
    char *line = open_copy(c);
    cr_assert_not_null(line, "the broken tables were registered (expected: %s)", why);
    cr_assert(strstr(line, why), "reason \"%s\", expected \"%s\"", line, why);
    free(line);
}

/* The CIE's augmentation "zR": the byte of its FDE encoding (after the code and data alignment,
 * the return address column and the augmentation length, one byte each in this small object). */
static uint8_t *fde_encoding_byte(struct eh_copy *c)
{
    uint8_t *body = c->eh + c->cie + 8;          /* version, then the augmentation string */
    cr_assert_str_eq((const char *)body + 1, "zR", "basic.so's CIE augmentation is not zR");
    uint8_t *q = body + 1 + 3;
    for (int i = 0; i < 4; i++) {                /* three LEB128 numbers and the length */
        while (*q & 0x80)
            q++;
        q++;
    }
    return q;
}

Test(eh_frame, unbroken_tables_are_registered)
{
    struct eh_copy c;
    load_copy(&c);
    char *line = open_copy(&c);
    cr_assert_null(line, "basic.so's own tables were refused: %s", line);
}

Test(eh_frame, a_64_bit_record_length_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    put_word(c.eh + c.fde, 0xffffffffu);
    expect_refused(&c, "a record has a 64-bit length, which the unwinder cannot walk");
}

Test(eh_frame, a_record_running_past_the_segment_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    put_word(c.eh + c.fde, 0x7ffffff0u);
    expect_refused(&c, "a record's length runs past its segment");
}

Test(eh_frame, an_fde_whose_cie_pointer_misses_every_cie_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    uint8_t *id = c.eh + c.fde + 4;
    put_word(id, word(id) - 4);                  /* 4 bytes into the CIE, not at its start */
    expect_refused(&c, "an FDE's CIE pointer does not lead to a CIE");
}

Test(eh_frame, an_fde_whose_cie_pointer_leads_before_the_table_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    put_word(c.eh + c.fde + 4, (uint32_t)(c.fde + 4 + 64));
    expect_refused(&c, "an FDE's CIE pointer leads before .eh_frame");
}

Test(eh_frame, an_fde_encoding_libgcc_cannot_read_is_refused)
{
    static const uint8_t bad[] = { 0x01, 0x09, 0x9b, 0x50, 0x40 };   /* LEB128s, indirect, aligned, funcrel */
    for (size_t i = 0; i < sizeof bad; i++) {
        struct eh_copy c;
        load_copy(&c);
        *fde_encoding_byte(&c) = bad[i];
        expect_refused(&c, "a CIE gives an FDE encoding the unwinder does not read");
    }
}

Test(eh_frame, an_augmentation_string_without_its_end_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    uint32_t len = word(c.eh + c.cie);
    memset(c.eh + c.cie + 9, 'z', len - 5);      /* after the id word and the version */
    expect_refused(&c, "a CIE's augmentation string runs past its record");
}

Test(eh_frame, an_fde_too_short_for_its_addresses_is_refused)
{
    struct eh_copy c;
    load_copy(&c);
    put_word(c.eh + c.fde, 8);                   /* CIE pointer and 4 bytes: pc_begin needs 4, pc_range 4 */
    expect_refused(&c, "an FDE is too short for its pc_begin and pc_range");
}
