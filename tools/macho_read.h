/*
 * macho_read.h — the reading half of `plugin info` / `plugin symbols` for Mach-O files: every
 * slice of a thin or universal (fat) file, for any CPU, described without loading it — header,
 * load commands, segments, dylibs, rpaths, fixup counts and the exports of the trie.
 *
 * The whole file is read into memory once; every offset, size and count in it is checked before
 * use. inspect_macho.c turns the result into text or JSON. The loader's macho_read_headers only
 * accepts this CPU's slice, so the reading here is its own; it reuses the loader's bounded
 * ULEB128 reader and its export trie check (cycles, bounds).
 */
#ifndef PLUGIN_TOOLS_MACHO_READ_H
#define PLUGIN_TOOLS_MACHO_READ_H

#include "macho/macho.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_command {             /* one load command, as found */
    uint32_t cmd, size;
};

struct mo_dylib {
    const char *name;           /* inside the file buffer, terminated inside its command */
    uint32_t cmd;               /* LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, ... */
};

enum mo_fixup_kind { MO_FIXUPS_NONE, MO_FIXUPS_OPCODES, MO_FIXUPS_CHAINED };

#define MO_MAX_PTR_FORMATS 8

struct mo_fixups {
    enum mo_fixup_kind kind;
    uint32_t info_cmd;          /* LC_DYLD_INFO or LC_DYLD_INFO_ONLY (opcodes) */
    uint64_t rebases, binds, lazy_binds, weak_binds;   /* chained: lazy and weak stay 0 */
    uint32_t imports_format, symbols_format, nimports;  /* chained only */
    uint16_t ptr_formats[MO_MAX_PTR_FORMATS];           /* distinct, in order of appearance */
    size_t nptr_formats;
    const char *not_counted;    /* why rebases/binds could not be counted, or NULL */
};

struct mo_export {
    char *name;                 /* the raw Mach-O name ("_F"), owned */
    uint64_t flags, address;    /* address: offset from the image base (absolute: the value) */
    uint64_t other;             /* re-export: library ordinal; stub-and-resolver: resolver */
    const char *reexport_name;  /* inside the trie; "" means the same name */
};

struct mo_slice {
    unsigned index;
    uint64_t off, size;                 /* in the file */
    const uint8_t *p;                   /* the slice's bytes */
    uint32_t cputype, cpusubtype;       /* the header's (the fat table's when unsupported) */
    const char *unsupported;            /* not a 64-bit little-endian Mach-O: why, else NULL */
    uint32_t filetype, flags, ncmds, sizeofcmds;
    struct mo_command *cmds;
    struct macho_segment *segs;
    size_t nsegs;
    struct mo_dylib *dylibs;
    size_t ndylibs;
    const char **rpaths;
    size_t nrpaths;
    const char *install_name;
    struct macho_range rebase, bind, weak_bind, lazy_bind, export_info, chained, exports_trie;
    uint32_t info_cmd;
    uint64_t base_vaddr;                /* vmaddr of the segment that holds the header */
    struct mo_fixups fx;
    struct mo_export *exports;          /* sorted by C name */
    size_t nexports;
    bool have_trie;
};

struct mo_file {
    const char *path;
    uint8_t *data;
    uint64_t size;
    uint32_t fat_magic;                 /* FAT_MAGIC_BE / FAT_MAGIC_64_BE, or 0 for a thin file */
    struct mo_slice *slices;
    size_t nslices;
    bool quiet;                         /* errors are not printed */
};

/* The first bytes of path are a Mach-O (thin or fat) magic. Prints nothing. */
bool mo_sniff(const char *path);

/* Read path and describe every slice. 0, or -1 after printing "plugin: FILE: cause" to stderr
 * (unless quiet). mo_close frees everything (also after a failure). */
int mo_open(struct mo_file *f, const char *path, bool quiet);
void mo_close(struct mo_file *f);

/* Print "plugin: FILE: [slice N (cpu): ]cause" to stderr (unless f->quiet). Returns -1. */
int mo_fail(const struct mo_file *f, const struct mo_slice *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* macho_fixups_count.c: count the fixups of a slice whose load commands were read. */
int mo_count_fixups(const struct mo_file *f, struct mo_slice *s);

/* The C name of an export: the raw name without its leading underscore. */
const char *mo_c_name(const struct mo_export *e);

#endif /* PLUGIN_TOOLS_MACHO_READ_H */
