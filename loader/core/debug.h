/*
 * debug.h — issue 5: where addresses belong, and what debuggers read.
 *
 * The list of published images lives in debug.c (one entry per image, appended when an open
 * publishes its images, never removed): debuggers read it from the process's memory
 * (tools/plugin-gdb.py), and plugin_addr_info walks it without the load lock.
 */
#ifndef PLUGIN_DEBUG_H
#define PLUGIN_DEBUG_H

#include "core/internal.h"

/*
 * The layout gdb reads (tools/plugin-gdb.py decodes it from raw memory, so it works without the
 * library's debug info): version 1, 64-bit little-endian, natural alignment.
 *
 *   struct plugin_debug        { uint32 version; uint32 count; uint64 head; uint64 tail; }
 *   struct plugin_debug_image  { uint64 next; uint64 path; uint64 base; uint32 from_memory;
 *                                uint32 format; uint64 image; }
 */
#define PLUGIN_DEBUG_VERSION 1
enum { PLUGIN_DEBUG_ELF = 0, PLUGIN_DEBUG_MACHO = 1 };

struct plugin_debug_image {
    struct plugin_debug_image *next;    /* NULL at the end; written once (release) */
    const char *path;                   /* the file it was loaded from (or the memory image's name) */
    uintptr_t base;                     /* load bias: memory address = base + address in the file
                                           (add-symbol-file FILE -o BASE) */
    uint32_t from_memory;               /* 1: loaded by plugin_open_memory, no file to read */
    uint32_t format;                    /* PLUGIN_DEBUG_ELF or PLUGIN_DEBUG_MACHO */
    const struct image *image;          /* the loader's own record (opaque to debuggers) */
};

struct plugin_debug {
    uint32_t version;                   /* PLUGIN_DEBUG_VERSION, set before the first entry */
    uint32_t count;
    struct plugin_debug_image *head, *tail;
};

/* Append the images of one open (just published), then call plugin_debug_state. Load lock held. */
void debug_images_added(struct image *const *images, size_t n);
/* The first entry (acquire), for lock-free readers; follow with debug_next. */
const struct plugin_debug_image *debug_first(void);
const struct plugin_debug_image *debug_next(const struct plugin_debug_image *e);

#endif /* PLUGIN_DEBUG_H */
