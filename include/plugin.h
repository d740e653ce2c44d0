/*
 * plugin.h — load ELF and Mach-O plugins into a running process without libdl.
 *
 * The API mirrors Go's "plugin" package:
 *
 *     plugin_error err;
 *     plugin *p = plugin_open("./greeter.so", &err);
 *     if (!p) { fprintf(stderr, "%s\n", err.message); return 1; }
 *     int  *v = plugin_lookup(p, "V", &err);
 *     void (*f)(void) = (void (*)(void))plugin_lookup(p, "F", &err);
 *     *v = 7;
 *     f();
 *
 * Semantics
 *  - plugin_open maps the object, loads its DT_NEEDED dependencies, applies every relocation
 *    (all symbols are bound at load time, like RTLD_NOW), makes RELRO read-only and runs the
 *    initializers (DT_INIT, then DT_INIT_ARRAY in order; dependencies first), once.
 *  - Opening the same file again, by any path (symlink, relative name), returns the same handle and
 *    runs nothing again. Identity is the file's (st_dev, st_ino). As with dlopen, an absolute path
 *    that was already opened under that very name is matched by name first, without looking at
 *    the file again (a file replaced at that path since is not noticed). Memory images are never
 *    merged.
 *  - A file that the system loader already has in the process (libc.so.6, say) is not mapped a
 *    second time: plugin_open returns a handle over the existing object, and plugin_lookup searches
 *    that object's dynamic symbol table, as dlopen + dlsym would.
 *  - All functions are safe for concurrent use. Loads are serialized by one process-wide
 *    recursive lock (an initializer may itself call plugin_open); lookups take no lock, except
 *    the first plugin_lookup of an ELF handle, which builds the handle's table of exports once
 *    (what later lookups answer from: the same definitions the symbol search would choose). The
 *    process's table of unique symbols is read without a lock too.
 *  - Plugins are never unloaded. Their DT_FINI_ARRAY / DT_FINI run at process exit (atexit),
 *    in the reverse order of initialization.
 *  - A failed open leaves nothing behind: no mapping, no file descriptor, no registry entry.
 *    Opening the same file again retries from scratch.
 *  - Every file is untrusted: every offset, size, count and index is checked before use.
 *    Refused outright: writable+executable segments, text relocations (DT_TEXTREL or a relocation
 *    that targets a read-only segment), copy relocations, initial-exec thread-local storage of a
 *    loaded object's own variables (DF_STATIC_TLS: it would need room in glibc's static TLS).
 *  - Thread-local storage (PT_TLS): every thread gets its own block of each loaded object, made on
 *    that thread's first access (threads older than the open included) and freed at its exit.
 *    General/local dynamic (the object's __tls_get_addr binds to the loader's, which forwards
 *    glibc's modules to glibc), TLS descriptors, and initial-exec references to modules already
 *    in glibc's static TLS (libc's errno, say) are supported. plugin_lookup of a TLS symbol
 *    returns the calling thread's address.
 *  - Errors: every function takes an optional plugin_error (may be NULL). On failure it receives
 *    a code and one line naming the file, the cause and the offending value; on success
 *    err->code is PLUGIN_OK and err->message is empty.
 *
 * Symbol resolution (the undefined symbols of a loaded object), in the order ld.so uses for an
 * RTLD_NOW | RTLD_LOCAL dlopen:
 *   1. the options' resolve callback, if any (it stands where the executable stands);
 *   2. the global scope, as ld.so builds it: the executable, the objects LD_PRELOAD (or
 *      /etc/ld.so.preload) put in the process, then their DT_NEEDED dependencies breadth-first
 *      (ld.so among them), each read through its own dynamic symbol table. The process's objects
 *      are found with dl_iterate_phdr; dependencies are matched by soname, file name or path, as
 *      ld.so matches them; preloads are the objects listed between the executable (and the vDSO)
 *      and the executable's first dependency, where ld.so maps them;
 *   3. the plugin's own dependency tree, breadth-first, starting with the plugin itself. An object
 *      the process already has that the tree needs (by DT_NEEDED) is reused and searched here,
 *      with its own dependencies.
 *   Not searched, as ld.so does not search them: the vDSO (linux-vdso.so.1: an unversioned
 *   clock_gettime binds to libc's, and names only the vDSO defines are undefined), and objects the
 *   host dlopen'ed itself, unless a plugin needs them by DT_NEEDED. Limitation: an object the host
 *   dlopen'ed with RTLD_GLOBAL is in ld.so's global scope, but nothing public tells RTLD_GLOBAL
 *   from RTLD_LOCAL (the flag is in glibc's private link_map), so it is not searched either;
 *   reach its symbols through the resolve callback (which may call dlsym(RTLD_DEFAULT, name)), or
 *   name it in the plugin's DT_NEEDED. Mach-O imports bound to the host use the same callback and
 *   global scope.
 *   An object linked with -Bsymbolic (DT_SYMBOLIC) searches itself first.
 *   Unique symbols (STB_GNU_UNIQUE: what g++ emits for the static locals of inline functions and
 *   the static members of templates) have one definition per name in the whole process, as under
 *   glibc: the first object loaded that defines the name supplies it, and every reference that
 *   lands on a definition of that name, in any object, binds to it; plugin_lookup of the name in
 *   any of those objects returns it. A host object's unique definition wins over a plugin's when
 *   glibc's own table must hold it: the first definition of the name in the global scope if it is
 *   unique, else the first unique one among the host's other objects (glibc's table is private;
 *   this is read from the objects' symbol tables, assuming that an object defining a unique symbol
 *   also references it, as compilers emit them). Not matched: an object the host dlopen's after a
 *   plugin keeps its own definition (glibc does not know ours).
 *   Symbol versions follow glibc's rules: a reference to memcpy@GLIBC_2.14 binds to that version.
 *   Every version an object requires (DT_VERNEED) must be defined by the library it names, or the
 *   open fails with PLUGIN_ERR_DEPENDENCY — unless the requirement is VER_FLG_WEAK, or the library
 *   has no DT_VERDEF at all (glibc only warns then).
 *   STT_GNU_IFUNC definitions are resolved by calling their resolver.
 *   An unresolved weak reference is 0; an unresolved strong one fails with PLUGIN_ERR_UNDEFINED.
 *
 * Dependency search (DT_NEEDED), for a name without '/', in ld.so's order:
 *   1. an object already in the process, or already loaded by this library, whose soname (or
 *      file name) matches — it is reused, never loaded twice;
 *   2. DT_RPATH, only when the needing object has no DT_RUNPATH: the needing object's, then that
 *      of the object that loaded it, and so on up to the plugin, then the executable's (glibc's
 *      loading chain; an object of the chain that has DT_RUNPATH contributes nothing);
 *   3. LD_LIBRARY_PATH (':' or ';' separated), unless flags has PLUGIN_NO_LD_LIBRARY_PATH or the
 *      process is set-user/group-ID (AT_SECURE). Read with getenv at each open (glibc reads it
 *      once at startup, so a later setenv affects us but not dlopen);
 *   4. the options' search_paths, in order;
 *   5. DT_RUNPATH of the needing object (it serves that object's own dependencies only);
 *   6. the ld.so cache (/etc/ld.so.cache, read by our own bounds-checked parser; entries for this
 *      CPU without hwcaps; a malformed cache is ignored);
 *   7. the system directories (/lib/<multiarch>, /usr/lib/<multiarch>, /lib64, /usr/lib64,
 *      /lib, /usr/lib).
 *   6 and 7 are skipped for an object linked with -z nodefaultlib (DF_1_NODEFLIB).
 *   In paths, $ORIGIN, $LIB and $PLATFORM (also as ${ORIGIN}, ${LIB}, ${PLATFORM}) expand as in
 *   ld.so: the directory of the object that needs the library (the executable's directory in
 *   LD_LIBRARY_PATH and in the executable's RPATH), "lib/<multiarch>" (Debian's $LIB, e.g.
 *   lib/x86_64-linux-gnu), and "x86_64" or "aarch64". A path element with another token is
 *   dropped. The current directory is never searched: empty and relative elements are ignored
 *   (even in LD_LIBRARY_PATH, where ld.so would take an empty element as ".").
 *   Dependency cycles load; initializers run dependencies first, in glibc's order.
 *   A DT_NEEDED name containing '/' is used as written, as ld.so does. Files for another CPU
 *   found on the way are skipped, as ld.so skips them.
 *   In a process without a dynamic C library (a -static executable), the C runtime libraries
 *   (libc.so.6, libm.so.6, libpthread.so.0, libdl.so.2, librt.so.1 and the dynamic linker) are
 *   taken as provided by the host: they are not loaded, and the symbols a plugin needs from them
 *   must come from the resolve callback.
 *
 * Initializers receive (argc, argv, envp) as under glibc; argc/argv are those of the process.
 *
 * Mach-O (64-bit MH_DYLIB and MH_BUNDLE, thin or universal; the slice for this CPU is chosen):
 *  - plugin_lookup(p, "F") finds the Mach-O symbol "_F" (export trie, else the symbol table).
 *  - Fixups: rebase/bind opcode streams (lazy and weak binds done at load) or chained fixups
 *    (DYLD_CHAINED_PTR_64 and _64_OFFSET); arm64e and 32-bit formats are refused by name.
 *  - Imports bind, by their library ordinal, to another Mach-O image we loaded (LC_LOAD_DYLIB
 *    through LC_RPATH, @rpath and @loader_path; a missing LC_LOAD_WEAK_DYLIB is allowed); a
 *    system library (/usr/lib/..., /System/...), the main executable and flat lookups bind to
 *    the host: the resolve callback, then the global scope's ELF objects (the vDSO and what the
 *    host dlopen'ed are not searched), with the leading underscore removed. Flat and weak lookups then try the Mach-O images of this open.
 *  - On arm64, binding a variadic host function (printf, open, ...) is refused: Apple passes
 *    variadic arguments on the stack, Linux in registers.
 *  - Initializers (__mod_init_func, __init_offsets) run in order, once, with (argc, argv, envp).
 *  - Thread-local variables (__thread_vars) get per-thread blocks on first use; the getter keeps
 *    every register the compiled code expects. plugin_lookup of a thread-local export returns
 *    the calling thread's address.
 *  - __DATA_CONST (SG_READ_ONLY) becomes read-only once fixups are done; no segment is ever
 *    writable and executable.
 */
#ifndef PLUGIN_H
#define PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded object. Handles are never freed. */
typedef struct plugin plugin;

enum plugin_errc {
    PLUGIN_OK = 0,
    PLUGIN_ERR_IO,          /* cannot open / stat / read / map */
    PLUGIN_ERR_FORMAT,      /* not ELF or Mach-O, or malformed */
    PLUGIN_ERR_ARCH,        /* valid object for another CPU or class */
    PLUGIN_ERR_UNSUPPORTED, /* valid, but uses something we refuse or do not support yet */
    PLUGIN_ERR_DEPENDENCY,  /* a needed library could not be found or loaded */
    PLUGIN_ERR_UNDEFINED,   /* a symbol the object needs could not be resolved */
    PLUGIN_ERR_NOT_FOUND,   /* plugin_lookup: no such exported symbol */
    PLUGIN_ERR_NOMEM,
};

typedef struct plugin_error {
    enum plugin_errc code;
    char message[512];      /* one line naming the file, the cause and the offending value */
} plugin_error;

/*
 * Options for plugin_open_with / plugin_open_memory. Zero-initialized means defaults.
 *
 * search_paths  NULL-terminated list of absolute directories searched for dependencies, after
 *               LD_LIBRARY_PATH and before DT_RUNPATH (see the search order above). NULL: none.
 * resolve       Called first for every undefined symbol of every object loaded by this open
 *               (name without version decoration; version is the required version name, or NULL
 *               when the reference is unversioned). Return the address, or NULL to fall through
 *               to the global scope. This is how a -static host supplies its functions, and how
 *               a host gives plugins what it dlopen'ed itself (RTLD_GLOBAL or not).
 * resolve_ctx   Passed to resolve.
 * flags         PLUGIN_NO_LD_LIBRARY_PATH: do not use LD_LIBRARY_PATH (for sandboxes). Other bits
 *               are reserved and must be 0.
 * trace         When non-NULL, called with one line (no trailing newline) for every step of the
 *               load: file opened, segment mapped, dependency found, relocations applied per
 *               type, symbol bound, protections set, initializer called. Called with the load
 *               lock held: it must not call plugin_open.
 * trace_ctx     Passed to trace.
 */
#define PLUGIN_NO_LD_LIBRARY_PATH 0x1u

struct plugin_options {
    const char *const *search_paths;
    void *(*resolve)(void *ctx, const char *name, const char *version);
    void *resolve_ctx;
    unsigned flags;
    void (*trace)(void *ctx, const char *line);
    void *trace_ctx;
};

/* Open (load once, or return the already-loaded handle for) the object at path. */
plugin *plugin_open(const char *path, plugin_error *err);

/* Same, with options. The options apply to the objects this call loads; a handle that was
 * already loaded is returned as it is. opts may be NULL. */
plugin *plugin_open_with(const char *path, const struct plugin_options *opts, plugin_error *err);

/* Load an object from a memory buffer of size bytes (copied; the caller may free it after the
 * call). name is used in messages and, when it contains '/', for $ORIGIN. Every call loads a new
 * copy: memory images are never merged with other handles. */
plugin *plugin_open_memory(const void *image, size_t size, const char *name,
                           const struct plugin_options *opts, plugin_error *err);

/* Address of the exported symbol name defined by p (global or weak, default or protected
 * visibility, function, object or common). For a variable, the variable's address; for a
 * function its entry; for an IFUNC, the function its resolver picks. Unversioned lookup returns
 * the default version. For a unique symbol (STB_GNU_UNIQUE), the process's one definition, which
 * may be another object's (see Symbol resolution). Not found: NULL and PLUGIN_ERR_NOT_FOUND. */
void *plugin_lookup(plugin *p, const char *name, plugin_error *err);

/* Like plugin_lookup, for one version of the symbol (name@version, e.g. "memcpy", "GLIBC_2.14"):
 * the definition whose version is exactly version (hidden "@" versions included), as dlvsym: a
 * definition at VER_NDX_GLOBAL or of the base version (the soname) does not match; an object
 * without any symbol versions matches on the name alone. version NULL: plugin_lookup. Mach-O has
 * no versions: version "" is plugin_lookup, any other version PLUGIN_ERR_NOT_FOUND. */
void *plugin_lookup_version(plugin *p, const char *name, const char *version, plugin_error *err);

/* What an address belongs to (dladdr's answer, for objects loaded by this library and for the
 * objects the process already has): the containing object's path and base address, and the
 * nearest exported symbol at or below addr (NULL when none). Returns 1 when addr is inside an
 * object, 0 otherwise. The strings live as long as the process. */
struct plugin_addr_info {
    const char *path;
    void *base;
    const char *symbol;
    void *symbol_addr;
};
int plugin_addr_info(const void *addr, struct plugin_addr_info *info);

/* The path (or memory-image name) the handle was loaded from. */
const char *plugin_path(const plugin *p);

/* A short English name for an error code ("format error", ...). */
const char *plugin_strerror(enum plugin_errc code);

#ifdef __cplusplus
}
#endif

#endif /* PLUGIN_H */
