/*
 * macho.h — the Mach-O front end's view of an object: which slice of the file it is, its header,
 * its load commands (copied out of the file, every size checked), its segments and where its
 * linkedit data lives. Built by macho_read_slice before any memory is mapped (dyld3's order:
 * header, then every load command, then segments, then linkedit ranges).
 *
 * The reader is shared by the loader and `plugin info` / `plugin symbols` (macho_describe.h): it
 * reads any slice in one of two modes. MACHO_LOAD keeps the loader's refusals (another CPU,
 * arm64e, a file type other than MH_DYLIB / MH_BUNDLE, a required load command it does not know,
 * a writable and executable segment, a segment it cannot map on this host); MACHO_DESCRIBE
 * accepts those, and refuses what is malformed with the same checks and the same words.
 *
 * All file offsets here are relative to the start of the slice (a thin file is one slice).
 */
#ifndef PLUGIN_MACHO_H
#define PLUGIN_MACHO_H

#include "core/format.h"

extern const struct format macho_format;

static inline struct macho *macho_of(const struct image *im)
{
    return (struct macho *)im->fmt_data;
}

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

struct macho_section {          /* a section header, as the load commands give it */
    uint64_t addr, size;
    uint32_t flags;             /* type in the low byte (S_MOD_INIT_FUNC_POINTERS, ...) */
};

struct macho_dylib {
    const char *name;           /* points into macho.cmds */
    bool weak;                  /* LC_LOAD_WEAK_DYLIB: may be missing */
    bool reexport;
    uint32_t cmd;               /* LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB, ... */
};

struct macho_command {          /* one load command, as found */
    uint32_t cmd, size;
};

enum macho_mode {
    MACHO_LOAD,                 /* to be mapped into this process: refuse what we cannot load */
    MACHO_DESCRIBE,             /* only described: any CPU, any file type */
};

struct macho_slice {            /* an entry of the universal header, or the whole of a thin file */
    uint64_t off, size;
    uint32_t cputype, cpusubtype;   /* the universal header's (a thin file: 0, see macho.cputype) */
};

struct macho_slices {
    uint32_t fat_magic;         /* FAT_MAGIC_BE or FAT_MAGIC_64_BE; 0: a thin file, one slice */
    struct macho_slice *v;
    size_t n;
};

struct macho {
    uint64_t slice_off, slice_size;
    uint32_t cputype, cpusubtype, filetype, flags, ncmds, sizeofcmds;
    const char *unsupported;    /* MACHO_DESCRIBE: a 32-bit or big-endian slice, only its CPU read */
    uint8_t *cmds;              /* a copy of the load commands (owned) */
    struct macho_command *commands;    /* ncmds of them, in order (owned) */
    struct macho_segment *segs;
    size_t nsegs;
    struct macho_section *sects;    /* every section of every segment, in load-command order */
    size_t nsects;
    struct macho_dylib *dylibs;
    size_t ndylibs;
    const char **rpaths;        /* into cmds */
    size_t nrpaths;
    const char *install_name;   /* LC_ID_DYLIB, into cmds, or NULL */
    struct macho_range rebase, bind, weak_bind, lazy_bind, exports, chained, exports_trie;
    struct macho_range symtab, strtab;     /* LC_SYMTAB: symbols (nlist_64) and strings */
    uint32_t nsyms;
    bool dyld_info, chained_fixups;
    uint32_t dyld_info_cmd;     /* LC_DYLD_INFO or LC_DYLD_INFO_ONLY, 0: neither */
    uint64_t base_vaddr;        /* vmaddr of the segment holding the header (__TEXT): the image's base */
    /* Filled after mapping (macho_load.c). */
    const uint8_t *trie;        /* the export trie in the mapped __LINKEDIT, or NULL */
    size_t trie_size, nexports;
    struct macho_init_section *inits;
    size_t ninits;
    struct macho_init_section *terms;   /* S_MOD_TERM_FUNC_POINTERS sections, run at exit */
    size_t nterms;
    size_t tlv_module;          /* 1 + thread-local module number, 0: none */
};

#define MACHO_EXPORT_KIND_MASK         0x03
#define MACHO_EXPORT_KIND_REGULAR      0x00
#define MACHO_EXPORT_KIND_THREAD_LOCAL 0x01
#define MACHO_EXPORT_KIND_ABSOLUTE     0x02
#define MACHO_EXPORT_WEAK              0x04
#define MACHO_EXPORT_REEXPORT          0x08
#define MACHO_EXPORT_STUB_AND_RESOLVER 0x10

struct macho_export {           /* one terminal of the export trie */
    bool found;
    uint64_t flags, address, resolver, ordinal;
    const char *reexport_name;
};

/* What loading needs after mapping: the export trie, the initializer sections. */
struct macho_init_section {
    uint64_t vmaddr, size;
    bool offsets;               /* S_INIT_FUNC_OFFSETS (32-bit offsets) vs pointers */
};

/* Bounded ULEB128 / SLEB128 reads at *pos in p[0..size). */
bool macho_uleb(const uint8_t *p, size_t size, size_t *pos, uint64_t *out);
bool macho_sleb(const uint8_t *p, size_t size, size_t *pos, int64_t *out);
/* Walk the whole trie once; a node reached twice, an offset out of range or a bad ULEB128 is a
 * FORMAT error. *nexports receives the number of terminal nodes. */
int macho_trie_check(const uint8_t *trie, size_t size, size_t *nexports, const char *file, struct diag *d);
/* The terminal information of the trie node at off (e->found false: none); *children receives
 * where its child list starts. False when the node is malformed. */
bool macho_trie_terminal(const uint8_t *trie, size_t size, size_t off, struct macho_export *e, size_t *children);
/* macho_trie_walk.c: call visit(ctx, name, export) for every export of a checked trie (names
 * with their leading underscore); stops at the first non-zero visit. -1 on a malformed trie. */
int macho_trie_walk(const uint8_t *trie, size_t size,
                    int (*visit)(void *ctx, const char *name, const struct macho_export *e), void *ctx);

/* Find name (with its leading underscore) in a checked trie. */
bool macho_trie_find(const uint8_t *trie, size_t size, const char *name, struct macho_export *out);

/* The first bytes of s are a thin (MH_MAGIC_64) or universal (fat) Mach-O file. */
bool macho_sniff(struct source *s);

/* The slices of s: the universal header's entries, each inside the file, or one slice for a thin
 * file. On failure f holds nothing; macho_slices_free is safe either way. */
int macho_read_slices(struct macho_slices *f, struct source *s, struct diag *d);
void macho_slices_free(struct macho_slices *f);
/* Validate the header of slice sl and every load command, its segments (and their sections) and
 * linkedit ranges, and describe the object in m, in the given mode. On failure m holds nothing
 * (macho_free is still safe). Messages name s->name. */
int macho_read_slice(struct macho *m, struct source *s, const struct macho_slice *sl, enum macho_mode mode,
                     struct diag *d);
/* For loading: choose this CPU's slice and read it (MACHO_LOAD). */
int macho_read_headers(struct macho *m, struct source *s, struct diag *d);
void macho_free(struct macho *m);

/* "x86_64", "arm64", "arm64e", "i386", ... or "cputype 0x..." formatted into buf. */
const char *macho_cpu_name(uint32_t cputype, uint32_t cpusubtype, char *buf, size_t bufsz);

/* macho_load.c: describe im from a Mach-O source (segments, span), before mapping. */
int macho_read_image(struct image *im, struct source *s, struct diag *d);
/* After mapping: locate the export trie and initializer sections, check them. */
int macho_decode(struct image *im, struct diag *d);
/* The memory of linkedit data at slice offset off (checked at header time). */
const uint8_t *macho_linkedit(const struct image *im, uint32_t off);
/* Load the LC_LOAD_DYLIB dependencies of ld->images[idx] (into its needed; NULL: provided by the
 * host). */
int macho_load_deps(struct load *ld, size_t idx);
/* Run the initializers of im with (argc, argv, envp). */
void macho_run_init(struct image *im, int argc, char **argv, char **envp, struct diag *d);
/* Symbol i of LC_SYMTAB when it is an external definition in a section (N_EXT | N_SECT) with a
 * name terminated inside the string table: its name and (unslid) value. */
bool macho_symbol(const struct image *im, uint32_t i, const char **name, uint64_t *value);
/* macho_addr.c: the export at or below a (plugin_addr_info), named as plugin_lookup takes it. */
bool macho_nearest(const struct image *im, uintptr_t a, const char **name, uintptr_t *sym_addr);
/* Run the finalizers of im (__mod_term_func: sections in order, each one's functions last first). */
void macho_run_fini(struct image *im);

/* macho_find.c: a name looked up in a Mach-O image, re-exports followed (see there). */
enum { MACHO_NOT_FOUND = 0, MACHO_FOUND = 1, MACHO_FOUND_HOST = 2 };
struct macho_def {
    const struct image *im;     /* the image whose export is the definition (MACHO_FOUND) */
    struct macho_export e;      /* that export (flags: kind, weak; address) */
    const char *name;           /* the Mach-O name it has there (a re-export may rename) */
    const char *via;            /* MACHO_FOUND_HOST: the system library re-exported */
};
/* Look up the Mach-O name sym ("_F") in im: its own exports, a re-export entry followed to its
 * dylib, then (unless shallow) the dylibs im re-exports (LC_REEXPORT_DYLIB). MACHO_FOUND (*out is
 * the definition), MACHO_FOUND_HOST (out->name is to be asked from the host), MACHO_NOT_FOUND, or
 * -1 with a FORMAT error (a re-export ordinal out of range, re-exports nested too deep). */
int macho_find(const struct image *im, const char *sym, bool shallow, struct macho_def *out, struct diag *d);
/* The address of a MACHO_FOUND definition (regular or absolute; the caller refuses the rest). */
uint64_t macho_def_addr(const struct macho_def *def);
/* A dylib the host provides: /usr/lib/... or /System/... */
bool macho_is_system_dylib(const char *name);
/* plugin_lookup for a Mach-O image: "F" is the Mach-O name "_F", else "F" itself when it does
 * not start with '_'; "\1RAW" is exactly the Mach-O name RAW. */
void *macho_lookup(const struct image *im, const char *name, struct diag *d);

/* macho_tlv.c: thread-local variables. The value of a bind to __tlv_bootstrap / __tlv_atexit
 * (0: not one of those); after fixups, point every descriptor at our getter; forget an image that
 * failed to load; the calling thread's address of the variable whose descriptor is at vaddr. */
uint64_t macho_tlv_special(const char *sym);
int macho_tlv_setup(struct image *im, struct diag *d);
void macho_tlv_forget(struct image *im);
void *macho_tlv_lookup(const struct image *im, uint64_t desc_vaddr);

/* macho_fixups.c: rebase and bind (opcode streams) or chained fixups, all bound now (the walk is
 * macho_walk.h's). */
int macho_apply_fixups(struct load *ld, struct image *im);

#endif /* PLUGIN_MACHO_H */
