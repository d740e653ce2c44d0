/*
 * inspect_elf.c — `plugin info` and `plugin symbols`: what is inside an ELF file, read without
 * loading it (elf_read.c reads; this file names numbers and prints text or JSON).
 *
 * A report is collected in memory and printed at the end, so a failure never leaves half a
 * report (or half a JSON document) behind.
 */
#include "inspect_elf.h"
#include "elf_read.h"
#include "text_out.h"

#include "arch.h"
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Names for numbers --------------------------------------------------------------------- */

static const char *sym_type_name(unsigned t, char *buf, size_t n)
{
    switch (t) {
    case STT_NOTYPE:    return "NOTYPE";
    case STT_OBJECT:    return "OBJECT";
    case STT_FUNC:      return "FUNC";
    case STT_SECTION:   return "SECTION";
    case STT_FILE:      return "FILE";
    case STT_COMMON:    return "COMMON";
    case STT_TLS:       return "TLS";
    case STT_GNU_IFUNC: return "IFUNC";
    default:            snprintf(buf, n, "%u", t); return buf;
    }
}

static const char *sym_bind_name(unsigned b, char *buf, size_t n)
{
    switch (b) {
    case STB_LOCAL:      return "LOCAL";
    case STB_GLOBAL:     return "GLOBAL";
    case STB_WEAK:       return "WEAK";
    case STB_GNU_UNIQUE: return "UNIQUE";
    default:             snprintf(buf, n, "%u", b); return buf;
    }
}

static const char *sym_vis_name(unsigned v)
{
    static const char *const names[] = { "DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED" };
    return names[v & 3];
}

static const char *segment_type_name(uint32_t t, char *buf, size_t n)
{
    switch (t) {
    case PT_NULL:         return "NULL";
    case PT_LOAD:         return "LOAD";
    case PT_DYNAMIC:      return "DYNAMIC";
    case PT_INTERP:       return "INTERP";
    case PT_NOTE:         return "NOTE";
    case PT_SHLIB:        return "SHLIB";
    case PT_PHDR:         return "PHDR";
    case PT_TLS:          return "TLS";
    case PT_GNU_EH_FRAME: return "GNU_EH_FRAME";
    case PT_GNU_STACK:    return "GNU_STACK";
    case PT_GNU_RELRO:    return "GNU_RELRO";
    case PT_GNU_PROPERTY: return "GNU_PROPERTY";
    default:              snprintf(buf, n, "0x%" PRIx32, t); return buf;
    }
}

static const char *elf_type_name(unsigned t, char *buf, size_t n)
{
    switch (t) {
    case ET_NONE: return "ET_NONE";
    case ET_REL:  return "ET_REL";
    case ET_EXEC: return "ET_EXEC";
    case ET_DYN:  return "ET_DYN";
    case ET_CORE: return "ET_CORE";
    default:      snprintf(buf, n, "%u", t); return buf;
    }
}

/* What the type means in words; ET_DYN is a shared object or a position-independent program. */
static const char *elf_type_meaning(unsigned t, uint64_t flags_1)
{
    switch (t) {
    case ET_REL:  return "relocatable object";
    case ET_EXEC: return "executable";
    case ET_DYN:  return (flags_1 & DF_1_PIE) ? "position-independent executable"
                                              : "shared object";
    case ET_CORE: return "core dump";
    default:      return "unknown";
    }
}

static void segment_flags(uint32_t flags, char out[4])
{
    out[0] = (flags & PF_R) ? 'R' : '-';
    out[1] = (flags & PF_W) ? 'W' : '-';
    out[2] = (flags & PF_X) ? 'X' : '-';
    out[3] = '\0';
}

/* ---- Printing ------------------------------------------------------------------------------ */

static const char *class_name(const struct elf_file *f)
{
    return f->eh.e_ident[EI_CLASS] == ELFCLASS64 ? "ELF64" : "ELF32";
}

static int little_endian(const struct elf_file *f)
{
    return f->eh.e_ident[EI_DATA] == ELFDATA2LSB;
}

/* Everything `info` reports, collected before anything is printed. */
struct info {
    struct dynamic dyn;
    const char *soname, *runpath, *rpath;
    const char **needed;                    /* dyn.nneeded of them */
    struct reloc_tally relocs;
    struct exports exports;
};

static void info_free(struct info *in)
{
    free(in->dyn.needed);
    free(in->needed);
    free(in->relocs.v);
    free(in->exports.v);
}

static void text_field(const char *label, const char *value)
{
    printf("%-13s", label);
    if (value)
        put_text(value);
    else
        fputs("(none)", stdout);
    putchar('\n');
}

static void print_segments_text(const struct elf_file *f)
{
    char buf[32], flags[4];
    printf("segments:    %zu\n", f->phnum);
    if (f->phnum > 0)
        printf("  %-14s %-18s  %-10s  %-10s  %-10s  %-5s  %s\n",
               "TYPE", "VADDR", "OFFSET", "FILESZ", "MEMSZ", "FLAGS", "ALIGN");
    for (size_t i = 0; i < f->phnum; i++) {
        const GElf_Phdr *p = &f->ph[i];
        segment_flags(p->p_flags, flags);
        printf("  %-14s 0x%016" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64
               "  %-5s  0x%" PRIx64 "\n", segment_type_name(p->p_type, buf, sizeof buf),
               p->p_vaddr, p->p_offset, p->p_filesz, p->p_memsz, flags, p->p_align);
    }
}

static void print_relocs_text(const struct elf_file *f, const struct reloc_tally *t)
{
    char buf[32];
    uint64_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        total += t->v[i].count;
    printf("relocations: %" PRIu64 "\n", total);
    for (size_t i = 0; i < t->n; i++) {
        printf("  %-26s %" PRIu64, reloc_name(f, t->v[i].type, buf, sizeof buf), t->v[i].count);
        if (t->relr > 0 && t->v[i].type == relative_type(f))
            printf("   (%" PRIu64 " packed in RELR)", t->relr);
        putchar('\n');
    }
}

static void print_info_text(const struct elf_file *f, const struct info *in)
{
    char buf[32];
    text_field("file:", f->path);
    text_field("format:", "ELF");
    text_field("class:", class_name(f));
    text_field("endianness:", little_endian(f) ? "little-endian" : "big-endian");
    text_field("cpu:", arch_machine_name(f->eh.e_machine, buf, sizeof buf));
    printf("%-13s%s (%s)\n", "type:", elf_type_name(f->eh.e_type, buf, sizeof buf),
           elf_type_meaning(f->eh.e_type, in->dyn.flags_1));
    text_field("soname:", in->soname);
    if (in->dyn.nneeded == 0)
        text_field("needed:", NULL);
    for (size_t i = 0; i < in->dyn.nneeded; i++)
        text_field(i == 0 ? "needed:" : "", in->needed[i]);
    text_field("runpath:", in->runpath);
    text_field("rpath:", in->rpath);
    print_segments_text(f);
    print_relocs_text(f, &in->relocs);
    if (in->exports.available)
        printf("exported symbols: %zu\n", in->exports.n);
    else if (f->shnum > 0)
        printf("exported symbols: 0 (no .dynsym section)\n");
    else
        printf("exported symbols: unknown (no section headers, so no .dynsym to read)\n");
}

static void print_segments_json(const struct elf_file *f)
{
    char buf[32], flags[4];
    fputs("  \"segments\": [", stdout);
    for (size_t i = 0; i < f->phnum; i++) {
        const GElf_Phdr *p = &f->ph[i];
        segment_flags(p->p_flags, flags);
        printf("%s\n    {\"type\": ", i ? "," : "");
        put_json(segment_type_name(p->p_type, buf, sizeof buf));
        printf(", \"vaddr\": %" PRIu64 ", \"offset\": %" PRIu64 ", \"filesz\": %" PRIu64
               ", \"memsz\": %" PRIu64 ", \"flags\": \"%s\", \"align\": %" PRIu64 "}",
               p->p_vaddr, p->p_offset, p->p_filesz, p->p_memsz, flags, p->p_align);
    }
    fputs(f->phnum ? "\n  ],\n" : "],\n", stdout);
}

static void print_relocs_json(const struct elf_file *f, const struct reloc_tally *t)
{
    char buf[32];
    fputs("  \"relocations\": {", stdout);
    for (size_t i = 0; i < t->n; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(reloc_name(f, t->v[i].type, buf, sizeof buf));
        printf(": %" PRIu64, t->v[i].count);
    }
    printf("},\n  \"relr_relocations\": %" PRIu64 ",\n", t->relr);
}

static void json_field(const char *key, const char *value)
{
    printf("  \"%s\": ", key);
    put_json(value);
    fputs(",\n", stdout);
}

static void print_info_json(const struct elf_file *f, const struct info *in)
{
    char buf[32];
    fputs("{\n", stdout);
    json_field("file", f->path);
    json_field("format", "ELF");
    json_field("class", class_name(f));
    json_field("endianness", little_endian(f) ? "little" : "big");
    json_field("cpu", arch_machine_name(f->eh.e_machine, buf, sizeof buf));
    printf("  \"machine\": %u,\n", (unsigned)f->eh.e_machine);
    json_field("type", elf_type_name(f->eh.e_type, buf, sizeof buf));
    json_field("type_meaning", elf_type_meaning(f->eh.e_type, in->dyn.flags_1));
    json_field("soname", in->soname);
    fputs("  \"needed\": [", stdout);
    for (size_t i = 0; i < in->dyn.nneeded; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(in->needed[i]);
    }
    fputs("],\n", stdout);
    json_field("runpath", in->runpath);
    json_field("rpath", in->rpath);
    print_segments_json(f);
    print_relocs_json(f, &in->relocs);
    if (in->exports.available || f->shnum > 0)
        printf("  \"exported_symbols\": %zu\n}\n", in->exports.n);
    else
        fputs("  \"exported_symbols\": null\n}\n", stdout);
}

/* ---- The two commands ---------------------------------------------------------------------- */

/* Resolve the string table offsets that scan_dynamic collected. */
static int read_dyn_strings(struct elf_file *f, struct info *in)
{
    const struct dynamic *d = &in->dyn;
    Elf_Data *strtab = NULL;
    if (d->strtab != ABSENT && d->strsz != ABSENT && d->strsz > 0 &&
        !(strtab = addr_chunk(f, d->strtab, d->strsz, ELF_T_BYTE, "DT_STRTAB")))
        return -1;
    if (!(in->needed = calloc(d->nneeded + 1, sizeof *in->needed)))
        return fail(f, "out of memory");
    for (size_t i = 0; i < d->nneeded; i++)
        if (dyn_string(f, strtab, d->needed[i], "DT_NEEDED", &in->needed[i]) != 0)
            return -1;
    if (dyn_string(f, strtab, d->soname, "DT_SONAME", &in->soname) != 0 ||
        dyn_string(f, strtab, d->runpath, "DT_RUNPATH", &in->runpath) != 0 ||
        dyn_string(f, strtab, d->rpath, "DT_RPATH", &in->rpath) != 0)
        return -1;
    return 0;
}

int inspect_info(const char *path, int json)
{
    struct elf_file f;
    struct info in;
    memset(&in, 0, sizeof in);
    int rc = elf_file_open(&f, path, 0);
    if (rc == 0)
        rc = scan_dynamic(&f, &in.dyn);
    if (rc == 0)
        rc = read_dyn_strings(&f, &in);
    if (rc == 0)
        rc = count_relocs(&f, &in.dyn, &in.relocs);
    if (rc == 0)
        rc = read_exports(&f, &in.exports);
    if (rc == 0 && json)
        print_info_json(&f, &in);
    else if (rc == 0)
        print_info_text(&f, &in);
    info_free(&in);
    elf_file_close(&f);
    return rc == 0 ? 0 : 1;
}

static void print_symbols_text(const struct exports *x)
{
    char tbuf[16], bbuf[16];
    printf("%-18s  %-8s  %-6s  %-6s  %-9s  %s\n", "VALUE", "SIZE", "TYPE", "BIND", "VIS", "NAME");
    for (size_t i = 0; i < x->n; i++) {
        const struct export *e = &x->v[i];
        printf("0x%016" PRIx64 "  %-8" PRIu64 "  %-6s  %-6s  %-9s  ", e->sym.st_value,
               e->sym.st_size, sym_type_name(GELF_ST_TYPE(e->sym.st_info), tbuf, sizeof tbuf),
               sym_bind_name(GELF_ST_BIND(e->sym.st_info), bbuf, sizeof bbuf),
               sym_vis_name(GELF_ST_VISIBILITY(e->sym.st_other)));
        put_text(e->name);
        if (e->version) {
            fputs(e->hidden ? "@" : "@@", stdout);
            put_text(e->version);
        }
        putchar('\n');
    }
}

static void print_symbols_json(const char *path, const struct exports *x)
{
    char tbuf[16], bbuf[16];
    fputs("{\n  \"file\": ", stdout);
    put_json(path);
    fputs(",\n  \"symbols\": [", stdout);
    for (size_t i = 0; i < x->n; i++) {
        const struct export *e = &x->v[i];
        printf("%s\n    {\"name\": ", i ? "," : "");
        put_json(e->name);
        fputs(", \"version\": ", stdout);
        put_json(e->version);
        printf(", \"default_version\": %s, \"value\": %" PRIu64 ", \"size\": %" PRIu64
               ", \"type\": \"%s\", \"binding\": \"%s\", \"visibility\": \"%s\"}",
               e->version && e->hidden ? "false" : "true", e->sym.st_value, e->sym.st_size,
               sym_type_name(GELF_ST_TYPE(e->sym.st_info), tbuf, sizeof tbuf),
               sym_bind_name(GELF_ST_BIND(e->sym.st_info), bbuf, sizeof bbuf),
               sym_vis_name(GELF_ST_VISIBILITY(e->sym.st_other)));
    }
    fputs(x->n ? "\n  ]\n}\n" : "]\n}\n", stdout);
}

int inspect_symbols(const char *path, int json)
{
    struct elf_file f;
    struct exports x = { 0 };
    int rc = elf_file_open(&f, path, 0);
    if (rc == 0)
        rc = read_exports(&f, &x);
    if (rc == 0 && !x.available)
        rc = fail(&f, "no .dynsym section (not a shared object, or its sections were stripped)");
    if (rc == 0 && json)
        print_symbols_json(path, &x);
    else if (rc == 0)
        print_symbols_text(&x);
    free(x.v);
    elf_file_close(&f);
    return rc == 0 ? 0 : 1;
}

int inspect_symbol_type(const char *path, const char *name)
{
    struct elf_file f;
    struct exports x = { 0 };
    int type = -1;
    if (elf_file_open(&f, path, 1) == 0 && read_exports(&f, &x) == 0)
        for (size_t i = 0; i < x.n && type < 0; i++)
            if (strcmp(x.v[i].name, name) == 0 && !x.v[i].hidden)
                type = GELF_ST_TYPE(x.v[i].sym.st_info);
    free(x.v);
    elf_file_close(&f);
    return type;
}
