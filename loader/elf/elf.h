/*
 * elf.h — the ELF front end: its reader's description of an object (struct elf_object), the
 * reader's functions, and what the front end's files share.
 *
 * The reader is used two ways, with the same validation:
 *   - to load: elf_read_headers on the file, then the core maps the segments, then
 *     elf_decode_dynamic reads the dynamic table, strings, symbols, hashes and versions from the
 *     mapped (not yet relocated) file data;
 *   - to describe (plugin info / plugin symbols, any CPU): elf_describe reads the same headers
 *     and the same tables from the file's bytes, through the same segment translation
 *     (im->file_view), without mapping anything.
 * Objects of the system loader ("host" images) are decoded by the same code (elf_host.c).
 *
 * Addresses: "vaddr" always means an address as written in the file (p_vaddr, d_ptr, st_value);
 * image_addr(im, vaddr) is where it is (memory, or the file's byte).
 */
#ifndef PLUGIN_ELF_H
#define PLUGIN_ELF_H

#include "core/format.h"
#include "core/symmap.h"

#include <elf.h>

/* DT_RELR (the generic ABI's packed relative relocations, tags 35-37) arrived in glibc 2.36's
 * <elf.h>; musl 1.2.3's has none: the values, from the gABI, where the C library's header lacks
 * them (the static musl host, mk/musl.mk). */
#ifndef DT_RELR
#define DT_RELRSZ  35
#define DT_RELR    36
#define DT_RELRENT 37
#endif

/* Tags kept by the decoded dynamic table: the standard ones by value, the GNU ones after. */
enum {
    DYN_GNU_HASH = 38 /* DT_RELRENT + 1 */, DYN_VERSYM, DYN_VERDEF, DYN_VERDEFNUM, DYN_VERNEED, DYN_VERNEEDNUM,
    DYN_FLAGS_1, DYN_COUNT
};

struct gnu_hash {
    uint32_t nbuckets, symoffset, bloom_size, bloom_shift;
    const uint64_t *bloom;
    const uint32_t *buckets, *chain;
    uint32_t nchain;        /* chain words checked to lie in the table (symbols symoffset.. on) */
};

/* How the reader is used: to load an object of this CPU, or to describe one of any CPU. */
enum elf_purpose { ELF_LOAD, ELF_DESCRIBE };

struct elf_object {
    Elf64_Ehdr eh;          /* the header, as read */
    Elf64_Phdr *phdrs;      /* every program header (owned), for describing only; NULL once loaded */
    size_t nphdrs;
    bool has_dynamic;       /* PT_DYNAMIC present (describe only: a load requires it) */
    const Elf64_Dyn *dynamic;
    size_t ndynamic;
    uint64_t dyn[DYN_COUNT];
    uint64_t dyn_present;   /* bit i set when dyn[i] was given */

    const char *strtab;
    uint64_t strsz;
    const Elf64_Sym *symtab;
    uint32_t nsyms;         /* symbols covered by the hash tables (lookups) */
    uint32_t nsyms_max;     /* symbols a relocation may name (the table's extent) */
    struct gnu_hash gnu;
    const uint32_t *sysv_buckets, *sysv_chain;
    uint32_t sysv_nbucket, sysv_nchain;
    const uint16_t *versym;
    struct version *versions;
    uint32_t nversions;

    struct {                /* PT_TLS: the template of the object's thread-local block */
        uint64_t vaddr, filesz, memsz, align;
        bool present;
        size_t id;          /* 1 + our module number (core/tls.c), 0: not registered */
        size_t host_modid;  /* host objects: glibc's module id (dlpi_tls_modid), 0: none */
        intptr_t host_tpoff;/* host objects in static TLS: block address - thread pointer */
        bool host_static;
    } tls;
};

static inline struct elf_object *elf_of(const struct image *im)
{
    return (struct elf_object *)im->fmt_data;
}
static inline bool dyn_has(const struct elf_object *o, int tag)
{
    return (o->dyn_present >> tag) & 1;
}
/* A string of the dynamic string table, or NULL when off is out of range. */
static inline const char *elf_str(const struct elf_object *o, uint64_t off)
{
    return off < o->strsz ? o->strtab + off : NULL;
}

extern const struct format elf_format;
extern const struct host_provider elf_host_provider;

/* ---- the reader (elf_header.c, elf_dynamic.c, elf_describe.c) ---------------------------- */

/* Validate the ELF header and program headers of s; fill im's segments, span and RELRO and its
 * elf_object (allocated here, im->fmt_data). ELF_LOAD refuses what this process cannot load
 * (another CPU, executables, W+X, executable stacks, alignment below the page size). */
int elf_read_headers(struct image *im, struct source *s, enum elf_purpose why, struct diag *d);
/* Decode PT_DYNAMIC (mapped, or described) into the object: strings, symbols, hashes, versions.
 * ELF_LOAD also refuses text relocations, PIEs and objects linked -z nodlopen (DF_1_NOOPEN),
 * and checks the initializer tables. */
int elf_decode_dynamic(struct image *im, enum elf_purpose why, struct diag *d);
/* The same for an object the system loader mapped (pointers may already be relocated). */
int elf_decode_host_dynamic(struct image *im, struct diag *d);
/* Free what the reader allocated (the image's segments included: they are the object's). */
void elf_object_free(struct image *im);

/* Describe path without loading it: an image over the file's bytes (any CPU), with its
 * elf_object. NULL with d's error filled. Free with elf_describe_free. */
struct image *elf_describe(const char *path, struct diag *d);
/* The same over a buffer (which must outlive the image). */
struct image *elf_describe_memory(const void *data, size_t size, const char *name, struct diag *d);
void elf_describe_free(struct image *im);

/* One relocation, as the tables give it (RELR entries come as this CPU's RELATIVE type with
 * from_relr set). */
struct elf_reloc {
    uint32_t type, sym;
    uint64_t where;
    int64_t addend;
    bool has_addend, from_relr;
};
/* Walk every dynamic relocation of im in load order: DT_RELR, DT_RELA, DT_REL, DT_JMPREL. Each
 * table is checked (placement, entry size, alignment) before it is read; fn returning non-zero
 * stops the walk and is returned. relative_type: the type RELR entries stand for. */
int elf_walk_relocs(const struct image *im, uint32_t relative_type,
                    int (*fn)(void *ctx, const struct elf_reloc *r), void *ctx, struct diag *d);

/* ---- symbols (elf_symtab.c) ---------------------------------------------------------------- */

/* The defining symbol for q in im, or NULL. */
const Elf64_Sym *elf_find_symbol(const struct image *im, struct sym_query *q);
/* Address of a defined symbol of im (IFUNC not resolved). */
uint64_t elf_symbol_addr(const struct image *im, const Elf64_Sym *sym);
/* What plugin_lookup can find (as dlsym would): defined, linkable type, global/weak/unique,
 * default or protected visibility. */
bool elf_symbol_exported(const Elf64_Sym *s);
/* The version (one this object defines) of symbol i, or NULL; *hidden: not the default version. */
const char *elf_symbol_version(const struct elf_object *o, uint32_t i, bool *hidden);

/* elf_find_symbol(im, q) would return im's symbol idx, q being its name (elf_symtab.c). */
bool elf_search_finds_itself(const struct image *im, uint32_t idx, struct sym_query *q);
/* No object of the global scope defines a name whose GNU hash is h (its lowest bit aside): the
 * host filter says so (elf_host.c). false when there is no filter yet. */
bool elf_hosts_lack(uint32_t h);
/* The GNU hash of a name (elf_symtab.c). */
uint32_t elf_name_gnu_hash(const char *name);
/* Whether o's GNU hash table may define q's name: its bloom filter, checked before any call, since
 * a scope walk asks every object and most say no here. True when o has no GNU hash table. */
static inline bool elf_bloom_may_define(const struct elf_object *o, struct sym_query *q)
{
    const struct gnu_hash *g = &o->gnu;
    if (!g->nbuckets)
        return true;
    if (!q->hashed[0])
        q->hash[0] = elf_name_gnu_hash(q->name), q->hashed[0] = true;
    uint32_t h = q->hash[0];
    uint64_t word = g->bloom[(h / 64) & (g->bloom_size - 1)];
    uint64_t mask = (1ULL << (h % 64)) | (1ULL << ((h >> g->bloom_shift) % 64));
    return (word & mask) == mask;
}

/* elf_exports.c: plugin_lookup's table of im (core/exports.h), every exported name mapped to what
 * elf_find_symbol finds for an unversioned lookup of its default version; NULL: no memory. */
struct export_table *elf_exports_build(const struct image *im);

/* ---- loading (elf_load.c, elf_deps.c, elf_reloc.c, elf_init.c, elf_addr.c) --------------- */

int elf_load_deps(struct load *ld, size_t idx);
/* elf_deps.c: plugin_dlopen of a name without '/', searched as caller's DT_NEEDED (format.h). */
int elf_search_name(struct load *ld, const struct image *caller, const char *name, struct image **out);
int elf_check_versions(struct load *ld, struct image *im);
int elf_bind(struct load *ld, struct image *im, void **state);
int elf_bind_done(struct load *ld, void *state, bool run);
int elf_check_init_tables(struct image *im, struct diag *d);
void elf_run_init(struct image *im, int argc, char **argv, char **envp, struct diag *d);
void elf_run_fini(struct image *im);
bool elf_nearest(const struct image *im, uintptr_t a, const char **name, uintptr_t *sym_addr);

/* One symbol reference of im (symbol index), resolved through the scope walk. */
int elf_resolve_symbol(struct load *ld, struct image *im, uint32_t symidx, struct resolved *out);

/* elf_tls.c: ELF thread-local storage. Register im's PT_TLS as one of our modules; forget it
 * (failed open); apply one TLS relocation; this thread's address of a TLS symbol of im; the
 * function a plugin's __tls_get_addr binds to. */
int elf_tls_register(struct image *im, struct diag *d);
void elf_tls_forget(struct image *im);
int elf_tls_relocate(struct load *ld, struct image *im, const struct reloc_type *rt, uint32_t symidx,
                     uint64_t where, int64_t addend);
void *elf_tls_symbol_address(const struct image *im, const Elf64_Sym *sym);
void *elf_tls_get_addr_function(void);

/* eh_frame.c: hand the .eh_frame of every ELF image of this open to libgcc's __register_frame,
 * so that exceptions and backtraces unwind through them (after relocation, before initializers). */
void eh_frame_register_all(struct load *ld);

/* elf_unique.c: the process's table of unique symbols (STB_GNU_UNIQUE), one definition a name.
 * Register the unique definitions im exports (before any binding of its open); bind a reference
 * whose search found a unique definition to the table's entry (out is rewritten); the entry for
 * name, taking no lock (entries of an open in progress are not seen); at the end of an open, make
 * its entries visible (it succeeded) or take them back out (it failed). Writers hold the load lock. */
int elf_unique_register(struct load *ld, struct image *im);
int elf_unique_apply_slow(struct load *ld, const char *name, struct resolved *out);
static inline bool elf_resolved_unique(const struct resolved *r)
{
    return r->sym && r->def && r->def->fmt == &elf_format &&
           ELF64_ST_BIND(((const Elf64_Sym *)r->sym)->st_info) == STB_GNU_UNIQUE;
}
static inline int elf_unique_apply(struct load *ld, const char *name, struct resolved *out)
{
    return __builtin_expect(elf_resolved_unique(out), 0) ? elf_unique_apply_slow(ld, name, out) : 0;
}
bool elf_unique_get(const char *name, struct resolved *out);
void elf_unique_commit(void);
void elf_unique_discard(void);

/* elf_scope.c: the global scope among the host objects (load order), rebuilt with the list: each
 * host image's DT_NEEDED linked to host images (im->needed), then the executable, its preloads and
 * their dependencies breadth-first. -1: out of memory. The scope as built; whether im is the vDSO. */
int elf_scope_build(struct image **hosts, size_t n);
struct image **elf_scope(size_t *n);
bool elf_is_vdso(const struct image *im);

/* elf_addr.c: the host provider's addr_info (dl_iterate_phdr). */
bool elf_host_addr_info(uintptr_t addr, struct plugin_addr_info *info);
/* elf_selfsyms.c: name in a -static executable's own symbol table (the host provider's
 * exe_symbol; load lock held). */
bool elf_exe_symbol(const char *name, uint64_t *addr, struct diag *d);
/* Why that table could not be read (after a first try), or NULL. */
const char *elf_exe_symbols_unavailable(void);
/* elf_resolve.c: the front end's find (the scope walk asks each ELF object). */
bool elf_find(const struct image *im, struct sym_query *q, struct resolved *out);

#endif /* PLUGIN_ELF_H */
