/*
 * inspect_macho.c — `plugin info` and `plugin symbols` for Mach-O files: the loader's reader
 * describes every slice (loader/macho/macho_describe.h: the same header reader, fixup walk and
 * export trie walk the loader uses); this file names the numbers and prints text or JSON. It
 * parses nothing.
 *
 * As for ELF, the whole file is read and checked before anything is printed, so a malformed
 * file gives one error line (the reader's, "plugin: FILE: cause") and no half report. A universal
 * file is reported slice by slice; a thin file is one slice. JSON always has a "slices" array, so
 * scripts need not care which.
 */
#include "inspect_macho.h"
#include "macho/macho_describe.h"
#include "text_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- Names for numbers --------------------------------------------------------------------- */

static const char *filetype_name(uint32_t t, char *buf, size_t n)
{
    static const char *const names[] = {
        NULL, "MH_OBJECT", "MH_EXECUTE", "MH_FVMLIB", "MH_CORE", "MH_PRELOAD", "MH_DYLIB",
        "MH_DYLINKER", "MH_BUNDLE", "MH_DYLIB_STUB", "MH_DSYM", "MH_KEXT_BUNDLE", "MH_FILESET",
    };
    if (t < sizeof names / sizeof names[0] && names[t])
        return names[t];
    snprintf(buf, n, "0x%" PRIx32, t);
    return buf;
}

static const char *filetype_meaning(uint32_t t)
{
    switch (t) {
    case 1:  return "relocatable object";
    case 2:  return "executable";
    case 4:  return "core dump";
    case 6:  return "dynamic library";
    case 7:  return "dynamic linker";
    case 8:  return "bundle";
    case 10: return "debug symbols";
    case 11: return "kernel extension";
    default: return "other";
    }
}

/* The name of header flag bit b, or NULL. */
static const char *flag_name(unsigned b)
{
    static const char *const names[32] = {
        "MH_NOUNDEFS", "MH_INCRLINK", "MH_DYLDLINK", "MH_BINDATLOAD", "MH_PREBOUND", "MH_SPLIT_SEGS",
        "MH_LAZY_INIT", "MH_TWOLEVEL", "MH_FORCE_FLAT", "MH_NOMULTIDEFS", "MH_NOFIXPREBINDING",
        "MH_PREBINDABLE", "MH_ALLMODSBOUND", "MH_SUBSECTIONS_VIA_SYMBOLS", "MH_CANONICAL",
        "MH_WEAK_DEFINES", "MH_BINDS_TO_WEAK", "MH_ALLOW_STACK_EXECUTION", "MH_ROOT_SAFE",
        "MH_SETUID_SAFE", "MH_NO_REEXPORTED_DYLIBS", "MH_PIE", "MH_DEAD_STRIPPABLE_DYLIB",
        "MH_HAS_TLV_DESCRIPTORS", "MH_NO_HEAP_EXECUTION", "MH_APP_EXTENSION_SAFE",
        "MH_NLIST_OUTOFSYNC_WITH_DYLDINFO", "MH_SIM_SUPPORT", NULL, NULL, NULL, "MH_DYLIB_IN_CACHE",
    };
    return names[b & 31];
}

static const char *command_name(uint32_t cmd, char *buf, size_t n)
{
    static const char *const names[] = {
        NULL, "LC_SEGMENT", "LC_SYMTAB", "LC_SYMSEG", "LC_THREAD", "LC_UNIXTHREAD", "LC_LOADFVMLIB",
        "LC_IDFVMLIB", "LC_IDENT", "LC_FVMFILE", "LC_PREPAGE", "LC_DYSYMTAB", "LC_LOAD_DYLIB",
        "LC_ID_DYLIB", "LC_LOAD_DYLINKER", "LC_ID_DYLINKER", "LC_PREBOUND_DYLIB", "LC_ROUTINES",
        "LC_SUB_FRAMEWORK", "LC_SUB_UMBRELLA", "LC_SUB_CLIENT", "LC_SUB_LIBRARY", "LC_TWOLEVEL_HINTS",
        "LC_PREBIND_CKSUM", "LC_LOAD_WEAK_DYLIB", "LC_SEGMENT_64", "LC_ROUTINES_64", "LC_UUID",
        "LC_RPATH", "LC_CODE_SIGNATURE", "LC_SEGMENT_SPLIT_INFO", "LC_REEXPORT_DYLIB",
        "LC_LAZY_LOAD_DYLIB", "LC_ENCRYPTION_INFO", "LC_DYLD_INFO", "LC_LOAD_UPWARD_DYLIB",
        "LC_VERSION_MIN_MACOSX", "LC_VERSION_MIN_IPHONEOS", "LC_FUNCTION_STARTS", "LC_DYLD_ENVIRONMENT",
        "LC_MAIN", "LC_DATA_IN_CODE", "LC_SOURCE_VERSION", "LC_DYLIB_CODE_SIGN_DRS",
        "LC_ENCRYPTION_INFO_64", "LC_LINKER_OPTION", "LC_LINKER_OPTIMIZATION_HINT",
        "LC_VERSION_MIN_TVOS", "LC_VERSION_MIN_WATCHOS", "LC_NOTE", "LC_BUILD_VERSION",
        "LC_DYLD_EXPORTS_TRIE", "LC_DYLD_CHAINED_FIXUPS", "LC_FILESET_ENTRY", "LC_ATOM_INFO",
    };
    /* Commands that dyld must understand carry LC_REQ_DYLD; the name is the same. */
    static const uint32_t with_req[] = { 0x18, 0x1c, 0x1f, 0x23, 0x28, 0x33, 0x34, 0x35 };
    uint32_t base = cmd & 0x7fffffffu;
    bool req_ok = !(cmd & 0x80000000u);
    for (size_t i = 0; !req_ok && i < sizeof with_req / sizeof with_req[0]; i++)
        req_ok = with_req[i] == base;
    if (cmd == 0x80000022u)
        return "LC_DYLD_INFO_ONLY";
    if (req_ok && base < sizeof names / sizeof names[0] && names[base])
        return names[base];
    snprintf(buf, n, "0x%" PRIx32, cmd);
    return buf;
}

static const char *dylib_kind(uint32_t cmd)
{
    switch (cmd & 0x7fffffffu) {
    case 0x18: return "weak";
    case 0x1f: return "re-export";
    case 0x20: return "lazy";
    case 0x23: return "upward";
    default:   return "regular";
    }
}

static const char *ptr_format_name(uint16_t f, char *buf, size_t n)
{
    static const char *const names[] = {
        NULL, "DYLD_CHAINED_PTR_ARM64E", "DYLD_CHAINED_PTR_64", "DYLD_CHAINED_PTR_32",
        "DYLD_CHAINED_PTR_32_CACHE", "DYLD_CHAINED_PTR_32_FIRMWARE", "DYLD_CHAINED_PTR_64_OFFSET",
        "DYLD_CHAINED_PTR_ARM64E_KERNEL", "DYLD_CHAINED_PTR_64_KERNEL_CACHE",
        "DYLD_CHAINED_PTR_ARM64E_USERLAND", "DYLD_CHAINED_PTR_ARM64E_FIRMWARE",
        "DYLD_CHAINED_PTR_X86_64_KERNEL_CACHE", "DYLD_CHAINED_PTR_ARM64E_USERLAND24",
    };
    if (f < sizeof names / sizeof names[0] && names[f])
        return names[f];
    snprintf(buf, n, "pointer format %u", f);
    return buf;
}

static const char *imports_format_name(uint32_t f)
{
    static const char *const names[] = { NULL, "DYLD_CHAINED_IMPORT", "DYLD_CHAINED_IMPORT_ADDEND",
                                         "DYLD_CHAINED_IMPORT_ADDEND64" };
    return f >= 1 && f <= 3 ? names[f] : "unknown";
}

static void prot_string(uint32_t prot, char out[4])
{
    out[0] = (prot & 1) ? 'r' : '-';
    out[1] = (prot & 2) ? 'w' : '-';
    out[2] = (prot & 4) ? 'x' : '-';
    out[3] = '\0';
}

/* "regular", "weak", "thread-local", "absolute", "re-export", "stub-and-resolver". */
static const char *export_kind(uint64_t flags)
{
    if (flags & MACHO_EXPORT_REEXPORT)
        return "re-export";
    if (flags & MACHO_EXPORT_STUB_AND_RESOLVER)
        return "stub-and-resolver";
    switch (flags & MACHO_EXPORT_KIND_MASK) {
    case MACHO_EXPORT_KIND_REGULAR:      return (flags & MACHO_EXPORT_WEAK) ? "weak" : "regular";
    case MACHO_EXPORT_KIND_THREAD_LOCAL: return "thread-local";
    case MACHO_EXPORT_KIND_ABSOLUTE:     return "absolute";
    default:                             return "unknown";
    }
}

static const char *cpu_of(const struct macho_described *s, char *buf, size_t n)
{
    return macho_cpu_name(s->m.cputype, s->m.cpusubtype, buf, n);
}

/* A re-export's library ordinal, a stub-and-resolver's resolver. */
static uint64_t export_other(const struct macho_export *e)
{
    return (e->flags & MACHO_EXPORT_REEXPORT) ? e->ordinal : e->resolver;
}

/* ---- info as text -------------------------------------------------------------------------- */

static void text_field(const char *label, const char *value)
{
    printf("%-14s", label);
    if (value)
        put_text(value);
    else
        fputs("(none)", stdout);
    putchar('\n');
}

static void print_flags_text(uint32_t flags)
{
    printf("%-14s0x%08" PRIx32, "flags:", flags);
    for (unsigned b = 0; b < 32; b++)
        if (flags & (1u << b)) {
            const char *n = flag_name(b);
            if (n)
                printf(" %s", n);
            else
                printf(" 0x%x", 1u << b);
        }
    putchar('\n');
}

static void print_dylibs_text(const struct macho *m)
{
    if (m->ndylibs == 0)
        text_field("needed:", NULL);
    for (size_t i = 0; i < m->ndylibs; i++) {
        printf("%-14s", i == 0 ? "needed:" : "");
        put_text(m->dylibs[i].name);
        const char *kind = dylib_kind(m->dylibs[i].cmd);
        printf(strcmp(kind, "regular") ? " (%s)\n" : "\n", kind);
    }
    if (m->nrpaths == 0)
        text_field("rpaths:", NULL);
    for (size_t i = 0; i < m->nrpaths; i++)
        text_field(i == 0 ? "rpaths:" : "", m->rpaths[i]);
}

static void print_segments_text(const struct macho *s)
{
    char init[4], max[4];
    printf("segments:     %zu\n", s->nsegs);
    if (s->nsegs > 0)
        printf("  %-16s  %-18s  %-10s  %-10s  %-10s  %-4s  %s\n", "NAME", "VMADDR", "VMSIZE", "FILEOFF",
               "FILESIZE", "INIT", "MAX");
    for (size_t i = 0; i < s->nsegs; i++) {
        const struct macho_segment *g = &s->segs[i];
        prot_string(g->initprot, init);
        prot_string(g->maxprot, max);
        fputs("  ", stdout);
        put_text(g->name);
        printf("%*s  0x%016" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64 "  0x%08" PRIx64 "  %-4s  %s\n",
               (int)(16 - strlen(g->name)), "", g->vmaddr, g->vmsize, g->fileoff, g->filesize, init, max);
    }
}

static void print_commands_text(const struct macho *m)
{
    char buf[32];
    printf("load commands: %" PRIu32 " (%" PRIu32 " bytes)\n", m->ncmds, m->sizeofcmds);
    for (uint32_t i = 0; i < m->ncmds; i++)
        printf("  %-28s %" PRIu32 "\n", command_name(m->commands[i].cmd, buf, sizeof buf), m->commands[i].size);
}

static void print_fixups_text(const struct macho_described *s)
{
    const struct macho_fixup_summary *fx = &s->fixups;
    const struct macho_fixup_counts *n = &s->counts;
    char buf[32];
    if (fx->kind == MACHO_FIXUPS_NONE) {
        printf("fixups:       none\n");
        return;
    }
    if (fx->kind == MACHO_FIXUPS_OPCODES) {
        printf("fixups:       opcodes (%s)\n", command_name(s->m.dyld_info_cmd, buf, sizeof buf));
    } else {
        printf("fixups:       chained (LC_DYLD_CHAINED_FIXUPS)\n  pointer formats:");
        for (size_t i = 0; i < fx->nptr_formats; i++)
            printf("%s %s", i ? "," : "", ptr_format_name(fx->ptr_formats[i], buf, sizeof buf));
        printf("%s\n  imports format:  %s, %" PRIu32 " imports, symbol names %s\n", fx->nptr_formats ? "" : " (none)",
               imports_format_name(fx->imports_format), fx->nimports,
               fx->symbols_format == 0 ? "plain" : fx->symbols_format == 1 ? "zlib-compressed" : "in an unknown format");
    }
    if (fx->skipped) {
        printf("  not counted: %s\n", fx->skipped);
        return;
    }
    printf("  rebases:     %" PRIu64 "\n  binds:       %" PRIu64 "\n", n->rebases, n->binds);
    if (fx->kind == MACHO_FIXUPS_OPCODES)
        printf("  lazy binds:  %" PRIu64 "\n  weak binds:  %" PRIu64 "\n", n->lazy_binds, n->weak_binds);
}

static void print_slice_text(const struct macho_described *s)
{
    const struct macho *m = &s->m;
    char buf[32];
    text_field("cpu:", cpu_of(s, buf, sizeof buf));
    if (m->unsupported) {
        text_field("note:", m->unsupported);
        return;
    }
    printf("%-14s%s (%s)\n", "type:", filetype_name(m->filetype, buf, sizeof buf), filetype_meaning(m->filetype));
    print_flags_text(m->flags);
    text_field("install name:", m->install_name);
    print_dylibs_text(m);
    print_segments_text(m);
    print_commands_text(m);
    print_fixups_text(s);
    if (s->have_trie)
        printf("exported symbols: %zu\n", s->nexports);
    else
        printf("exported symbols: 0 (no export trie)\n");
}

static void print_info_text(const char *path, const struct macho_description *f)
{
    char buf[32];
    text_field("file:", path);
    if (!f->fat_magic) {
        text_field("format:", "Mach-O");
        print_slice_text(&f->slices[0]);
        return;
    }
    printf("%-14sMach-O universal (%s), %zu slices\n", "format:",
           f->fat_magic == FAT_MAGIC_64_BE ? "FAT_MAGIC_64" : "FAT_MAGIC", f->nslices);
    for (size_t i = 0; i < f->nslices; i++)
        printf("  slice %zu: %-8s offset 0x%" PRIx64 ", size 0x%" PRIx64 "\n", i,
               cpu_of(&f->slices[i], buf, sizeof buf), f->slices[i].at.off, f->slices[i].at.size);
    for (size_t i = 0; i < f->nslices; i++) {
        printf("\n== slice %zu (%s) ==\n", i, cpu_of(&f->slices[i], buf, sizeof buf));
        print_slice_text(&f->slices[i]);
    }
}

/* ---- info as JSON -------------------------------------------------------------------------- */

/* "key": value, where value is a string from the file (or null). */
static void jstr(const char *key, const char *value, const char *after)
{
    printf("\"%s\": ", key);
    put_json(value);
    fputs(after, stdout);
}

static void print_flags_json(uint32_t flags)
{
    printf("\"flags\": %" PRIu32 ", \"flag_names\": [", flags);
    const char *sep = "";
    for (unsigned b = 0; b < 32; b++)
        if (flags & (1u << b)) {
            if (flag_name(b))
                printf("%s\"%s\"", sep, flag_name(b));
            else
                printf("%s\"0x%x\"", sep, 1u << b);
            sep = ", ";
        }
    fputs("],\n", stdout);
}

static void print_dylibs_json(const struct macho *s)
{
    fputs("      \"dylibs\": [", stdout);
    for (size_t i = 0; i < s->ndylibs; i++) {
        fputs(i ? ", {" : "{", stdout);
        jstr("name", s->dylibs[i].name, ", ");
        printf("\"kind\": \"%s\", \"weak\": %s}", dylib_kind(s->dylibs[i].cmd),
               strcmp(dylib_kind(s->dylibs[i].cmd), "weak") ? "false" : "true");
    }
    fputs("],\n      \"rpaths\": [", stdout);
    for (size_t i = 0; i < s->nrpaths; i++) {
        fputs(i ? ", " : "", stdout);
        put_json(s->rpaths[i]);
    }
    fputs("],\n", stdout);
}

static void print_segments_json(const struct macho *s)
{
    char init[4], max[4];
    fputs("      \"segments\": [", stdout);
    for (size_t i = 0; i < s->nsegs; i++) {
        const struct macho_segment *g = &s->segs[i];
        prot_string(g->initprot, init);
        prot_string(g->maxprot, max);
        fputs(i ? ",\n        {" : "\n        {", stdout);
        jstr("name", g->name, ", ");
        printf("\"vmaddr\": %" PRIu64 ", \"vmsize\": %" PRIu64 ", \"fileoff\": %" PRIu64 ", \"filesize\": %" PRIu64
               ", \"initprot\": \"%s\", \"maxprot\": \"%s\", \"flags\": %" PRIu32 ", \"nsects\": %" PRIu32 "}",
               g->vmaddr, g->vmsize, g->fileoff, g->filesize, init, max, g->flags, g->nsects);
    }
    fputs(s->nsegs ? "\n      ],\n      \"load_commands\": [" : "],\n      \"load_commands\": [", stdout);
    char buf[32];
    for (uint32_t i = 0; i < s->ncmds; i++)
        printf("%s{\"name\": \"%s\", \"cmd\": %" PRIu32 ", \"size\": %" PRIu32 "}", i ? ", " : "",
               command_name(s->commands[i].cmd, buf, sizeof buf), s->commands[i].cmd, s->commands[i].size);
    fputs("],\n", stdout);
}

static void print_fixups_json(const struct macho_described *s)
{
    const struct macho_fixup_summary *fx = &s->fixups;
    const struct macho_fixup_counts *n = &s->counts;
    char buf[32];
    static const char *const kinds[] = { "none", "opcodes", "chained" };
    printf("      \"fixups\": {\"format\": \"%s\"", kinds[fx->kind]);
    if (fx->kind == MACHO_FIXUPS_OPCODES)
        printf(", \"command\": \"%s\", \"lazy_binds\": %" PRIu64 ", \"weak_binds\": %" PRIu64,
               command_name(s->m.dyld_info_cmd, buf, sizeof buf), n->lazy_binds, n->weak_binds);
    if (fx->kind == MACHO_FIXUPS_CHAINED) {
        fputs(", \"pointer_formats\": [", stdout);
        for (size_t i = 0; i < fx->nptr_formats; i++)
            printf("%s\"%s\"", i ? ", " : "", ptr_format_name(fx->ptr_formats[i], buf, sizeof buf));
        printf("], \"imports_format\": \"%s\", \"imports\": %" PRIu32 ", \"symbols_format\": %" PRIu32,
               imports_format_name(fx->imports_format), fx->nimports, fx->symbols_format);
    }
    printf(", \"rebases\": %" PRIu64 ", \"binds\": %" PRIu64 ", ", n->rebases, n->binds);
    jstr("not_counted", fx->skipped, "},\n");
}

static void print_slice_json(size_t index, const struct macho_described *s)
{
    const struct macho *m = &s->m;
    char buf[32];
    printf("    {\"index\": %zu, \"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", ", index, s->at.off, s->at.size);
    jstr("cpu", cpu_of(s, buf, sizeof buf), ", ");
    printf("\"cputype\": %" PRIu32 ", \"cpusubtype\": %" PRIu32 ", ", m->cputype, m->cpusubtype);
    jstr("unsupported", m->unsupported, m->unsupported ? "}" : ",\n      ");
    if (m->unsupported)
        return;
    jstr("type", filetype_name(m->filetype, buf, sizeof buf), ", ");
    jstr("type_meaning", filetype_meaning(m->filetype), ",\n      ");
    print_flags_json(m->flags);
    fputs("      ", stdout);
    jstr("install_name", m->install_name, ",\n");
    print_dylibs_json(m);
    print_segments_json(m);
    print_fixups_json(s);
    printf("      \"export_trie\": %s, \"exported_symbols\": %zu}", s->have_trie ? "true" : "false", s->nexports);
}

static void print_info_json(const char *path, const struct macho_description *f)
{
    fputs("{\n  ", stdout);
    jstr("file", path, ",\n  \"format\": \"Mach-O\",\n  ");
    jstr("universal", f->fat_magic == 0 ? NULL : f->fat_magic == FAT_MAGIC_64_BE ? "FAT_MAGIC_64" : "FAT_MAGIC",
         ",\n  \"slices\": [\n");
    for (size_t i = 0; i < f->nslices; i++) {
        print_slice_json(i, &f->slices[i]);
        fputs(i + 1 < f->nslices ? ",\n" : "\n", stdout);
    }
    fputs("  ]\n}\n", stdout);
}

/* ---- symbols ------------------------------------------------------------------------------- */

static void print_export_text(const struct macho_named_export *x)
{
    const struct macho_export *e = &x->e;
    if (e->flags & MACHO_EXPORT_REEXPORT)
        printf("%-18s", "-");
    else
        printf("0x%016" PRIx64, e->address);
    printf("  %-18s ", export_kind(e->flags));
    put_text(macho_c_name(x->name));
    if (e->flags & MACHO_EXPORT_REEXPORT) {
        printf("  -> dylib %" PRIu64 ": ", export_other(e));
        put_text(e->reexport_name[0] ? e->reexport_name : x->name);
    } else if (e->flags & MACHO_EXPORT_STUB_AND_RESOLVER) {
        printf("  (resolver at 0x%" PRIx64 ")", export_other(e));
    }
    putchar('\n');
}

static void print_symbols_text(const struct macho_description *f)
{
    char buf[32];
    for (size_t i = 0; i < f->nslices; i++) {
        const struct macho_described *s = &f->slices[i];
        if (f->fat_magic)
            printf("%sslice %zu (%s):\n", i ? "\n" : "", i, cpu_of(s, buf, sizeof buf));
        if (s->m.unsupported) {
            printf("  %s\n", s->m.unsupported);
            continue;
        }
        if (!s->have_trie)
            printf("(no export trie)\n");
        printf("%-18s  %-18s %s\n", "ADDRESS", "KIND", "NAME");
        for (size_t j = 0; j < s->nexports; j++)
            print_export_text(&s->exports[j]);
    }
}

static void print_export_json(const struct macho_named_export *x)
{
    const struct macho_export *e = &x->e;
    fputs("{", stdout);
    jstr("name", macho_c_name(x->name), ", ");
    jstr("raw_name", x->name, ", ");
    printf("\"kind\": \"%s\", \"weak\": %s, \"flags\": %" PRIu64, export_kind(e->flags),
           (e->flags & MACHO_EXPORT_WEAK) ? "true" : "false", e->flags);
    if (e->flags & MACHO_EXPORT_REEXPORT) {
        printf(", \"dylib_ordinal\": %" PRIu64 ", ", export_other(e));
        jstr("reexport_name", e->reexport_name[0] ? e->reexport_name : x->name, "}");
        return;
    }
    printf(", \"address\": %" PRIu64 ", \"address_hex\": \"0x%" PRIx64 "\"", e->address, e->address);
    if (e->flags & MACHO_EXPORT_STUB_AND_RESOLVER)
        printf(", \"resolver\": %" PRIu64, export_other(e));
    fputs("}", stdout);
}

static void print_symbols_json(const char *path, const struct macho_description *f)
{
    char buf[32];
    fputs("{\n  ", stdout);
    jstr("file", path, ",\n  \"format\": \"Mach-O\",\n  \"slices\": [");
    for (size_t i = 0; i < f->nslices; i++) {
        const struct macho_described *s = &f->slices[i];
        printf("%s\n    {\"index\": %zu, ", i ? "," : "", i);
        jstr("cpu", cpu_of(s, buf, sizeof buf), ", ");
        jstr("unsupported", s->m.unsupported, ", ");
        printf("\"export_trie\": %s, \"symbols\": [", s->have_trie ? "true" : "false");
        for (size_t j = 0; j < s->nexports; j++) {
            fputs(j ? ",\n      " : "\n      ", stdout);
            print_export_json(&s->exports[j]);
        }
        fputs(s->nexports ? "\n    ]}" : "]}", stdout);
    }
    fputs("\n  ]\n}\n", stdout);
}

/* ---- the two commands ---------------------------------------------------------------------- */

bool inspect_is_macho(const char *path)
{
    struct source src;
    struct diag quiet = { .err = NULL };
    if (source_open_file(&src, path, &quiet))
        return false;
    bool yes = macho_sniff(&src);
    source_close(&src);
    return yes;
}

/* Describe path into f: 0, or -1 after printing the reader's error line (unless quiet). */
static int describe(const char *path, struct macho_description *f, bool quiet)
{
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { .err = &err };
    struct source src;
    int rc = source_open_file(&src, path, &d);
    if (rc == 0) {
        rc = macho_describe(f, &src, &d);
        source_close(&src);
    } else {
        memset(f, 0, sizeof *f);
    }
    if (rc && !quiet)
        out_error(err.code, err.message);
    return rc;
}

int inspect_macho_info(const char *path, int json)
{
    struct macho_description f;
    int rc = describe(path, &f, false);
    if (rc == 0 && json)
        print_info_json(path, &f);
    else if (rc == 0)
        print_info_text(path, &f);
    macho_description_free(&f);
    return rc == 0 ? 0 : 1;
}

int inspect_macho_symbols(const char *path, int json)
{
    struct macho_description f;
    int rc = describe(path, &f, false);
    if (rc == 0 && json)
        print_symbols_json(path, &f);
    else if (rc == 0)
        print_symbols_text(&f);
    macho_description_free(&f);
    return rc == 0 ? 0 : 1;
}

/* The segment of m that holds the image offset addr, or NULL. */
static const struct macho_segment *segment_of(const struct macho *m, uint64_t addr)
{
    uint64_t vm = m->base_vaddr + addr;
    for (size_t i = 0; i < m->nsegs; i++)
        if (vm >= m->segs[i].vmaddr && vm - m->segs[i].vmaddr < m->segs[i].vmsize)
            return &m->segs[i];
    return NULL;
}

bool inspect_macho_is_variable(const char *path, const char *name)
{
    struct macho_description f;
    bool variable = false;
    if (!inspect_is_macho(path))
        return false;
    if (describe(path, &f, true) == 0)
        for (size_t i = 0; i < f.nslices; i++) {
            const struct macho *m = &f.slices[i].m;
            if (m->unsupported || m->cputype != arch_native()->macho_cputype)
                continue;
            for (size_t j = 0; j < f.slices[i].nexports; j++) {
                const struct macho_named_export *x = &f.slices[i].exports[j];
                if (strcmp(macho_c_name(x->name), name) != 0 || (x->e.flags & MACHO_EXPORT_REEXPORT))
                    continue;
                const struct macho_segment *g = segment_of(m, x->e.address);
                unsigned kind = x->e.flags & MACHO_EXPORT_KIND_MASK;
                variable = kind == MACHO_EXPORT_KIND_THREAD_LOCAL ||
                           (kind == MACHO_EXPORT_KIND_REGULAR && g && !(g->initprot & 4));
            }
            break;
        }
    macho_description_free(&f);
    return variable;
}
