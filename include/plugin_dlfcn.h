/*
 * plugin_dlfcn.h — dlopen, dlsym, dlvsym, dlclose, dlerror and dladdr over this library (no libdl).
 *
 * The functions keep <dlfcn.h>'s semantics, as glibc's ld.so gives them, on top of plugin_open:
 *
 *     void *h = plugin_dlopen("libz.so.1", PLUGIN_RTLD_NOW);
 *     if (!h) { fprintf(stderr, "%s\n", plugin_dlerror()); return 1; }
 *     const char *(*v)(void) = (const char *(*)(void))plugin_dlsym(h, "zlibVersion");
 *     plugin_dlclose(h);
 *
 * A program written for <dlfcn.h> builds unchanged with two lines before its code:
 *
 *     #define PLUGIN_DLFCN_MACROS
 *     #include <plugin_dlfcn.h>
 *
 * which map dlopen, dlsym, dlvsym, dlclose, dlerror, dladdr, Dl_info and the RTLD_* constants
 * onto the names below, whether <dlfcn.h> was included before or is included after (when the
 * system has it, the macro mode includes it first, so that a later #include <dlfcn.h> is empty,
 * then replaces its constants; nothing of libdl is called). Works in a -static executable too.
 * Without PLUGIN_DLFCN_MACROS this header needs no <dlfcn.h> and defines no standard name.
 *
 * plugin_dlopen(file, mode)
 *  - file NULL (or "", as in glibc): the program's handle (below). A file with '/' is a path, opened as plugin_open
 *    opens it. A name without '/' is searched as ld.so searches for dlopen: first an object the
 *    process already has (loaded by the system loader or by us) whose soname or file name it is
 *    — returned, never loaded twice —, else in the order plugin.h gives for DT_NEEDED, as a
 *    DT_NEEDED entry of the CALLING object (found from the return address: the executable, a
 *    library the system loader has, or one of our objects): its DT_RPATH (when it has no
 *    DT_RUNPATH; then the executable's; the caller's own loaders are not followed),
 *    LD_LIBRARY_PATH, its DT_RUNPATH ($ORIGIN: the caller's directory), the ld.so cache, the
 *    system directories.
 *  - mode: PLUGIN_RTLD_NOW or PLUGIN_RTLD_LAZY (one is required; LAZY is accepted and binds
 *    everything now, as plugin_open does), or'ed with PLUGIN_RTLD_LOCAL (the default),
 *    PLUGIN_RTLD_GLOBAL (the object and its dependencies then serve the symbol references of
 *    every later load, after the global scope and before the loading plugin's own tree, in the
 *    order they were opened — glibc appends them to the main scope; a handle opened LOCAL
 *    becomes GLOBAL when opened again GLOBAL, never the reverse), PLUGIN_RTLD_NOLOAD (return the
 *    handle only when the object is already in the process — by soname or file name for a name,
 *    by path or file identity for a path —, else NULL and nothing is loaded),
 *    PLUGIN_RTLD_NODELETE (accepted: nothing is ever unmapped). Any other bit: NULL, and
 *    dlerror says which.
 *  - Each successful call adds one to the handle's count (plugin_dlclose). The handle is the
 *    object's plugin * (plugin_lookup and plugin_path accept it).
 *  - Failure: NULL, and plugin_dlerror returns the library's message ("plugin: FILE: cause").
 *
 * plugin_dlsym(handle, name), plugin_dlvsym(handle, name, version)
 *  - A handle from plugin_dlopen or plugin_open: the object, then its dependencies
 *    breadth-first (its local scope), each as plugin_lookup finds a name in it (version: as
 *    plugin_lookup_version, exactly that version).
 *  - The program's handle (plugin_dlopen(NULL, ...)) and PLUGIN_RTLD_DEFAULT: the global scope
 *    (the executable, its preloads, their dependencies breadth-first: plugin.h), then the objects
 *    opened PLUGIN_RTLD_GLOBAL with their dependencies, in load order.
 *  - PLUGIN_RTLD_NEXT: the objects after the caller's in that same order (the caller's own tree
 *    appended when it is not in it): the interposer's "next" definition. (For a caller that glibc
 *    itself dlopen'ed, glibc searches only that caller's own dependency tree after it; here the
 *    RTLD_GLOBAL objects opened after the caller come first.) Code outside any object: error.
 *  - Not found: NULL and an error ("undefined symbol"). A symbol whose value is 0 is
 *    indistinguishable, as with dlsym: clear dlerror first and look at it after.
 *
 * plugin_dlclose(handle): 0, or non-0 with an error for a handle plugin_dlopen did not return or
 * whose count is already 0. Objects are never unmapped (as musl): the count is kept only to
 * report an unbalanced close; symbols of a closed RTLD_GLOBAL object stay in the scope. Closing
 * the program's handle always succeeds.
 *
 * plugin_dlerror(): the last error of this thread's calls to these functions since the last
 * plugin_dlerror, then cleared (NULL when there was none). The string lives until this thread's
 * next failing call.
 *
 * plugin_dladdr(addr, info): plugin_addr_info, as a Dl_info: non-0 when addr is inside an object
 * (ours or the process's), filling the file name, its base, and the nearest exported symbol at
 * or below addr (NULL, NULL when none). 0 otherwise; dlerror is not set (as glibc).
 *
 * Living next to glibc's dlopen: glibc's loader does not know our objects. A later glibc dlopen
 * of a library by name that we loaded (Python's ctypes, GObject-introspection loading
 * libgobject-2.0.so.0 by name) maps a second copy, whose global state is not shared with ours
 * (its GObject type registry is another one: type names looked up there come back empty). What
 * keeps one copy: (1) route the host's own dlopen calls through this layer (the macros above),
 * so that every load goes through one loader; (2) the other way round works already: an object
 * glibc has (loaded by it before) is reused by plugin_open and plugin_dlopen, by path or by name,
 * not mapped again. Where a third party calls glibc's dlopen itself, let it load the library
 * first, then open it here.
 */
#ifndef PLUGIN_DLFCN_H
#define PLUGIN_DLFCN_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* glibc's values (bits/dlfcn.h), so that constants written as numbers keep their meaning. */
#define PLUGIN_RTLD_LAZY     0x00001
#define PLUGIN_RTLD_NOW      0x00002
#define PLUGIN_RTLD_NOLOAD   0x00004
#define PLUGIN_RTLD_GLOBAL   0x00100
#define PLUGIN_RTLD_LOCAL    0
#define PLUGIN_RTLD_NODELETE 0x01000
#define PLUGIN_RTLD_DEFAULT  ((void *)0)
#define PLUGIN_RTLD_NEXT     ((void *)-1l)

/* dladdr's answer (the same fields, in the same order, as glibc's Dl_info). */
typedef struct plugin_dl_info {
    const char *dli_fname;  /* the object's path ("the main program" when unknown) */
    void *dli_fbase;        /* its base address */
    const char *dli_sname;  /* nearest exported symbol at or below the address, or NULL */
    void *dli_saddr;        /* its address, or NULL */
} plugin_dl_info;

void *plugin_dlopen(const char *file, int mode);
void *plugin_dlsym(void *handle, const char *name);
void *plugin_dlvsym(void *handle, const char *name, const char *version);
int plugin_dlclose(void *handle);
char *plugin_dlerror(void);
int plugin_dladdr(const void *addr, plugin_dl_info *info);

#ifdef __cplusplus
}
#endif

#endif /* PLUGIN_DLFCN_H */

/* The standard names (PLUGIN_DLFCN_MACROS): outside the include guard, so that a file that was
 * included once without the macro can be included again with it; defined once. */
#if defined(PLUGIN_DLFCN_MACROS) && !defined(PLUGIN_DLFCN_MACROS_DONE)
#define PLUGIN_DLFCN_MACROS_DONE 1
/* <dlfcn.h> first, when the system has it: its declarations and typedefs come now, under their
 * own names, and a later #include <dlfcn.h> is empty (its include guard), so nothing it defines
 * can clash with the macros below. */
#if defined(__has_include)
#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#endif
#endif
#undef RTLD_LAZY
#undef RTLD_NOW
#undef RTLD_NOLOAD
#undef RTLD_GLOBAL
#undef RTLD_LOCAL
#undef RTLD_NODELETE
#undef RTLD_DEFAULT
#undef RTLD_NEXT
#define RTLD_LAZY     PLUGIN_RTLD_LAZY
#define RTLD_NOW      PLUGIN_RTLD_NOW
#define RTLD_NOLOAD   PLUGIN_RTLD_NOLOAD
#define RTLD_GLOBAL   PLUGIN_RTLD_GLOBAL
#define RTLD_LOCAL    PLUGIN_RTLD_LOCAL
#define RTLD_NODELETE PLUGIN_RTLD_NODELETE
#define RTLD_DEFAULT  PLUGIN_RTLD_DEFAULT
#define RTLD_NEXT     PLUGIN_RTLD_NEXT
#define dlopen  plugin_dlopen
#define dlsym   plugin_dlsym
#define dlvsym  plugin_dlvsym
#define dlclose plugin_dlclose
#define dlerror plugin_dlerror
#define dladdr  plugin_dladdr
#define Dl_info plugin_dl_info
#endif
