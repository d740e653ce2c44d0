/*
 * macho_walk.h — the one walk of a Mach-O object's fixups (macho_fixup_walk.c): the rebase and
 * bind opcode streams of LC_DYLD_INFO(_ONLY), or the page chains of LC_DYLD_CHAINED_FIXUPS.
 *
 * The walk decodes and bound-checks; what happens at each place is the visitor's: the loader's
 * (macho_fixups.c) writes the values into the mapped image, the describer's (macho_describe.c)
 * counts them from the file's bytes. Every check of the tables' structure is the walk's, so both
 * refuse the same files with the same words; a visitor checks only what is its own (the loader:
 * that a place is writable memory; that a symbol resolves).
 */
#ifndef PLUGIN_MACHO_WALK_H
#define PLUGIN_MACHO_WALK_H

#include "macho/macho.h"

enum macho_fixup_kind { MACHO_FIXUPS_NONE, MACHO_FIXUPS_OPCODES, MACHO_FIXUPS_CHAINED };
enum macho_bind_kind { MACHO_BIND_REGULAR, MACHO_BIND_LAZY, MACHO_BIND_WEAK };

/* count places (at least one), at vaddr, vaddr + stride, ...: all inside one segment. */
struct macho_places {
    uint64_t vaddr, stride, count;
};

struct macho_rebase {
    bool chained;               /* false (opcodes): each place holds its unslid pointer */
    uint64_t target;            /* chained: the unslid vmaddr pointed to (the 64-bit formats) */
    uint8_t high8;              /* chained: the pointer's top byte */
};

struct macho_bind {
    enum macho_bind_kind kind;  /* the stream it comes from (chained: regular) */
    const char *symbol;         /* "_name", terminated in the tables; NULL: compressed names (described) */
    int64_t ordinal, addend;    /* library ordinal (<= 0: BIND_SPECIAL_*), addend to add */
    bool weak;                  /* a weak import: may stay unresolved */
};

/* A non-zero return from a callback stops the walk, which returns -1: the callback has set the
 * error. read and linkedit return bytes of the slice; how they get them is the visitor's. */
struct macho_fixup_visitor {
    void *ctx;
    int (*rebase)(void *ctx, const struct macho_places *at, const struct macho_rebase *r);
    int (*bind)(void *ctx, const struct macho_places *at, const struct macho_bind *b);
    /* Chained fixups: the 64-bit word at vaddr, whose bytes are at slice offset fileoff. */
    int (*read)(void *ctx, uint64_t vaddr, uint64_t fileoff, uint64_t *word);
    /* The r->size bytes of linkedit range r, or NULL (error set). */
    const uint8_t *(*linkedit)(void *ctx, const struct macho_range *r);
};

#define MACHO_MAX_PTR_FORMATS 8

/* What the walk found besides the places. */
struct macho_fixup_summary {
    enum macho_fixup_kind kind;
    uint32_t imports_format, symbols_format, nimports;     /* chained */
    uint16_t ptr_formats[MACHO_MAX_PTR_FORMATS];            /* chained: distinct, in order met */
    size_t nptr_formats;
    const char *skipped;        /* MACHO_DESCRIBE: why some fixups were not walked, or NULL */
};

/* Walk every fixup of m (read by macho_read_slice in the same mode), calling v. MACHO_LOAD
 * refuses what the loader cannot apply: threaded (arm64e) binds, chained pointer formats other
 * than DYLD_CHAINED_PTR_64 / _64_OFFSET, compressed import names. MACHO_DESCRIBE walks those it
 * can decode (the arm64e userland formats too: places, ordinals; no targets or addends) and notes
 * the rest in sum->skipped. Messages name `name`. 0, or -1 with the error set. */
int macho_walk_fixups(const struct macho *m, enum macho_mode mode, const struct macho_fixup_visitor *v,
                      struct macho_fixup_summary *sum, const char *name, struct diag *d);

#endif /* PLUGIN_MACHO_WALK_H */
