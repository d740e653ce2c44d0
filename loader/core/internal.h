/*
 * internal.h — the loader's shared vocabulary.
 *
 * struct image is one object in the process: either one we mapped ourselves (a plugin or one of
 * its dependencies) or one the system loader already had (a "host" image). The core knows what
 * every format has: segments to map, a span, dependencies, a state. What only one format has
 * (ELF's dynamic table, Mach-O's load commands) is that front end's: im->fmt says which front end
 * the image belongs to, im->fmt_data holds its description (core/format.h).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLUGIN_API __attribute__((visibility("default")))

/* ---- diagnostics (diag.c) ---------------------------------------------------------------- */

struct diag {
    plugin_error *err;                      /* may be NULL */
    void (*trace)(void *ctx, const struct plugin_trace_event *ev);
    void *trace_ctx;
    unsigned want;          /* TRACE_* categories traced: all with a callback, plus PLUGIN_DEBUG's */
    unsigned long long t0;  /* CLOCK_MONOTONIC ns at the start of the open (when want != 0) */
};

/* Fill d->err with code and "plugin: FILE: message"; returns -1 so callers can `return diag_fail`. */
int diag_fail(struct diag *d, enum plugin_errc code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, without the "plugin: FILE: " prefix (the message is complete as given). */
int diag_fail_raw(struct diag *d, enum plugin_errc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_ok(struct diag *d);

/* ---- trace events (trace.c) --------------------------------------------------------------
 * Every event belongs to one PLUGIN_DEBUG category (plugin.h lists what each shows); a failure
 * to all of them. */
enum { TRACE_FILES = 1u, TRACE_BINDINGS = 2u, TRACE_RELOC = 4u, TRACE_INIT = 8u, TRACE_ALL = 15u };

/* Set up d for one open: its error, the options' callback, PLUGIN_DEBUG (read at the first
 * call), and the start time when anything is traced. */
void diag_init(struct diag *d, plugin_error *err, const struct plugin_options *opts);
/* Deliver ev (of category cat) with its text formatted from fmt: to the callback, and to stderr
 * when PLUGIN_DEBUG asks for cat. Call it through the macros below. */
void diag_event(struct diag *d, unsigned cat, struct plugin_trace_event ev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The open of path failed with err: the failure event, the open's last. */
void diag_trace_failure(struct diag *d, const char *path, const plugin_error *err);

/* An event when its category is traced; otherwise nothing, not even its arguments evaluated (a
 * trace in the binding loop would name the objects of every symbol). diag_trace is a
 * PLUGIN_TRACE_OTHER event; diag_trace_ev takes the event from one of the ev_* builders below. */
#define diag_wants(d, cat) (((d)->want & (cat)) != 0)
#define diag_trace_ev(d, cat, ev, ...) (diag_wants(d, cat) ? diag_event((d), (cat), (ev), __VA_ARGS__) : (void)0)
#define diag_trace(d, cat, ...) diag_trace_ev(d, cat, ((struct plugin_trace_event){ .kind = PLUGIN_TRACE_OTHER }), __VA_ARGS__)

/* The events with fields (plugin.h says what each field means). */
static inline struct plugin_trace_event ev_found(const char *object, enum plugin_trace_via via, const char *name)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_FOUND, .object = object,
                                        .found = { via, name } };
}
static inline struct plugin_trace_event ev_segment(const char *object, uintptr_t address, uint64_t size,
                                                   uint64_t offset, int prot)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_SEGMENT, .object = object,
                                        .segment = { address, size, offset, prot } };
}
static inline struct plugin_trace_event ev_dependency(const char *object, const char *name, const char *result,
                                                      enum plugin_trace_via via)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_DEPENDENCY, .object = object,
                                        .dependency = { name, result, via } };
}
static inline struct plugin_trace_event ev_relocs(const char *object, const char *type, uint64_t count)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_RELOCS, .object = object, .relocs = { type, count } };
}
static inline struct plugin_trace_event ev_bind(const char *object, const char *symbol, const char *version,
                                                const char *definer, uint64_t value)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_BIND, .object = object,
                                        .bind = { symbol, version, definer, value } };
}
static inline struct plugin_trace_event ev_init(const char *object, const char *what, size_t index, uint64_t address)
{
    return (struct plugin_trace_event){ .kind = PLUGIN_TRACE_INIT, .object = object,
                                        .init = { what, index, address } };
}

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

#define SOURCE_HEAD 4096     /* the first bytes of a file, read once: headers, magic, commands */

struct source {
    const char *name;       /* for messages */
    int fd;                 /* -1 for a memory image */
    const uint8_t *mem;     /* memory image, or NULL */
    uint64_t size;
    dev_t dev;
    ino_t ino;
    uint32_t head_len;      /* bytes of head read so far (0: not yet) */
    _Alignas(16) uint8_t head[SOURCE_HEAD];   /* aligned: libelf reads the headers in place */
};

int source_open_file(struct source *s, const char *path, struct diag *d);
void source_open_memory(struct source *s, const void *image, size_t size, const char *name);
void source_close(struct source *s);
/* Copy len bytes at offset off into out; -1 (with a FORMAT error) when out of range. Reads
 * inside the first SOURCE_HEAD bytes of a file cost one pread for all of them. */
int source_read(struct source *s, uint64_t off, void *out, size_t len, struct diag *d);
/* The first n bytes of the source (n <= SOURCE_HEAD, n <= size), read once: a pointer valid as
 * long as s. NULL (with an error) when they cannot be read. */
const uint8_t *source_head(struct source *s, size_t n, struct diag *d);

/* ---- a loaded object ---------------------------------------------------------------------- */

/* Segment permissions (the values of ELF's PF_R, PF_W, PF_X; Mach-O's are translated). */
#define SEG_R 4u
#define SEG_W 2u
#define SEG_X 1u

struct segment {
    uint64_t vaddr, memsz, offset, filesz;  /* offset: in the file (Mach-O: in the slice) */
    uint32_t flags;         /* SEG_R | SEG_W | SEG_X */
    bool ro_after;          /* made read-only once fixups are done (Mach-O SG_READ_ONLY) */
};

struct version {            /* one version of a symbol (glibc's r_found_version); Mach-O has none */
    const char *name;       /* NULL: index without a name (0 local, 1 global) */
    const char *file;       /* for needed versions: the library that must define it */
    bool hidden;
    bool weak;              /* VER_FLG_WEAK: a missing version is not an error */
};

enum image_state { IMG_MAPPED, IMG_RELOCATED, IMG_INITIALIZING, IMG_READY };

struct format;
struct export_table;
struct sym_query;

struct image {
    char *path;             /* as opened or as found; owned */
    char *origin;           /* directory for $ORIGIN / @loader_path, owned; NULL when unknown */
    const char *soname;     /* the name the object gives itself (DT_SONAME, LC_ID_DYLIB), or NULL */
    const struct format *fmt;   /* its front end (core/format.h) */
    void *fmt_data;         /* the front end's description of the object (owned by the front end) */
    bool is_host;           /* mapped by the system loader, not by us */
    bool from_memory;
    bool has_id;
    bool symbolic;          /* looks at itself first when binding (ELF DT_SYMBOLIC) */
    bool run_pending;       /* loaded with PLUGIN_NO_RUN: its initializers have not run yet */
    dev_t dev;
    ino_t ino;
    const struct arch *arch;
    enum image_state state;

    uintptr_t bias;         /* memory address = bias + vaddr */
    void *map_base;         /* our reservation (NULL for host images) */
    size_t map_len;
    const uint8_t *file_view;   /* described, not mapped: the file's bytes (image_addr reads them) */
    struct segment *segs;
    size_t nsegs;
    uint64_t relro_vaddr, relro_memsz;  /* made read-only after binding (PT_GNU_RELRO) */
    uint64_t lo, hi;        /* vaddr span of the segments */
    uint64_t base_vaddr;    /* vaddr of the object's first byte (its header): ELF 0, Mach-O __TEXT */
    uint64_t align;         /* largest segment alignment */

    struct image **needed;  /* dependencies, resolved (NULL entries: provided by the host) */
    size_t nneeded;

    struct image *next;     /* registry: our images in load order */
    struct image *fini_next;/* initialized images, newest first */
    struct image **initfini;/* opened as a plugin: its tree sorted (glibc's l_initfini; core/init.c) */
    size_t ninitfini;
    unsigned visit;         /* scratch mark for graph walks */
    const void *host_key;   /* host images: dlpi_phdr, which identifies the object */
    struct export_table *exports;   /* plugin_lookup's table, built on first use (core/exports.h) */
};

/* Where vaddr is in memory: the mapping, or for an image described from its file (file_view),
 * the file's byte that the segment holding vaddr maps there (image_range_ok checked it). */
void *image_file_addr(const struct image *im, uint64_t vaddr);
static inline void *image_addr(const struct image *im, uint64_t vaddr)
{
    if (__builtin_expect(im->file_view != NULL, 0))
        return image_file_addr(im, vaddr);
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
/* addr (as an integer) lies in one of im's segments. */
bool image_contains(const struct image *im, uintptr_t addr);
/* addrinfo.c: a name spelled for plugin_addr_info, kept for the life of the process. */
const char *addrinfo_intern(const struct image *im, uintptr_t addr, const char *name);
/* The name used in messages: path, or "the main program". */
const char *image_name(const struct image *im);

/* ---- memory (vm.c) ------------------------------------------------------------------------ */

int vm_map_image(struct image *im, struct source *s, struct diag *d);
void vm_unmap_image(struct image *im);
/* Final protections: segment flags, then RELRO read-only; flushes the icache of code. */
int vm_protect_image(struct image *im, struct diag *d);
size_t vm_page_size(void);
int vm_prot_of(uint32_t pflags);
/* A hint: [vaddr, vaddr + len) of im (inside one writable segment) will be written by relocation
 * now; when it is large, its pages are populated at once instead of one fault each. */
void vm_prefault(const struct image *im, uint64_t vaddr, uint64_t len, struct diag *d);
/* A hint: [vaddr, vaddr + len) (inside one readable file-backed part) is about to be read; when
 * large, its pages are mapped at once. true when done. */
bool vm_prefetch(const struct image *im, uint64_t vaddr, uint64_t len);

/* ---- one open in progress ----------------------------------------------------------------- */

struct load {
    struct diag *d;
    const struct plugin_options *opts;
    struct image **images;  /* created by this open, in BFS order; images[0] is the root */
    size_t nimages, cap;
    size_t *loaded_by;      /* loaded_by[i]: the index of the image that needed images[i] (root: SIZE_MAX) */
    struct image **scope;   /* the root's dependency tree, breadth-first (local scope) */
    size_t nscope;
    bool static_host;       /* no C library in the process: libc & co. come from the host */
    char denied[256];       /* the dependency being searched: its first candidate that could not
                             * be looked at ("PATH: Operation not permitted"), or "" */
    bool no_run;            /* PLUGIN_NO_RUN: no initializer, no IFUNC resolver of these objects */
    const char *searching;  /* the name of the dependency being searched, for the trace (or NULL) */
    enum plugin_trace_via found_via;    /* how deps_try_path found the last object it gave */
    const struct image *caller; /* plugin_dlopen by name: the object that called it (its RPATH
                             * and RUNPATH are searched; the RPATH chain goes on through it) */
    struct plan_run *plan;  /* a dry run (core/plan.c): objects read, never mapped; each search noted */
    /* What the search being made is walking, in the front end's words, for the plan's "why"
     * (set by the front end through deps_searching, read by deps_try_path): the list ("DT_RUNPATH",
     * "ld.so cache", ...), the object whose list it is (or NULL), a glibc-hwcaps level and its
     * directory (or NULL). */
    const char *search_list, *search_owner;
    const char *search_level, *search_dir;
};

/* The front end's search is now walking list, owner's (NULL: nobody's), for the plan's why. */
static inline void deps_searching(struct load *ld, const char *list, const char *owner)
{
    ld->search_list = list;
    ld->search_owner = owner;
}

/* ---- the security policy (policy.c: its top comment lists every rule) --------------------
 * The front ends and vm.c find the facts; these decide. Each int function returns 0 when the
 * rule allows it, or -1 with the error filled (the file and the rule named). */

/* Rule 1, W^X: prot (PROT_*) for a mapping of file; every mmap and mprotect asks first. */
int policy_prot(const char *file, int prot, struct diag *d);
/* Rule 1 when a header is read: a segment (seg names it) with flags SEG_*. */
int policy_segment(const char *file, const char *seg, uint32_t flags, struct diag *d);
/* Rule 2: what was found is a text relocation (what says which): always refused, -1. */
int policy_text_relocation(const char *file, const char *what, struct diag *d);
/* Rule 3: the file asks for an executable stack (what says how): always refused, -1. */
int policy_exec_stack(const char *file, const char *what, struct diag *d);
/* Rule 4: the pages [*start, *end) of im made read-only once it is relocated; false: none. */
bool policy_relro_pages(const struct image *im, uintptr_t *start, uintptr_t *end);
/* Rule 5 (PLUGIN_TRUSTED_FILES_ONLY): the opened file s (fstat of its descriptor). */
int policy_trusted_file(const struct load *ld, const struct source *s, struct diag *d);
/* Rule 6 (PLUGIN_CONFINE_DEPS): whether dependencies are searched only in search_paths, and
 * whether the opened dependency file s lies beneath one of them. */
bool policy_confined(const struct load *ld);
int policy_confined_file(const struct load *ld, const struct source *s, struct diag *d);
/* Rule 7: the process is in secure mode (AT_SECURE). LD_LIBRARY_PATH may be used (also off
 * for PLUGIN_NO_LD_LIBRARY_PATH and PLUGIN_CONFINE_DEPS). $ORIGIN may be expanded where it
 * stands (at_start: it begins its path element; next: the character after the token). A path
 * element expanded from the executable's $ORIGIN may be used: inside one of the trusted
 * directories (NULL-terminated). A relative DT_NEEDED path (with '/', not at its start) may be
 * opened. Mach-O's @executable_path may be followed. */
bool policy_secure(void);
bool policy_library_path(const struct load *ld);
bool policy_origin(bool at_start, char next);
bool policy_origin_path(const char *path, const char *const *trusted);
bool policy_relative_needed(void);
bool policy_executable_path(void);
/* Rule 7: PLUGIN_DEBUG may be honoured (not in secure mode). */
bool policy_debug_env(void);

/* api.c: the process-wide load lock, recursive for the thread holding it (initializers may
 * open plugins). Every open holds it; so do the dlfcn layer's tables (dlfcn.c). */
void load_lock(void);
void load_unlock(void);
/* api.c: plugin_dlopen of a name without '/': an object of the process with that soname or file
 * name, else the object caller's DT_NEEDED entry of that name would load (fmt->search), loaded
 * as a plugin_open would load it. NULL with the error filled. */
struct image *load_searched(const char *name, const struct image *caller, struct diag *d);

int load_add_image(struct load *ld, struct image *im);
/* Read, map and decode one object from s (file or memory), by the front end that recognizes it. */
struct image *load_object(struct load *ld, struct source *s, const char *path, struct diag *d);
void image_free(struct image *im);

/* deps.c: load every image's dependencies breadth-first (each front end names and finds its
 * own), then build the local scope. */
int deps_load_all(struct load *ld);
/* deps.c: root and every object of its dependency tree, breadth-first, each once (the local
 * scope of an open): a malloc'ed array in *out. -1 (with an error) when out of memory. */
int deps_tree(struct image *root, struct image ***out, size_t *nout, struct diag *d);
/* deps.c: try one candidate file for a dependency, found by the search step how (via: the same
 * in words, for the trace). 1: *out is the object; 0: not there (or for another CPU); -1: error. */
int deps_try_path(struct load *ld, const char *path, enum plugin_trace_via how, const char *via,
                  struct image **out);
/* deps.c: the search for the dependency name begins (forget the last one's denied candidate),
 * and what its "not found" message adds: "" or ": PATH: <why it could not be looked at>". */
void deps_search_begin(struct load *ld, const char *name);
const char *deps_denied_note(struct load *ld, char *buf, size_t size);
/* plan.c, for a dry run (ld->plan set; no-ops otherwise): the search for the dependency name of
 * ld->images[idx] ended with *found (NULL: provided by the host, or not found when missing is
 * set); a search that failed (-1) is noted with the error instead, and the walk goes on. A
 * candidate file tried and absent, or refused (for another CPU: why), is noted while searching.
 * The candidate that was found, and how (ld->search_*: deps_searching). */
void plan_search_begin(struct load *ld);
void plan_note_dep(struct load *ld, size_t idx, const char *name, struct image *found, bool missing);
int plan_note_failure(struct load *ld, size_t idx, const char *name);
void plan_note_tried(struct load *ld, const char *path);
void plan_note_refused(struct load *ld, const char *path, const char *why);
void plan_note_found(struct load *ld);
/* vm.c: a dry run's image: a read-only view of the whole file (im->file_view), no segment mapped. */
int vm_view_image(struct image *im, struct source *s, struct diag *d);

/* deps.c: an image of this open or of the process whose soname or file name is name, or NULL. */
struct image *deps_find_loaded(struct load *ld, const char *name);
/* deps.c: in a -static host, these names (the C runtime) are part of the executable. */
bool deps_is_c_runtime(const char *name);

/* registry.c: the registry of our objects, and the objects the system loader has (through the
 * host provider, core/format.h). */
int host_refresh(struct diag *d);
/* Host images in load order; *n receives the count. Valid until the next host_refresh. */
struct image **host_images(size_t *n);
/* The global scope (the executable, LD_PRELOAD, their dependencies breadth-first; not the vDSO,
 * not what the host dlopen'ed): the host images searched for symbols, in ld.so's order. */
struct image **host_scope(size_t *n);
/* Whether an image of the global scope may define q's name (false: none does; the walk skips them). */
bool host_may_define(struct sym_query *q);
/* True when the process has no dynamic C library (a -static executable). */
bool host_is_static(void);
/* A -static host: name in the executable's own symbol table (IFUNCs resolved). false: not
 * there, or the table is not available (the first call reads it; the trace of d says why not). */
bool host_exe_symbol(const char *name, uint64_t *addr, struct diag *d);
/* Why the executable's symbol table could not be read (after a first try), or NULL. */
const char *host_exe_symbols_unavailable(void);

/* host_exports.c: the address a host registered for name (plugin_register_exports). */
bool host_exports_find(const char *name, uint64_t *addr);

/* api.c: the process-wide load lock (recursive for the thread that holds it). */
void load_lock(void);
void load_unlock(void);
/* An object the process already has (host or ours) with this (dev, ino), or NULL. */
struct image *registry_find_id(dev_t dev, ino_t ino);
/* An object the process already has (host or ours) published under exactly this path. */
struct image *registry_find_path(const char *path);
/* An object the process already has (host or ours) whose soname or file name is name. */
struct image *registry_find_name(const char *name);
/* Our published objects in load order: the first, the others through im->next. */
struct image *registry_first(void);
/* Publish images of a successful open. */
void registry_add(struct image *im);
/* A fresh value for image.visit (graph walks; load lock held). */
unsigned registry_new_mark(void);
/* im answers to name: its soname, its file name, or its path. */
bool image_is_named(const struct image *im, const char *name);

/* init.c */
void init_run(struct load *ld);
/* An open that found im already in the process: when im is ours and was loaded as a dependency,
 * it now gets its own sorted list, as glibc's dlopen gives it (its finalizer order may change). */
void init_reopened(struct image *im, struct diag *d, bool run);
/* An IFUNC resolver of def (NULL: im's own, an IRELATIVE) may be called for a relocation of im:
 * always, except under PLUGIN_NO_RUN, where only the process's own objects' and our initialized
 * objects' resolvers may run. When not, fails naming the relocation, its place and its symbol
 * (sym may be NULL). */
int init_may_call_resolver(struct load *ld, const struct image *im, const struct image *def, const char *reloc,
                           uint64_t where, const char *sym);
/* plugin_lookup of an IFUNC of im may call its resolver: not while im waits for its initializers
 * (loaded with PLUGIN_NO_RUN). When not, fails naming the symbol. */
int init_lookup_may_resolve(const struct image *im, const char *name, struct diag *d);
void init_capture_args(int argc, char **argv, char **envp);

/* tls.c: per-thread blocks of our thread-local modules. Register a template (init_size bytes of
 * initial contents, size in all, aligned to align): -1 when the table is full. This thread's
 * block of module id (created on first use). A destructor run at this thread's exit. */
int tls_module_add(const void *init, size_t init_size, size_t size, size_t align, size_t *id);
void tls_module_forget(size_t id);
uint8_t *tls_block(size_t id);
void tls_atexit(void (*fn)(void *), void *obj);
/* Serve module id from the static TLS pool from now on (load lock held, before any code of its
 * object ran): -1 when no pool has room. Whether module id is static, and its offset from the
 * thread pointer. */
int tls_module_make_static(size_t id, intptr_t *tpoff);
bool tls_module_static(size_t id, intptr_t *tpoff);

/* static_tls.c: the static TLS pools the host registered (plugin_static_tls_pool). Reserve size
 * bytes aligned to align (at most PLUGIN_STATIC_TLS_ALIGN): -1 when nothing fits. Give a block
 * back (a failed open; this thread's copy is zeroed). The pools' total and free bytes. */
int tls_static_reserve(size_t size, size_t align, intptr_t *tpoff);
void tls_static_release(intptr_t tpoff, size_t size);
void tls_static_usage(size_t *total, size_t *free_bytes);

/* ---- resolution (resolve.c) --------------------------------------------------------------- */

/* One name looked up; front ends may cache what they compute from the name (hashes) here, so
 * it is computed once per lookup however many objects are searched. */
struct sym_query {
    const char *name;
    const struct version *version; /* required version, or NULL */
    bool newest;                    /* plugin_lookup: unversioned asks for the default version */
    uint32_t hash[2];               /* front-end cache (ELF: GNU and SysV hashes) */
    bool hashed[2];
};
void sym_query_init(struct sym_query *q, const char *name, const struct version *v);

struct resolved {
    uint64_t addr;
    const struct image *def;    /* NULL for the resolve callback or an unresolved weak */
    const void *sym;            /* the definition, in def's front end's terms (ELF: Elf64_Sym) */
    bool ifunc;                 /* addr is a resolver to call for the value */
    const char *via;            /* def NULL: where addr came from ("the resolve callback", ...) */
};
/* dlfcn.c: the objects opened with PLUGIN_RTLD_GLOBAL and their dependencies, in load order
 * (each once; not those of the global scope). Load lock held. */
struct image **dlfcn_global_scope(size_t *n);
/* The scope walk of ld.so for a reference made by im: im itself first when im->symbolic, the
 * resolve callback, the host's registered exports, the global scope (host_scope), the
 * RTLD_GLOBAL objects, the plugin's dependency tree breadth-first (local scope), then, in a
 * -static host, the executable's own symbol table. Each object is asked through its front end. */
bool resolve_in_scope(struct load *ld, const struct image *im, struct sym_query *q, struct resolved *out);
/* A name looked up where the executable stands: the resolve callback, the registered exports,
 * the global scope (IFUNCs resolved), and in a -static host the executable's symbol table.
 * Mach-O imports bind to the host through this. */
bool resolve_global_name(struct load *ld, const char *name, uint64_t *addr, const char **where);
/* The resolve callback, then every object of the process, the vDSO and what the host dlopen'ed
 * included (not the registered exports, not a static executable's symbol table): for the
 * loader's own needs, not for binding (the unwinder's __register_frame, glibc's TLS helpers,
 * wherever they are). */
bool resolve_host_name(struct load *ld, const char *name, uint64_t *addr, const char **where);

#endif /* PLUGIN_INTERNAL_H */
