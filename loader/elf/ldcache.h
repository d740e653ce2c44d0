/*
 * ldcache.h — our reader of the system loader's cache of library locations (/etc/ld.so.cache).
 *
 * Internal to the library (hidden symbols); the tests call these through libplugin.a.
 */
#ifndef PLUGIN_LDCACHE_H
#define PLUGIN_LDCACHE_H

#include <stdint.h>

/* The path the cache (the process-wide one, /etc/ld.so.cache unless ldcache_use_file changed it)
 * gives for a library name (a soname such as "libz.so.1"), for this CPU; NULL when the cache has
 * no such entry, or is missing or malformed. The string lives as long as the process. The file is
 * mapped once, on first use. Call with the load lock held. */
const char *ldcache_lookup(const char *name);

/* The same lookup in the cache file at cache_path, mapped for this call only (for tests and
 * tools). Returns a malloc'ed path, or NULL (no entry; missing or malformed file). */
char *ldcache_lookup_in(const char *cache_path, const char *name);

/* The same lookup in a cache already in memory (size bytes at cache): a pointer to the path
 * inside it, or NULL. For the fuzzer, which hands the parser exactly the bytes it may read. */
const char *ldcache_find_in(const void *cache, uint64_t size, const char *name);

/* Use the cache file at path instead of /etc/ld.so.cache from now on (NULL: back to the default).
 * For tests, which cannot write the system's cache. Call with no open in progress. */
void ldcache_use_file(const char *path);

/* The entry flags this CPU's libraries carry in the cache (FLAG_ELF_LIBC6 | the CPU's flag). */
int ldcache_native_flags(void);

#endif
