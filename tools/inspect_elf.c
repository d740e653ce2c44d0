/*
 * inspect_elf.c — `plugin info` and `plugin symbols`: what is inside an ELF file, read without
 * loading it. The loader's own reader reads and validates (elf_describe: the same header,
 * program header, dynamic table, symbol, version and relocation-table checks as plugin_open,
 * for any CPU); this file only names numbers, counts, sorts and prints text or JSON.
 *
 * A report is collected in memory and printed at the end, so a failure never leaves half a
 * report (or half a JSON document) behind.
 */
#include "inspect_elf.h"
#include "text_out.h"

#include "elf/elf.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- What the reports hold ---------------------------------------------------------------- */

struct reloc_count {
    uint32_t type;
    uint64_t count;
};

struct reloc_tally {
    struct reloc_count *v;
    size_t n, cap;
    uint64_t relr;                          /* how many of the RELATIVE ones came from RELR */
};

struct export {
    const char *name;
    const char *version;        /* NULL: unversioned */
    bool hidden;                /* a non-default version, name@V rather than name@@V */
    const Elf64_Sym *sym;
};

struct exports {
    struct export *v;
    size_t n;
};

/* Everything `info` reports, collected before anything is printed. */
struct info {
    const struct image *im;
    const struct elf_object *o;
    const char *runpath, *rpath;
    const char **needed;
    size_t nneeded;
    struct reloc_tally relocs;
    struct exports exports;
};

static void info_free(struct info *in)
{
    free(in->needed);
    free(in->relocs.v);
    free(in->exports.v);
}

static int fail(enum plugin_errc code, const char *message)
{
    out_error(code, message);
    return -1;
}

/* ---- Collecting ---------------------------------------------------------------------------- */

static int tally_add(void *ctx, const struct elf_reloc *r)
{
    struct reloc_tally *t = ctx;
    t->relr += r->from_relr;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].type == r->type) {
            t->v[i].count++;
            return 0;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct reloc_count *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct reloc_count){ r->type, 1 };
    return 0;
}

static int cmp_reloc(const void *a, const void *b)
{
    uint32_t x = ((const struct reloc_count *)a)->type, y = ((const struct reloc_count *)b)->type;
    return (x > y) - (x < y);
}

static uint32_t relative_type(const struct elf_object *o)
{
    return arch_relative_type(arch_for_elf_machine(o->eh.e_machine));
}

/* A relocation type's name ("R_X86_64_RELATIVE"), or its number in buf. */
static const char *reloc_name(const struct elf_object *o, uint32_t type, char *buf, size_t bufsz)
{
    const struct arch *a = arch_for_elf_machine(o->eh.e_machine);
    const struct reloc_type *rt = a ? arch_reloc_type(a, type) : NULL;
    if (rt)
        return rt->name;
    if (type == ARCH_NO_RELATIVE)
        return "RELATIVE";
    snprintf(buf, bufsz, "%" PRIu32, type);
    return buf;
}

static int count_relocs(struct info *in, struct diag *d)
{
    int rc = elf_walk_relocs(in->im, relative_type(in->o), tally_add, &in->relocs, d);
    if (rc > 0 || (rc < 0 && d->err->code == PLUGIN_OK))
        diag_fail(d, PLUGIN_ERR_NOMEM, in->im->path, "out of memory");
    if (rc)
        return -1;
    if (in->relocs.n > 1)
        qsort(in->relocs.v, in->relocs.n, sizeof *in->relocs.v, cmp_reloc);
    return 0;
}

static int cmp_export(const void *a, const void *b)
{
    const struct export *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0 || x->version == y->version)
        return c;
    if (!x->version || !y->version)
        return x->version ? 1 : -1;
    return strcmp(x->version, y->version);
}

/* What plugin_lookup can find, from the symbols the hash tables cover, sorted by name. */
static int read_exports(const struct elf_object *o, struct exports *x)
{
    x->n = 0;
    if (!o->symtab || o->nsyms < 2)
        return 0;
    if (!(x->v = calloc(o->nsyms, sizeof *x->v)))
        return -1;
    for (uint32_t i = 1; i < o->nsyms; i++) {  /* entry 0 is the reserved null symbol */
        const Elf64_Sym *s = &o->symtab[i];
        const char *name = elf_str(o, s->st_name);
        if (!elf_symbol_exported(s) || !name)
            continue;
        struct export *e = &x->v[x->n++];
        e->name = name;
        e->sym = s;
        e->version = elf_symbol_version(o, i, &e->hidden);
    }
    if (x->n > 1)
        qsort(x->v, x->n, sizeof *x->v, cmp_export);
    return 0;
}

/* The dynamic table's names: DT_NEEDED in order, DT_RUNPATH, DT_RPATH (checked by the reader). */
static int read_names(struct info *in)
{
    const struct elf_object *o = in->o;
    if (!(in->needed = calloc(o->ndynamic + 1, sizeof *in->needed)))
        return -1;
    for (size_t i = 0; o->has_dynamic && i < o->ndynamic && o->dynamic[i].d_tag != DT_NULL; i++)
        if (o->dynamic[i].d_tag == DT_NEEDED)
            in->needed[in->nneeded++] = elf_str(o, o->dynamic[i].d_un.d_val);
    in->runpath = dyn_has(o, DT_RUNPATH) ? elf_str(o, o->dyn[DT_RUNPATH]) : NULL;
    in->rpath = dyn_has(o, DT_RPATH) ? elf_str(o, o->dyn[DT_RPATH]) : NULL;
    return 0;
}

/* ---- Printing ------------------------------------------------------------------------------ */

static uint64_t flags_1(const struct elf_object *o)
{
    return dyn_has(o, DYN_FLAGS_1) ? o->dyn[DYN_FLAGS_1] : 0;
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

static void print_segments_text(const struct elf_object *o)
{
    char buf[32], flags[4];
    printf("segments:    %zu\n", o->nphdrs);
    if (o->nphdrs > 0)
        printf("  %-14s %-18s  %-10s  %-10s  %-10s  %-5s  %s\n",
               "TYPE", "VADDR", "OFFSET", "FILESZ", "MEMSZ", "FLAGS", "ALIGN");
    for (size_t i = 0; i < o->nphdrs; i++) {
        const Elf64_Phdr *p = &o->phdrs[i];
        segment_flags(p->p_flags, flags);
        printf("  %-14s 0x%016" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64
               "  %-5s  0x%" PRIx64 "\n", segment_type_name(p->p_type, buf, sizeof buf),
               p->p_vaddr, p->p_offset, p->p_filesz, p->p_memsz, flags, p->p_align);
    }
}

static void print_relocs_text(const struct elf_object *o, const struct reloc_tally *t)
{
    char buf[32];
    uint64_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        total += t->v[i].count;
    printf("relocations: %" PRIu64 "\n", total);
    for (size_t i = 0; i < t->n; i++) {
        printf("  %-26s %" PRIu64, reloc_name(o, t->v[i].type, buf, sizeof buf), t->v[i].count);
        if (t->relr > 0 && t->v[i].type == relative_type(o))
            printf("   (%" PRIu64 " packed in RELR)", t->relr);
        putchar('\n');
    }
}

static void print_info_text(const struct info *in)
{
    const struct elf_object *o = in->o;
    char buf[32];
    text_field("file:", in->im->path);
    text_field("format:", "ELF");
    text_field("class:", "ELF64");                 /* the reader reads 64-bit little-endian ELF */
    text_field("endianness:", "little-endian");
    text_field("cpu:", arch_machine_name(o->eh.e_machine, buf, sizeof buf));
    printf("%-13s%s (%s)\n", "type:", elf_type_name(o->eh.e_type, buf, sizeof buf),
           elf_type_meaning(o->eh.e_type, flags_1(o)));
    text_field("soname:", in->im->soname);
    if (in->nneeded == 0)
        text_field("needed:", NULL);
    for (size_t i = 0; i < in->nneeded; i++)
        text_field(i == 0 ? "needed:" : "", in->needed[i]);
    text_field("runpath:", in->runpath);
    text_field("rpath:", in->rpath);
    print_segments_text(o);
    print_relocs_text(o, &in->relocs);
    if (o->symtab)
        printf("exported symbols: %zu\n", in->exports.n);
    else
        printf("exported symbols: 0 (no dynamic symbol table)\n");
}

static void print_segments_json(const struct elf_object *o)
{
    char buf[32], flags[4];
    fputs("  \"segments\": [", stdout);
    for (size_t i = 0; i < o->nphdrs; i++) {
        const Elf64_Phdr *p = &o->phdrs[i];
        segment_flags(p->p_flags, flags);
        printf("%s\n    {\"type\": ", i ? "," : "");
        put_json(segment_type_name(p->p_type, buf, sizeof buf));
        printf(", \"vaddr\": %" PRIu64 ", \"offset\": %" PRIu64 ", \"filesz\": %" PRIu64
               ", \"memsz\": %" PRIu64 ", \"flags\": \"%s\", \"align\": %" PRIu64 "}",
               p->p_vaddr, p->p_offset, p->p_filesz, p->p_memsz, flags, p->p_align);
    }
    fputs(o->nphdrs ? "\n  ],\n" : "],\n", stdout);
}

static void print_relocs_json(const struct elf_object *o, const struct reloc_tally *t)
{
    char buf[32];
    fputs("  \"relocations\": {", stdout);
    for (size_t i = 0; i < t->n; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(reloc_name(o, t->v[i].type, buf, sizeof buf));
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

static void print_info_json(const struct info *in)
{
    const struct elf_object *o = in->o;
    char buf[32];
    fputs("{\n", stdout);
    json_field("file", in->im->path);
    json_field("format", "ELF");
    json_field("class", "ELF64");
    json_field("endianness", "little");
    json_field("cpu", arch_machine_name(o->eh.e_machine, buf, sizeof buf));
    printf("  \"machine\": %u,\n", (unsigned)o->eh.e_machine);
    json_field("type", elf_type_name(o->eh.e_type, buf, sizeof buf));
    json_field("type_meaning", elf_type_meaning(o->eh.e_type, flags_1(o)));
    json_field("soname", in->im->soname);
    fputs("  \"needed\": [", stdout);
    for (size_t i = 0; i < in->nneeded; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(in->needed[i]);
    }
    fputs("],\n", stdout);
    json_field("runpath", in->runpath);
    json_field("rpath", in->rpath);
    print_segments_json(o);
    print_relocs_json(o, &in->relocs);
    if (o->symtab)
        printf("  \"exported_symbols\": %zu\n}\n", in->exports.n);
    else
        fputs("  \"exported_symbols\": null\n}\n", stdout);
}

/* ---- The two commands ---------------------------------------------------------------------- */

/* The loader's reader over path; NULL after printing its one-line error. */
static struct image *describe(const char *path, bool quiet)
{
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { .err = &err };
    struct image *im = elf_describe(path, &d);
    if (!im && !quiet)
        fail(err.code, err.message);
    return im;
}

int inspect_info(const char *path, int json)
{
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { .err = &err };
    struct info in;
    memset(&in, 0, sizeof in);
    struct image *im = describe(path, false);
    if (!im)
        return 1;
    in.im = im;
    in.o = elf_of(im);
    int rc = read_names(&in) || read_exports(in.o, &in.exports) ? fail(PLUGIN_ERR_NOMEM, "plugin: out of memory") : 0;
    if (rc == 0 && count_relocs(&in, &d))
        rc = fail(err.code, err.message);
    if (rc == 0 && json)
        print_info_json(&in);
    else if (rc == 0)
        print_info_text(&in);
    info_free(&in);
    elf_describe_free(im);
    return rc == 0 ? 0 : 1;
}

static void print_symbols_text(const struct exports *x)
{
    char tbuf[16], bbuf[16];
    printf("%-18s  %-8s  %-6s  %-6s  %-9s  %s\n", "VALUE", "SIZE", "TYPE", "BIND", "VIS", "NAME");
    for (size_t i = 0; i < x->n; i++) {
        const struct export *e = &x->v[i];
        printf("0x%016" PRIx64 "  %-8" PRIu64 "  %-6s  %-6s  %-9s  ", e->sym->st_value,
               e->sym->st_size, sym_type_name(ELF64_ST_TYPE(e->sym->st_info), tbuf, sizeof tbuf),
               sym_bind_name(ELF64_ST_BIND(e->sym->st_info), bbuf, sizeof bbuf),
               sym_vis_name(ELF64_ST_VISIBILITY(e->sym->st_other)));
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
               e->version && e->hidden ? "false" : "true", e->sym->st_value, e->sym->st_size,
               sym_type_name(ELF64_ST_TYPE(e->sym->st_info), tbuf, sizeof tbuf),
               sym_bind_name(ELF64_ST_BIND(e->sym->st_info), bbuf, sizeof bbuf),
               sym_vis_name(ELF64_ST_VISIBILITY(e->sym->st_other)));
    }
    fputs(x->n ? "\n  ]\n}\n" : "]\n}\n", stdout);
}

int inspect_symbols(const char *path, int json)
{
    struct exports x = { NULL, 0 };
    struct image *im = describe(path, false);
    if (!im)
        return 1;
    int rc = 0;
    if (!elf_of(im)->symtab) {
        out_errorf(PLUGIN_ERR_FORMAT, "plugin: %s: no dynamic symbol table (not a shared object)", path);
        rc = -1;
    } else if (read_exports(elf_of(im), &x)) {
        rc = fail(PLUGIN_ERR_NOMEM, "plugin: out of memory");
    }
    if (rc == 0 && json)
        print_symbols_json(path, &x);
    else if (rc == 0)
        print_symbols_text(&x);
    free(x.v);
    elf_describe_free(im);
    return rc == 0 ? 0 : 1;
}

int inspect_symbol_type(const char *path, const char *name)
{
    struct exports x = { NULL, 0 };
    int type = -1;
    struct image *im = describe(path, true);
    if (im && read_exports(elf_of(im), &x) == 0)
        for (size_t i = 0; i < x.n && type < 0; i++)
            if (strcmp(x.v[i].name, name) == 0 && !x.v[i].hidden)
                type = ELF64_ST_TYPE(x.v[i].sym->st_info);
    free(x.v);
    elf_describe_free(im);
    return type;
}
