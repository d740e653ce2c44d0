/*
 * macho.h — the Mach-O front end's view of an object: which slice of the file it is, its header,
 * its load commands (copied out of the file, every size checked), its segments and where its
 * linkedit data lives. Built by macho_read_headers before any memory is mapped (dyld3's order:
 * header, then every load command, then segments, then linkedit ranges).
 *
 * All file offsets here are relative to the start of the slice (a thin file is one slice).
 */
#ifndef PLUGIN_MACHO_H
#define PLUGIN_MACHO_H

#include "internal.h"

#define MH_MAGIC_64_LE   0xfeedfacfu   /* as read little-endian */
#define MH_CIGAM_64_LE   0xcffaedfeu   /* a big-endian 64-bit Mach-O */
#define FAT_MAGIC_BE     0xcafebabeu   /* as read big-endian */
#define FAT_MAGIC_64_BE  0xcafebabfu

#define MACHO_CPU_X86_64 0x01000007u
#define MACHO_CPU_ARM64  0x0100000cu
#define MACHO_CPU_SUBTYPE_ARM64E 2u
#define MACHO_CPU_SUBTYPE_MASK   0x00ffffffu

struct macho_range {            /* a piece of linkedit data: offset and size in the slice */
    uint32_t off, size;
    bool present;
};

struct macho_segment {
    char name[17];
    uint64_t vmaddr, vmsize, fileoff, filesize;
    uint32_t maxprot, initprot, flags, nsects;
};

struct macho_dylib {
    const char *name;           /* points into macho.cmds */
    bool weak;                  /* LC_LOAD_WEAK_DYLIB: may be missing */
    bool reexport;
};

struct macho {
    uint64_t slice_off, slice_size;
    uint32_t cputype, cpusubtype, filetype, flags, ncmds, sizeofcmds;
    uint8_t *cmds;              /* a copy of the load commands (owned) */
    struct macho_segment *segs;
    size_t nsegs;
    struct macho_dylib *dylibs;
    size_t ndylibs;
    const char **rpaths;        /* into cmds */
    size_t nrpaths;
    const char *install_name;   /* LC_ID_DYLIB, into cmds, or NULL */
    struct macho_range rebase, bind, weak_bind, lazy_bind, exports, chained, exports_trie;
    struct macho_range symtab, strtab;     /* LC_SYMTAB: symbols (nlist_64) and strings */
    uint32_t nsyms;
    bool dyld_info, chained_fixups;
};

/* The first bytes of s are a thin (MH_MAGIC_64) or universal (fat) Mach-O file. */
bool macho_sniff(struct source *s);

/* Choose this CPU's slice, validate the header and every load command, and describe the object
 * in m. On failure m holds nothing (macho_free is still safe). */
int macho_read_headers(struct macho *m, struct source *s, struct diag *d);
void macho_free(struct macho *m);

/* "x86_64", "arm64", "arm64e", "i386", ... or "cputype 0x..." formatted into buf. */
const char *macho_cpu_name(uint32_t cputype, uint32_t cpusubtype, char *buf, size_t bufsz);

#endif /* PLUGIN_MACHO_H */
