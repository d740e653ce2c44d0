/*
 * internal.h — the loader's shared vocabulary.
 *
 * struct image is one object in the process: either one we mapped ourselves (a plugin or one of
 * its dependencies) or one the system loader already had (found with dl_iterate_phdr; a "host"
 * image). Both kinds are read through the same decoded dynamic table, so symbol lookup does not
 * care who mapped the object.
 *
 * struct diag carries the caller's plugin_error and trace callback down every call, so no
 * module keeps error state in globals. struct load is one plugin_open in progress: the images
 * it created (undone together on failure) and the options it was given.
 *
 * Addresses: "vaddr" always means an address as written in the file (p_vaddr, d_ptr, st_value);
 * the address in memory is bias + vaddr.
 */
#ifndef PLUGIN_INTERNAL_H
#define PLUGIN_INTERNAL_H

#include "arch.h"
#include "plugin.h"

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLUGIN_API __attribute__((visibility("default")))

/* ---- diagnostics (diag.c) ---------------------------------------------------------------- */

struct diag {
    plugin_error *err;                      /* may be NULL */
    void (*trace)(void *ctx, const char *line);
    void *trace_ctx;
};

/* Fill d->err with code and "plugin: FILE: message"; returns -1 so callers can `return diag_fail`. */
int diag_fail(struct diag *d, enum plugin_errc code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, without the "plugin: FILE: " prefix (the message is complete as given). */
int diag_fail_raw(struct diag *d, enum plugin_errc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_ok(struct diag *d);
/* One trace line when tracing is on (cheap no-op otherwise). */
void diag_trace(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define diag_tracing(d) ((d)->trace != NULL)

/* ---- checked arithmetic ------------------------------------------------------------------- */

/* end = a + b; false when it overflows. */
static inline bool add_ok(uint64_t a, uint64_t b, uint64_t *end)
{
    return !__builtin_add_overflow(a, b, end);
}
/* [off, off+len) lies inside [0, size). */
static inline bool range_in(uint64_t off, uint64_t len, uint64_t size)
{
    uint64_t end;
    return add_ok(off, len, &end) && end <= size;
}

/* ---- where bytes come from (source.c) ----------------------------------------------------- */

struct source {
    const char *name;       /* for messages */
    int fd;                 /* -1 for a memory image */
    const uint8_t *mem;     /* memory image, or NULL */
    uint64_t size;
    dev_t dev;
    ino_t ino;
};

int source_open_file(struct source *s, const char *path, struct diag *d);
void source_open_memory(struct source *s, const void *image, size_t size, const char *name);
void source_close(struct source *s);
/* Copy len bytes at offset off into out; -1 (with a FORMAT error) when out of range. */
int source_read(struct source *s, uint64_t off, void *out, size_t len, struct diag *d);

/* ---- a loaded object ---------------------------------------------------------------------- */

struct segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags;         /* PF_R | PF_W | PF_X */
    bool ro_after;          /* made read-only once fixups are done (Mach-O SG_READ_ONLY) */
};

/* Tags kept by the decoded dynamic table: the standard ones by value, the GNU ones after. */
enum {
    DYN_GNU_HASH = 38 /* DT_RELRENT + 1 */, DYN_VERSYM, DYN_VERDEF, DYN_VERDEFNUM, DYN_VERNEED, DYN_VERNEEDNUM,
    DYN_FLAGS_1, DYN_COUNT
};

struct version {            /* one version index of an object (glibc's r_found_version) */
    const char *name;       /* NULL: index without a name (0 local, 1 global) */
    const char *file;       /* for needed versions: the library that must define it */
    bool hidden;
    bool weak;              /* VER_FLG_WEAK: a missing version is not an error */
};

struct gnu_hash {
    uint32_t nbuckets, symoffset, bloom_size, bloom_shift;
    const uint64_t *bloom;
    const uint32_t *buckets, *chain;
};

enum image_state { IMG_MAPPED, IMG_RELOCATED, IMG_INITIALIZING, IMG_READY };

struct image {
    char *path;             /* as opened or as found; owned */
    char *origin;           /* directory for $ORIGIN, owned; NULL when unknown */
    const char *soname;     /* in strtab, or NULL */
    bool is_host;           /* mapped by the system loader, not by us */
    struct macho *macho;    /* a Mach-O object: its front end's data (owned); NULL for ELF */
    bool from_memory;
    bool has_id;
    dev_t dev;
    ino_t ino;
    const struct arch *arch;
    enum image_state state;

    uintptr_t bias;         /* memory address = bias + vaddr */
    void *map_base;         /* our reservation (NULL for host images) */
    size_t map_len;
    struct segment *segs;
    size_t nsegs;
    uint64_t relro_vaddr, relro_memsz;
    uint64_t lo, hi;        /* vaddr span of the PT_LOADs */
    uint64_t align;         /* largest PT_LOAD p_align */
    struct {                /* PT_TLS: the template of the object's thread-local block */
        uint64_t vaddr, filesz, memsz, align;
        bool present;
        size_t id;          /* 1 + our module number (loader/core/tls.c), 0: not registered */
        size_t host_modid;  /* host objects: glibc's module id (dlpi_tls_modid), 0: none */
        intptr_t host_tpoff;/* host objects in static TLS: block address - thread pointer */
        bool host_static;
    } tls;

    const Elf64_Dyn *dynamic;
    size_t ndynamic;
    uint64_t dyn[DYN_COUNT];
    uint64_t dyn_present;   /* bit i set when dyn[i] was given */

    const char *strtab;
    uint64_t strsz;
    const Elf64_Sym *symtab;
    uint32_t nsyms;         /* symbols covered by the hash tables (lookups) */
    uint32_t nsyms_max;     /* symbols a relocation may name (the table's extent in memory) */
    struct gnu_hash gnu;
    const uint32_t *sysv_buckets, *sysv_chain;
    uint32_t sysv_nbucket;
    const uint16_t *versym;
    struct version *versions;
    uint32_t nversions;
    bool symbolic;          /* DT_SYMBOLIC or DF_SYMBOLIC */

    struct image **needed;  /* DT_NEEDED, resolved (NULL entries: provided by the host) */
    size_t nneeded;

    struct image *next;     /* registry: our images in load order */
    struct image *fini_next;/* initialized images, newest first */
    unsigned visit;         /* scratch mark for graph walks */
    const void *host_key;   /* host images: dlpi_phdr, which identifies the object */
};

static inline bool dyn_has(const struct image *im, int tag)
{
    return (im->dyn_present >> tag) & 1;
}
static inline void *image_addr(const struct image *im, uint64_t vaddr)
{
    return (void *)(im->bias + (uintptr_t)vaddr);
}
/* What a range of an object's memory must be, for image_range_ok. */
enum range_need {
    RANGE_MAPPED,   /* inside a PT_LOAD */
    RANGE_READ,     /* inside the file-backed part of a readable PT_LOAD */
    RANGE_TABLE,    /* RANGE_READ, and not writable (for our objects): tables the loader checks once
                       and then trusts, which no relocation may rewrite afterwards */
    RANGE_WRITE,    /* inside a writable PT_LOAD: a relocation's place */
};
/* [vaddr, vaddr+len) lies inside one PT_LOAD of im, as need says (overflow-safe). */
bool image_range_ok(const struct image *im, uint64_t vaddr, uint64_t len, enum range_need need);
/* Same, and vaddr is a multiple of align (a power of two). */
static inline bool image_table_ok(const struct image *im, uint64_t vaddr, uint64_t len, uint64_t align)
{
    return (vaddr & (align - 1)) == 0 && image_range_ok(im, vaddr, len, RANGE_TABLE);
}
/* A string of the dynamic string table, or NULL when off is out of range. */
const char *image_str(const struct image *im, uint64_t off);
/* The name used in messages: path, or "the main program". */
const char *image_name(const struct image *im);

/* ---- memory (vm.c) ------------------------------------------------------------------------ */

int vm_map_image(struct image *im, struct source *s, struct diag *d);
void vm_unmap_image(struct image *im);
/* Final protections: segment flags, then RELRO read-only; flushes the icache of code. */
int vm_protect_image(struct image *im, struct diag *d);
size_t vm_page_size(void);
int vm_prot_of(uint32_t pflags);

/* ---- ELF front end ------------------------------------------------------------------------ */

/* Validate the ELF header and program headers of s; fill im's segments, span and RELRO. */
int elf_read_headers(struct image *im, struct source *s, struct diag *d);
/* Decode PT_DYNAMIC (already mapped) into im->dyn; set up strings, symbols, hashes, versions. */
int elf_decode_dynamic(struct image *im, struct diag *d);
/* The same for an object the system loader mapped (pointers may already be relocated). */
int elf_decode_host_dynamic(struct image *im, struct diag *d);

/* Hashes of one name, computed once per lookup. */
struct sym_query {
    const char *name;
    uint32_t gnu_hash, sysv_hash;
    bool have_sysv;
    const struct version *version; /* required version, or NULL */
    bool newest;                    /* plugin_lookup: unversioned asks for the default version */
};
void sym_query_init(struct sym_query *q, const char *name, const struct version *v);
/* The defining symbol for q in im, or NULL. */
const Elf64_Sym *elf_find_symbol(const struct image *im, struct sym_query *q);
/* Address of a defined symbol of im (IFUNC not resolved). */
uint64_t elf_symbol_addr(const struct image *im, const Elf64_Sym *sym);

/* ---- one open in progress ----------------------------------------------------------------- */

struct load {
    struct diag *d;
    const struct plugin_options *opts;
    struct image **images;  /* created by this open, in BFS order; images[0] is the root */
    size_t nimages, cap;
    struct image **scope;   /* the root's dependency tree, breadth-first (local scope) */
    size_t nscope;
    bool static_host;       /* no C library in the process: libc & co. come from the host */
};

int load_add_image(struct load *ld, struct image *im);
/* Check DT_INIT / DT_INIT_ARRAY / DT_FINI / DT_FINI_ARRAY before anything is called. */
int elf_check_init_tables(struct image *im, struct diag *d);
/* Map one object from s (file or memory) and decode it. */
struct image *load_object(struct load *ld, struct source *s, const char *path, struct diag *d);
void image_free(struct image *im);

/* deps.c */
int deps_load_all(struct load *ld);
int deps_check_versions(struct load *ld);

/* elf_reloc.c */
int elf_relocate_all(struct load *ld);

/* host.c: the objects the system loader has; the registry of ours */
/* Refresh the list of objects the system loader has (dl_iterate_phdr). */
int host_refresh(struct diag *d);
/* Host images in load order; *n receives the count. Valid until the next host_refresh. */
struct image **host_images(size_t *n);
/* An object the process already has (host or ours) with this (dev, ino), or NULL. */
struct image *registry_find_id(dev_t dev, ino_t ino);
/* An object the process already has (host or ours) whose soname or file name is name. */
struct image *registry_find_name(const char *name);
/* Publish images of a successful open. */
void registry_add(struct image *im);
/* A fresh value for image.visit (graph walks; load lock held). */
unsigned registry_new_mark(void);
/* True when the process has no dynamic C library (a -static executable). */
bool host_is_static(void);

/* init.c */
void init_run(struct load *ld);
void init_capture_args(int argc, char **argv, char **envp);

/* deps.c: try one candidate file for a dependency. 1: *out is the object; 0: not there (or for
 * another CPU); -1: error. */
int deps_try_path(struct load *ld, const char *path, const char *via, struct image **out);

/* resolve.c: a name looked up where the executable stands: the resolve callback, then the
 * process's objects (IFUNCs resolved). Mach-O binds to the host through this. */
bool resolve_host_name(struct load *ld, const char *name, uint64_t *addr, const char **where);

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

/* tls.c: per-thread blocks of our thread-local modules. Register a template (init_size bytes of
 * initial contents, size in all, aligned to align): -1 when the table is full. This thread's
 * block of module id (created on first use). A destructor run at this thread's exit. */
int tls_module_add(const void *init, size_t init_size, size_t size, size_t align, size_t *id);
void tls_module_forget(size_t id);
uint8_t *tls_block(size_t id);
void tls_atexit(void (*fn)(void *), void *obj);

/* resolve.c: one symbol reference of im, resolved through the chain */
struct resolved {
    uint64_t addr;
    const struct image *def;    /* NULL for the resolve callback or an unresolved weak */
    const Elf64_Sym *sym;
};
int resolve_symbol(struct load *ld, struct image *im, uint32_t symidx, struct resolved *out);

#endif /* PLUGIN_INTERNAL_H */
