/*
 * macho_describe.h — a Mach-O file described, not loaded (for `plugin info` / `plugin symbols`):
 * every slice of a thin or universal file, for any CPU, read by the loader's own reader
 * (macho_read_slices, macho_read_slice in MACHO_DESCRIBE), its fixups counted by the loader's
 * own walk (macho_walk_fixups) and its exports listed by the loader's trie check and walk. So a
 * file is refused here exactly when, and in the words in which, the loader refuses it as
 * malformed; what only loading refuses (another CPU, arm64e, another file type) is described.
 */
#ifndef PLUGIN_MACHO_DESCRIBE_H
#define PLUGIN_MACHO_DESCRIBE_H

#include "macho/macho_walk.h"

struct macho_fixup_counts {     /* places named by the fixups (chained: lazy and weak stay 0) */
    uint64_t rebases, binds, lazy_binds, weak_binds;
};

struct macho_named_export {
    char *name;                 /* the raw Mach-O name ("_F"), owned */
    struct macho_export e;      /* e.reexport_name points into the slice's trie bytes */
};

#define MACHO_DESCRIBE_MAX_DATA 8

struct macho_described {        /* one slice */
    struct macho_slice at;      /* where it is; cpu: the universal header's */
    struct macho m;             /* its header and load commands; m.unsupported: nothing more read */
    struct macho_fixup_summary fixups;
    struct macho_fixup_counts counts;
    bool have_trie;             /* an export trie (LC_DYLD_EXPORTS_TRIE or LC_DYLD_INFO's) */
    struct macho_named_export *exports;     /* sorted by C name (then raw name) */
    size_t nexports;
    char *name;                 /* for messages: the file's name, or "FILE: slice N (cpu)" */
    uint8_t *data[MACHO_DESCRIBE_MAX_DATA]; /* linkedit tables read from the file (owned) */
    size_t ndata;
};

struct macho_description {
    uint32_t fat_magic;         /* FAT_MAGIC_BE / FAT_MAGIC_64_BE, 0 for a thin file */
    struct macho_described *slices;
    size_t nslices;
};

/* Describe every slice of s. 0, or -1 with the error set: "plugin: NAME: cause", NAME being
 * s->name, or "s->name: slice N (cpu)" for a slice of a universal file. macho_description_free
 * frees everything (also after a failure). */
int macho_describe(struct macho_description *out, struct source *s, struct diag *d);
void macho_description_free(struct macho_description *out);

/* The C name of a raw Mach-O name: without its leading underscore. */
const char *macho_c_name(const char *raw);

#endif /* PLUGIN_MACHO_DESCRIBE_H */
