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
 *    initializers (DT_INIT, then DT_INIT_ARRAY in order; dependencies first, in glibc's order:
 *    see "Initializer and finalizer order" below), once — unless the options say PLUGIN_NO_RUN
 *    (below: then they run at the first later open without it).
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
 *    dependents before their dependencies, in glibc's order (below).
 *  - A failed open leaves nothing behind: no mapping, no file descriptor, no registry entry.
 *    Opening the same file again retries from scratch.
 *  - Every file is untrusted: every offset, size, count and index is checked before use.
 *    Refused outright: copy relocations, and what "Security policy" below refuses.
 *  - An object linked with -z nodlopen (DF_1_NOOPEN) is refused as glibc's dlopen refuses it:
 *    the object opened, or a dependency this open would have to load, fails with
 *    PLUGIN_ERR_UNSUPPORTED and "<that file>: shared object cannot be dlopen()ed"; one that the
 *    process already has (linked by the executable) is reused like any other.
 *  - Thread-local storage (PT_TLS): every thread gets its own block of each loaded object, made on
 *    that thread's first access (threads older than the open included) and freed at its exit.
 *    General/local dynamic (the object's __tls_get_addr binds to the loader's, which forwards
 *    glibc's modules to glibc), TLS descriptors, and initial-exec references to modules already
 *    in glibc's static TLS (libc's errno, say) are supported. plugin_lookup of a TLS symbol
 *    returns the calling thread's address. Blocks come from the process's malloc (malloc,
 *    calloc, realloc, free, as glibc's ld.so takes them): a program that replaces malloc sees
 *    them; an alignment above malloc's is made inside a larger allocation.
 *  - Initial-exec TLS of a loaded object's own variables (DF_STATIC_TLS: Go c-shared libraries,
 *    libgomp, libubsan, ...) needs space at a fixed offset from the thread pointer in every
 *    thread, which only the host can reserve: PLUGIN_STATIC_TLS_POOL below. Without a pool, or
 *    without room left in it, the open fails (PLUGIN_ERR_UNSUPPORTED) with a message naming the
 *    macro and the bytes needed. A module whose initial image (.tdata) is not all zero is
 *    refused even then (libGLdispatch, libglapi): new threads get the pool zero-filled from the
 *    executable's template, and threads that already run cannot be reached.
 *  - Sandboxed hosts (a seccomp filter that denies open/stat/readlink/execve, Landlock, a chroot
 *    without /proc): plugin_open_memory needs no file system. What the loader reads at its first
 *    use is in memory (the process's objects through dl_iterate_phdr, CPU features through
 *    CPUID / getauxval); what it would read from files it does without when denied: the
 *    identity (stat) of the process's objects, /etc/ld.so.cache, the glibc-hwcaps directories,
 *    /proc/self/exe ($ORIGIN of the executable, @executable_path, and plugin_addr_info's name for
 *    the main program, then "the main program"). What a jailed host must provide: every
 *    dependency of a memory image already in the process (matched by soname or file name:
 *    libc.so.6, ...), or the symbols it needs through the resolve callback (a -nostdlib plugin).
 *    Initializers, thread-locals and lookups need nothing more. A load that needs a file fails
 *    cleanly: plugin_open of a path with PLUGIN_ERR_IO ("PATH: cannot open: Operation not
 *    permitted"); a dependency that is not in the process with PLUGIN_ERR_DEPENDENCY, the message
 *    naming the first candidate that could not be looked at ("...: PATH: Operation not
 *    permitted"), as it does outside a jail for a candidate that cannot be read (EACCES, ELOOP).
 *    A host that jails itself before its first call into the loader leaves the process's objects
 *    known by name only (no file identity): a later open, if the jail allows it, of one of them
 *    under another path is not recognized as that object.
 *  - Errors: every function takes an optional plugin_error (may be NULL). On failure it receives
 *    a code and one line naming the file, the cause and the offending value; on success
 *    err->code is PLUGIN_OK and err->message is empty.
 *
 * Security policy (one place in the code: loader/core/policy.c, whose top comment lists the same
 * rules; every check of the loader asks it):
 *   1. W^X: no mapping is ever writable and executable at once. A segment that asks for both is
 *      refused (PLUGIN_ERR_UNSUPPORTED), and every mmap and mprotect the loader makes is checked.
 *   2. Text relocations are refused (PLUGIN_ERR_UNSUPPORTED): DT_TEXTREL / DF_TEXTREL, and any
 *      relocation or Mach-O fixup whose place is in a segment that is not writable.
 *   3. An executable stack is refused (PT_GNU_STACK with PF_X; PLUGIN_ERR_UNSUPPORTED): the
 *      process's stack is never made executable.
 *   4. RELRO is enforced: PT_GNU_RELRO (whole pages, from its start rounded down to its end
 *      rounded down, as glibc) and Mach-O SG_READ_ONLY segments become read-only after
 *      relocation, before any initializer runs; if that fails, the open fails.
 *   5. flags PLUGIN_TRUSTED_FILES_ONLY: the plugin and every dependency file the open loads must
 *      be owned by the effective user or root and not be writable by group or others
 *      (PLUGIN_ERR_POLICY, "<file>: refused by PLUGIN_TRUSTED_FILES_ONLY: ..."). Checked with
 *      fstat on the descriptor that is then mapped, not on the path: the file checked is the
 *      file mapped. The directories leading to it are not checked (ld.so checks nothing of the
 *      kind): a writable directory could point a name at another file, but that file must pass
 *      the same test. A memory image is the caller's bytes and is not checked; the files of its
 *      dependencies are.
 *   6. flags PLUGIN_CONFINE_DEPS: dependencies are searched for only in the options'
 *      search_paths (not in RPATH, LD_LIBRARY_PATH, RUNPATH, the ld.so cache, the system
 *      directories; Mach-O @rpath, @loader_path and @executable_path names are tried as usual,
 *      and must then pass the next test), and every dependency file the open loads must lie
 *      beneath one of those directories once resolved: the real path of the opened file (the
 *      kernel's, every symlink and ".." resolved) must be inside the realpath of one of them.
 *      A DT_NEEDED path or symlink that leads outside is refused (PLUGIN_ERR_POLICY, naming the
 *      real path), not skipped; a name found nowhere is PLUGIN_ERR_DEPENDENCY. No search_paths:
 *      no dependency file at all may be loaded. Objects already in the process (libc.so.6, what
 *      the executable links, what earlier opens loaded) are reused by name as always, wherever
 *      they came from: nothing new is mapped for them. The plugin itself is not confined.
 *   7. Secure mode (AT_SECURE: a set-user-ID or set-group-ID process), as glibc 2.36's ld.so:
 *      LD_LIBRARY_PATH is ignored; in DT_RPATH and DT_RUNPATH, $ORIGIN (or ${ORIGIN}) is used
 *      only at the start of a path element, alone or followed by '/' (an element with $ORIGIN
 *      anywhere else is dropped), and in the executable's own RPATH only when the expanded
 *      element, "." and ".." resolved as text, lies in a system directory (glibc's
 *      is_trusted_path_normalize; its $ORIGIN can be steered with a hard link); relative path
 *      elements are dropped (always, here); a relative DT_NEEDED path (containing '/', not
 *      starting with it) is not opened from the current directory; Mach-O @executable_path
 *      names are not followed (dyld refuses them in restricted processes). What is dropped is
 *      not searched, so a dependency only found there is PLUGIN_ERR_DEPENDENCY, as under ld.so.
 *   These options apply to the objects the call loads: a handle already loaded is returned as
 *   it is.
 *
 * dlopen, dlsym, dlclose, dlerror, dladdr with <dlfcn.h>'s semantics (plugin_dlopen, ...; and
 * macros that map the standard names onto them): include/plugin_dlfcn.h.
 *
 * Symbol resolution (the undefined symbols of a loaded object), in the order ld.so uses for an
 * RTLD_NOW | RTLD_LOCAL dlopen:
 *   1. the options' resolve callback, if any (it stands where the executable stands), then the
 *      exports the host registered (plugin_register_exports, below);
 *   2. the global scope, as ld.so builds it: the executable, the objects LD_PRELOAD (or
 *      /etc/ld.so.preload) put in the process, then their DT_NEEDED dependencies breadth-first
 *      (ld.so among them), each read through its own dynamic symbol table. The process's objects
 *      are found with dl_iterate_phdr; dependencies are matched by soname, file name or path, as
 *      ld.so matches them; preloads are the objects listed between the executable (and the vDSO)
 *      and the executable's first dependency, where ld.so maps them;
 *   2b. the objects opened with plugin_dlopen(..., PLUGIN_RTLD_GLOBAL) and their dependencies, in
 *      the order they were opened (ld.so appends RTLD_GLOBAL objects to its global scope);
 *   3. the plugin's own dependency tree, breadth-first, starting with the plugin itself. An object
 *      the process already has that the tree needs (by DT_NEEDED) is reused and searched here,
 *      with its own dependencies.
 *   4. only in a -static host (no dynamic C library in the process): the executable's own symbol
 *      table (.symtab of /proc/self/exe; see "Host symbols without a callback" below).
 *   Not searched, as ld.so does not search them: the vDSO (linux-vdso.so.1: an unversioned
 *   clock_gettime binds to libc's, and names only the vDSO defines are undefined), and objects the
 *   host dlopen'ed itself, unless a plugin needs them by DT_NEEDED. Limitation: an object the host
 *   dlopen'ed with glibc's dlopen and RTLD_GLOBAL is in ld.so's global scope, but nothing public tells RTLD_GLOBAL
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
 * Dependency search (DT_NEEDED), for a name without '/', in ld.so's order (under
 * PLUGIN_CONFINE_DEPS only 4; in a set-user-ID process with the restrictions of "Security
 * policy", rule 7):
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
 *      CPU: the entry of the best glibc-hwcaps subdirectory this CPU supports (and whose ISA
 *      level it has), else the baseline entry; entries with legacy hwcap bits are not used; a
 *      malformed cache is ignored, a malformed hwcaps extension leaves only baseline entries);
 *   7. the system directories (/lib/<multiarch>, /usr/lib/<multiarch>, /lib64, /usr/lib64,
 *      /lib, /usr/lib).
 *   6 and 7 are skipped for an object linked with -z nodefaultlib (DF_1_NODEFLIB).
 *   In every directory of 2, 3, 4, 5 and 7, as in glibc 2.33+, the glibc-hwcaps subdirectories
 *   come first: <dir>/glibc-hwcaps/<level>/ for each level this CPU supports, best first
 *   (x86-64: x86-64-v4, x86-64-v3, x86-64-v2, tested with CPUID and XCR0 as glibc 2.36 tests
 *   them; aarch64: none), then <dir> itself. GLIBC_TUNABLES (glibc.cpu.hwcaps) is not read.
 *   In paths, $ORIGIN, $LIB and $PLATFORM (also as ${ORIGIN}, ${LIB}, ${PLATFORM}) expand as in
 *   ld.so: the directory of the object that needs the library (the executable's directory in
 *   LD_LIBRARY_PATH and in the executable's RPATH), "lib/<multiarch>" (Debian's $LIB, e.g.
 *   lib/x86_64-linux-gnu), and "x86_64" or "aarch64". A path element with another token is
 *   dropped. The current directory is never searched: empty and relative elements are ignored
 *   (even in LD_LIBRARY_PATH, where ld.so would take an empty element as ".").
 *   Dependency cycles load; initializers run dependencies first, in glibc's order (below).
 *   A DT_NEEDED name containing '/' is used as written, as ld.so does. Files for another CPU
 *   found on the way are skipped, as ld.so skips them.
 *   In a process without a dynamic C library (a -static executable), the C runtime libraries
 *   (glibc's libc.so.6, libm.so.6, libpthread.so.0, libdl.so.2, librt.so.1 and the dynamic
 *   linker; musl's libc.so and ld-musl-<cpu>.so.1) are taken as provided by the host: they are
 *   not loaded, and the symbols a plugin needs from them come from the resolve callback, the
 *   registered exports or the executable's own symbol table (see "Host symbols without a
 *   callback" below).
 *
 * Initializers receive (argc, argv, envp) as under glibc; argc/argv are those of the process,
 * which the library learns from glibc (it passes them to every constructor, this library's too).
 * musl passes constructors no arguments: in a musl process initializers get argc 0, argv NULL and
 * envp = environ.
 *
 * Initializer and finalizer order: glibc 2.36's for dlopen(RTLD_NOW | RTLD_LOCAL).
 *   An open's objects (the plugin and its dependency tree, breadth-first) are sorted depth-first:
 *   taken from the end of that list towards the front, each walked through its DT_NEEDED entries
 *   in order (an earlier plugin, or a dependency since opened itself, through its own sorted
 *   list, which such an open makes as dlopen does), a cycle broken where the walk closes it; the
 *   plugin itself is initialized last. So dependencies run first, and unrelated libraries in
 *   reverse breadth-first order: a plugin that needs libm, then libbrotlicommon, initializes
 *   libbrotlicommon, libm, the plugin. An object already initialized (an earlier plugin's, one
 *   whose initializer is running) is not run again; the process's own objects are never run
 *   (glibc's dlopen of the dynamic linker itself would run ld.so's initializer once).
 *   At exit, every object we initialized is sorted again the same way over the load order and
 *   finalized front to back: dependents first, the newest first among unrelated objects (not
 *   simply the reverse of initialization). One difference: glibc's exit sort also follows the
 *   dependencies an object gained by binding to a library that is not its direct dependency; we
 *   do not record those, so such an object may be finalized in another place than under glibc.
 *   Mach-O objects take the same order; dyld also runs dependencies first, but walks from the
 *   root in load-command order, so unrelated dylibs may run in another order than under dyld.
 *
 * Mach-O (64-bit MH_DYLIB and MH_BUNDLE, thin or universal; the slice for this CPU is chosen;
 * another file type is refused by name, e.g. "is MH_EXECUTE (an executable, not a dylib or
 * bundle)"):
 *  - plugin_lookup(p, "F") finds the Mach-O symbol "_F" (export trie, else the symbol table);
 *    failing that, when "F" does not itself start with '_', the Mach-O symbol "F" as it is (names
 *    no C name spells, like libgomp's ".gomp_critical_user_"). So every name `plugin symbols`
 *    lists is found by plugin_lookup; the one exception, an image exporting both "_F" and "F",
 *    where "F" gives "_F": a name starting with '\1' is the Mach-O name after it, exactly
 *    ("\1F" is "F", "\1_F" is "_F"; LLVM's mark for a name not to be mangled).
 *  - Re-exports as dyld follows them: a name an image does not define is looked up in the dylibs
 *    it re-exports (LC_REEXPORT_DYLIB), in load-command order; an export-trie entry that
 *    re-exports (EXPORT_SYMBOL_FLAGS_REEXPORT) is looked up in the dylib of its ordinal, under its
 *    import name (or the same name). Both for plugin_lookup and for other images' binds. A
 *    re-export from a system library is bound to the host; plugin_lookup of one fails
 *    (PLUGIN_ERR_UNSUPPORTED: lookups do not search the host). Chains of re-exports are at most
 *    16 deep (deeper, or an ordinal out of range: PLUGIN_ERR_FORMAT).
 *  - Fixups: rebase/bind opcode streams (lazy binds done at load) or chained fixups
 *    (DYLD_CHAINED_PTR_64 and _64_OFFSET); arm64e and 32-bit formats are refused by name.
 *  - Imports bind, by their library ordinal, to another Mach-O image we loaded (LC_LOAD_DYLIB
 *    through LC_RPATH, @rpath, @loader_path and @executable_path — the directory of the running
 *    executable, /proc/self/exe resolved; a missing LC_LOAD_WEAK_DYLIB is allowed); a system
 *    library (/usr/lib/..., /System/...), the main executable and flat lookups bind to the host:
 *    the resolve callback, then the global scope's ELF objects (the vDSO and what the host
 *    dlopen'ed are not searched), with the leading underscore removed.
 *    Flat lookups then try the Mach-O images of this open. An undefined import names where it was
 *    expected: "(flat namespace)", "(dylib @rpath/libx.dylib, loaded from PATH)", ...
 *  - Weak definitions are coalesced as dyld does: a weak-def bind (chained ordinal -3, or an entry
 *    of the weak-bind stream) takes the definition of the first Mach-O image in load order (ours
 *    from earlier opens, then this open's, root first) that has weak definitions (MH_WEAK_DEFINES)
 *    and defines the name — a non-weak definition before any weak one; the host only when no
 *    Mach-O image defines it. A weak-bind stream entry nobody defines keeps its value.
 *  - On arm64, binding a variadic host function (printf, open, ...) found in the process's
 *    objects is refused: Apple passes variadic arguments on the stack, Linux in registers. What
 *    the resolve callback returns is bound as it is, variadic or not: a host can supply an
 *    adapter that takes Apple's convention.
 *  - Initializers (__mod_init_func, __init_offsets) run in order, once, with (argc, argv, envp);
 *    finalizers (__mod_term_func) at exit, with the other objects' finalizers (newest object
 *    first), each section's functions last first, as dyld runs them.
 *  - Thread-local variables (__thread_vars) get per-thread blocks on first use; the getter keeps
 *    every register the compiled code expects. plugin_lookup of a thread-local export returns
 *    the calling thread's address.
 *  - __DATA_CONST (SG_READ_ONLY) becomes read-only once fixups are done; no segment is ever
 *    writable and executable.
 */
#ifndef PLUGIN_H
#define PLUGIN_H

#include <stddef.h>

/*
 * The version of this header: MAJOR.MINOR.PATCH. The one place the version is written: the
 * Makefile reads these three lines for plugin.pc and the shared library's names (soname
 * libplugin.so.MAJOR, file libplugin.so.MAJOR.MINOR.PATCH). MAJOR changes when the ABI breaks
 * (a function removed or changed); MINOR when functions are added; PATCH for fixes only.
 */
#define PLUGIN_VERSION_MAJOR 0
#define PLUGIN_VERSION_MINOR 1
#define PLUGIN_VERSION_PATCH 0
/* PLUGIN_VERSION is the string "MAJOR.MINOR.PATCH" made from the three numbers above, so that
 * the numbers are written once: # turns a macro argument into a string literal, and the extra
 * level of macro (PLUGIN_VERSION_STRING_) lets the arguments expand to their digits first. */
#define PLUGIN_VERSION_STRING_(major, minor, patch) #major "." #minor "." #patch
#define PLUGIN_VERSION_STRING(major, minor, patch) PLUGIN_VERSION_STRING_(major, minor, patch)
#define PLUGIN_VERSION \
    PLUGIN_VERSION_STRING(PLUGIN_VERSION_MAJOR, PLUGIN_VERSION_MINOR, PLUGIN_VERSION_PATCH)

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
    PLUGIN_ERR_POLICY,      /* refused by a security option (PLUGIN_TRUSTED_FILES_ONLY, PLUGIN_CONFINE_DEPS) */
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
 *               to the registered exports and the global scope. This is how a host gives plugins
 *               what it dlopen'ed itself (RTLD_GLOBAL or not), or overrides a function; a
 *               -static host needs it only for what its exports and symbol table do not have.
 * resolve_ctx   Passed to resolve.
 * flags         PLUGIN_NO_LD_LIBRARY_PATH: do not use LD_LIBRARY_PATH (for sandboxes).
 *               PLUGIN_TRUSTED_FILES_ONLY: refuse the plugin and every dependency file this open
 *               loads that is not owned by the effective user or root, or that is writable by
 *               group or others (rule 5 of "Security policy" below).
 *               PLUGIN_CONFINE_DEPS: load dependencies only from the search_paths directories
 *               (rule 6 below).
 *               PLUGIN_NO_RUN: load without running any of the loaded objects' code (below).
 *               Other bits are reserved and must be 0 (PLUGIN_ERR_UNSUPPORTED).
 * trace         When non-NULL, called with one event (struct plugin_trace_event, below) for every
 *               step of the load: file found, segment mapped, dependency resolved, relocations
 *               applied per type, symbol bound, protections set, initializer called, and a last
 *               event when the open fails. It must not call plugin_open (most events come with
 *               the load lock held). The event and its strings live only during the call.
 * trace_ctx     Passed to trace.
 */
#define PLUGIN_NO_LD_LIBRARY_PATH 0x1u
#define PLUGIN_TRUSTED_FILES_ONLY 0x4u
#define PLUGIN_CONFINE_DEPS       0x8u

/*
 * PLUGIN_NO_RUN — map, bind and protect, but run none of the code of the objects this open
 * loads: to check that a plugin would load (every dependency found, every symbol bound), to read
 * its data, or to look at it under a debugger, without trusting it.
 *  - No initializer runs: ELF DT_INIT / DT_INIT_ARRAY, Mach-O __mod_init_func / __init_offsets,
 *    of the plugin and of every dependency this open loads. The trace says so ("PLUGIN_NO_RUN:
 *    not running the initializers of N objects").
 *  - No IFUNC resolver of those objects runs. A reference that needs one (an IRELATIVE
 *    relocation, or a symbol reference bound to an STT_GNU_IFUNC definition of an object that
 *    has not been initialized) fails the open with PLUGIN_ERR_UNSUPPORTED, naming the relocation
 *    and saying that its resolver would have to run; a slot is never left holding a resolver or
 *    0 for code to jump to. Resolvers of the process's own objects (libc's memcpy, strlen, ...)
 *    and of our objects whose initializers have run are still called: that code already runs.
 *    plugin_lookup of an IFUNC (or of a Mach-O stub-and-resolver export) of an object whose
 *    initializers have not run fails the same way, instead of calling its resolver.
 *  - Nothing is finalized at exit for an object whose initializers did not run (nothing ran, so
 *    there is nothing to undo).
 *  - Kept, because they run none of the object's code: the registry (the handle is an ordinary
 *    one: lookups, plugin_addr_info, plugin_path), the debuggers' list, the unwind tables
 *    registered with libgcc, thread-local storage, unique symbols.
 *  - A later open of the same file without PLUGIN_NO_RUN (plugin_open, any path) returns the
 *    same handle and runs the initializers that did not run then, dependencies first, in the
 *    order the open itself would have used; from then on the objects are ordinary (finalized at
 *    exit). A later open with PLUGIN_NO_RUN runs nothing. A later plugin that needs one of these
 *    objects as a dependency initializes it, as any dependency, before its own initializers.
 *  - Code of the object may still be reached by what the caller does with the handle (calling a
 *    function plugin_lookup returned): the flag only promises that the loader runs none of it.
 *  - The flag applies to the objects this open loads; an object already loaded (and initialized)
 *    is returned as it is. A memory image (plugin_open_memory) is never opened again, so its
 *    initializers never run.
 */
#define PLUGIN_NO_RUN 0x2u

/*
 * Tracing — what the loader does, step by step, as events.
 *
 * With opts.trace set, every open calls it with one struct plugin_trace_event per step. Every
 * event has a kind, the object it is about, a human-readable line (text: what `plugin load
 * --trace` prints) and its time; the fields of its kind say the rest (the other kinds' fields
 * are zero). An unknown kind must be treated as PLUGIN_TRACE_OTHER: kinds may be added.
 *
 *   kind                  object                 fields
 *   PLUGIN_TRACE_FOUND    the file found         found.via: how (below); found.name: the name
 *                                                searched for (DT_NEEDED, LC_LOAD_DYLIB), NULL
 *                                                for the file given to plugin_open
 *   PLUGIN_TRACE_SEGMENT  the mapped object      segment.address, .size: the pages mapped from
 *                                                the file (a zero-filled rest is an OTHER event);
 *                                                .offset: their offset in the file (in the
 *                                                buffer for a memory image: copied, not mapped);
 *                                                .prot: the segment's PROT_READ | PROT_WRITE |
 *                                                PROT_EXEC
 *   PLUGIN_TRACE_DEPENDENCY  the needing object  dependency.name: the name needed;
 *                                                dependency.result: the path of the object that
 *                                                provides it, NULL when the host does (a -static
 *                                                host's C runtime, a Mach-O system library);
 *                                                dependency.via: how it was found
 *   PLUGIN_TRACE_RELOCS   the relocated object   relocs.type ("R_X86_64_RELATIVE", ...),
 *                                                relocs.count: how many of that type were applied
 *   PLUGIN_TRACE_BIND     the referencing object bind.symbol, bind.version (NULL: unversioned),
 *                                                bind.definer: the defining object's path, "the
 *                                                resolve callback", "the loader" or NULL (a weak
 *                                                reference left 0); bind.value: the address bound
 *   PLUGIN_TRACE_INIT     the initialized object init.what ("DT_INIT", "DT_INIT_ARRAY",
 *                                                "__mod_init_func", "__init_offsets"),
 *                                                init.index (in that array),
 *                                                init.address: the function, called next
 *   PLUGIN_TRACE_FAILURE  the path given to the  failure.code, failure.message (as in
 *                         open                   plugin_error): the open failed; its last event
 *   PLUGIN_TRACE_OTHER    NULL (text names it)   none: text says it all (reservations, RELRO,
 *                                                thread-local blocks, unwind tables, init order...)
 *
 * ns is the time since the open began (CLOCK_MONOTONIC, in nanoseconds): never decreasing from
 * one event of an open to the next. A nested open (an initializer calling plugin_open) has its
 * own events, from its own start. The clock is read only when tracing is on: with no trace
 * callback and no PLUGIN_DEBUG, no event is built and none of its arguments is computed.
 *
 * PLUGIN_DEBUG, in the environment, prints the same events to stderr the way glibc's LD_DEBUG
 * does: one line "<pid>:\t<text>" each, written with one write(2). Its value is a list of
 * categories separated by ',' or ':':
 *   files     objects found (and how), searched for, loaded, mapped, dependencies resolved,
 *             symbol versions, thread-local storage, unwind tables
 *   bindings  each symbol bound: referencing object, symbol@version, defining object, address
 *   reloc     relocations applied per type, IFUNC resolvers called, RELRO made read-only
 *   init      the initializer order, each initializer called, PLUGIN_NO_RUN's held-back ones
 *   all       all of them
 *   help      the list of categories (to stderr, once); the open goes on
 * A failure event is printed under every category. Unknown words are ignored. The variable is
 * read once, at the first open of the process (later changes are not seen). It is ignored in
 * secure mode (AT_SECURE, a set-user-ID or set-group-ID program): its lines give the load
 * addresses of a privileged process to whoever started it. (glibc's ld.so honours LD_DEBUG there,
 * to stderr, and ignores only LD_DEBUG_OUTPUT: we are stricter.) A trace callback and PLUGIN_DEBUG
 * both on: the callback gets every event, stderr those of PLUGIN_DEBUG's categories.
 */
enum plugin_trace_kind {
    PLUGIN_TRACE_OTHER = 0,
    PLUGIN_TRACE_FOUND,
    PLUGIN_TRACE_SEGMENT,
    PLUGIN_TRACE_DEPENDENCY,
    PLUGIN_TRACE_RELOCS,
    PLUGIN_TRACE_BIND,
    PLUGIN_TRACE_INIT,
    PLUGIN_TRACE_FAILURE,
};

/* How an object was found: the step of the search (plugin.h's "Dependency search") that gave it. */
enum plugin_trace_via {
    PLUGIN_VIA_PATH = 0,        /* the path given to plugin_open, or a needed name with a '/' */
    PLUGIN_VIA_MEMORY,          /* plugin_open_memory's buffer */
    PLUGIN_VIA_LOADED,          /* already loaded (by us or the system loader): reused */
    PLUGIN_VIA_RPATH,           /* DT_RPATH of the loading chain or of the executable; Mach-O LC_RPATH */
    PLUGIN_VIA_LD_LIBRARY_PATH,
    PLUGIN_VIA_SEARCH_PATHS,    /* the options' search_paths */
    PLUGIN_VIA_RUNPATH,         /* DT_RUNPATH of the needing object */
    PLUGIN_VIA_CACHE,           /* /etc/ld.so.cache */
    PLUGIN_VIA_SYSTEM_DIR,      /* the default directories */
    PLUGIN_VIA_LOADER_PATH,     /* Mach-O @loader_path or @executable_path */
    PLUGIN_VIA_HOST,            /* provided by the host: no file loaded */
};

struct plugin_trace_event {
    enum plugin_trace_kind kind;
    unsigned long long ns;      /* since the start of the open */
    const char *object;         /* the path (or memory-image name) of the object it is about */
    const char *text;           /* one line, no newline */
    struct { enum plugin_trace_via via; const char *name; } found;
    struct { unsigned long long address, size, offset; int prot; } segment;
    struct { const char *name, *result; enum plugin_trace_via via; } dependency;
    struct { const char *type; unsigned long long count; } relocs;
    struct { const char *symbol, *version, *definer; unsigned long long value; } bind;
    struct { const char *what; unsigned long index; unsigned long long address; } init;
    struct { enum plugin_errc code; const char *message; } failure;
};

/* A short name for a way of finding ("RPATH", "LD_LIBRARY_PATH", "ld.so cache", ...). */
const char *plugin_trace_via_name(enum plugin_trace_via via);
/* A short name for an event kind ("found", "segment", "dependency", "relocs", "bind", "init",
 * "failure", "other"): what `plugin load --trace --json` writes. */
const char *plugin_trace_kind_name(enum plugin_trace_kind kind);

struct plugin_options {
    const char *const *search_paths;
    void *(*resolve)(void *ctx, const char *name, const char *version);
    void *resolve_ctx;
    unsigned flags;
    void (*trace)(void *ctx, const struct plugin_trace_event *event);
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

/*
 * Static TLS for plugins (initial-exec thread-locals of a loaded object, DF_STATIC_TLS).
 *
 * Code compiled with the initial-exec model (the Go runtime's g pointer, libgomp's thread data)
 * reaches its variable at a constant offset from the thread pointer, so the variable must be in
 * every thread at that same offset: in static TLS, which the C library lays out at startup and
 * sets up for every thread it creates. glibc's dlopen takes such modules from a surplus inside
 * its own static TLS; this library, which uses none of glibc's internals, takes them from a pool
 * the host reserves in its own static TLS. Put this, once, at file scope in one source file of
 * the executable (or of a library it is linked with, whose TLS is static too):
 *
 *     PLUGIN_STATIC_TLS_POOL(1024);
 *
 * It defines a zero-initialized, 64-byte aligned initial-exec __thread array of that many bytes
 * and a constructor that registers it with plugin_static_tls_pool (priority 101: before the
 * file's other constructors and C++ static initializers, which may already open plugins). Every thread, old and new,
 * has its own copy, zero-filled by the C library; each module that needs static TLS gets its
 * block (its PT_TLS size and alignment, at most PLUGIN_STATIC_TLS_ALIGN) carved out of it for
 * the life of the process. Sizes seen: Go 8 bytes (x86-64) or 16 (arm64), libgomp 136,
 * libubsan 32. Each thread's TLS grows by the pool's size.
 *
 * The rules: the block's initial image must be all zero (its .tdata, if any, only zero bytes):
 * the pool is zero in every thread, and there is no hook to copy an image into threads that
 * already run or that the C library creates later. A module reached by initial-exec code of a
 * plugin is made static when that plugin is loaded in the same open as the module; one that was
 * published earlier with ordinary (dynamic) TLS is refused. General-dynamic accesses, TLS
 * descriptors and plugin_lookup of the same variables agree with the initial-exec ones.
 *
 * plugin_static_tls_pool registers a pool by hand (hosts that do not run constructors): pool is
 * the calling thread's address of such a __thread array (initial-exec or local-exec model,
 * aligned to PLUGIN_STATIC_TLS_ALIGN, zero, used by nothing else) and size its size. Returns 0,
 * or -1 with err filled. Registering the same pool again does nothing; up to 8 pools add up.
 */
#define PLUGIN_STATIC_TLS_ALIGN 64u
#define PLUGIN_STATIC_TLS_MAX   (1u << 20)
int plugin_static_tls_pool(void *pool, size_t size, plugin_error *err);

#define PLUGIN_STATIC_TLS_POOL(bytes)                                                              \
    static __thread unsigned char plugin_static_tls_pool_[(bytes)]                                 \
        __attribute__((tls_model("initial-exec"), aligned(PLUGIN_STATIC_TLS_ALIGN)));              \
    __attribute__((constructor(101))) static void plugin_static_tls_pool_register_(void)          \
    {                                                                                             \
        plugin_static_tls_pool(plugin_static_tls_pool_, sizeof plugin_static_tls_pool_, NULL);    \
    }                                                                                             \
    typedef int plugin_static_tls_pool_semicolon_

/*
 * Host symbols without a callback (registered exports; a -static host's own symbol table).
 *
 * A plugin's imports are bound, after the resolve callback, to the exports the host registered:
 *
 *     static const struct plugin_export host_exports[] = {
 *         PLUGIN_EXPORT(printf), PLUGIN_EXPORT(malloc), { "host_add", (void *)my_add },
 *     };
 *     plugin_register_exports(host_exports, 3, &err);
 *
 * or, at file scope, the same table and a constructor that registers it before main:
 *
 *     PLUGIN_EXPORTS(host_exports, PLUGIN_EXPORT(printf), PLUGIN_EXPORT(malloc), PLUGIN_EXPORT(free));
 *
 * (the constructor ignores the result: call plugin_register_exports yourself to see an error).
 * plugin_register_exports checks the whole table first: every entry needs a name and a non-NULL
 * address, and a name (in the table or registered before) has one address (the same entry
 * twice is fine); otherwise it returns -1 with err filled (PLUGIN_ERR_FORMAT; PLUGIN_ERR_NOMEM)
 * and registers nothing of it. The names are copied; registrations last for the process and
 * serve every later open, in any host (a dynamic one too: they come before the global scope,
 * as the callback does). Returns 0.
 *
 * In a -static host (no dynamic C library in the process: no PT_INTERP, no libc.so), an import
 * that is still undefined after the callback, the exports, and the plugin's own dependency tree
 * is looked up in the executable's own symbol table: .symtab (.dynsym when there is no .symtab)
 * of /proc/self/exe, read with libelf at the first such need and kept (a hash table, under the
 * load lock), the load bias of a static PIE added. It serves every defined global, weak or unique
 * function, object or untyped symbol of any visibility (static glibc makes most of its functions
 * hidden), and the local functions and objects whose name no other symbol has (in a static PIE
 * the linker turns hidden symbols into local ones: malloc, __errno_location); not thread-locals; a versioned reference (printf@GLIBC_2.2.5) binds to the
 * unversioned definition (a static executable has no versions). An IFUNC (glibc's strlen,
 * memcpy) binds to the implementation the executable's own IRELATIVE relocation chose at startup
 * (its GOT slot is read), or, when the executable never calls it, to what its resolver returns.
 * It comes last so that a plugin's own definitions are never replaced by the executable's
 * internals. Not available (imports stay undefined; the trace says why): a stripped executable
 * (strip removes .symtab: register exports instead), no /proc, a file that is not the running
 * program. Dynamic hosts never read it.
 *
 * Which C library functions may be shared this way: a plugin must be built against the C
 * library of the host (a glibc -static host: plugins built by gcc against glibc; a musl static
 * host: plugins built with musl-gcc). Then the state that lives in the C library is the host's,
 * shared correctly: errno (a plugin reaches it through __errno_location, the host's thread's
 * errno), stdio (stdout is the host's FILE, one buffer), the malloc heap (a plugin may free
 * what the host allocated and the reverse), the locale, environ, atexit. What a static glibc
 * cannot do even for itself is not shared either: functions that need to dlopen a part of glibc
 * (iconv_open of most charsets, NSS: getpwnam, getaddrinfo, gethostbyname) fail or misbehave in
 * a static executable. And only what the linker put in the executable exists: it copies from
 * libc.a only the functions the program uses, so a plugin's import of a function the host never
 * uses is undefined. Make the host use what it wants to export (listing it in a PLUGIN_EXPORTS
 * table does that), or link libc with -Wl,--whole-archive (the blunt tool).
 */
struct plugin_export {
    const char *name;
    void *addr;
};
int plugin_register_exports(const struct plugin_export *table, size_t n, plugin_error *err);

/* One entry: the symbol's own name and address (a function or a variable of the host). */
#define PLUGIN_EXPORT(symbol) { #symbol, (void *)&(symbol) }

/* A static table named table of the entries given, registered by a constructor before main. */
#define PLUGIN_EXPORTS(table, ...)                                                                 \
    static const struct plugin_export table[] = { __VA_ARGS__ };                                   \
    __attribute__((constructor)) static void table##_register_(void)                              \
    {                                                                                             \
        plugin_register_exports(table, sizeof table / sizeof table[0], NULL);                     \
    }                                                                                             \
    typedef int table##_semicolon_

/* The path (or memory-image name) the handle was loaded from. */
const char *plugin_path(const plugin *p);

/* A short English name for an error code ("format error", ...). */
const char *plugin_strerror(enum plugin_errc code);

/* The version of the library the program runs with, "MAJOR.MINOR.PATCH": PLUGIN_VERSION as it
 * was when the library was built, which may differ from the PLUGIN_VERSION the program was
 * compiled with (a newer libplugin.so.0 installed since). */
const char *plugin_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PLUGIN_H */
