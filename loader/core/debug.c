/*
 * debug.c — the list of loaded images for debuggers, and the hook they break on.
 *
 * The system loader tells gdb about the objects it maps through _r_debug and a breakpoint on
 * _dl_debug_state; ours are invisible to that protocol. So we keep our own, in the same spirit:
 *
 *   plugin_debug        { version, count, head, tail }: every image we published, in load order
 *                       (path, load bias, from memory or not, ELF or Mach-O);
 *   plugin_debug_state  an empty function called after each open has published its images and
 *                       before any initializer runs. A debugger that breaks there can read the
 *                       list and load the symbols of the new images (tools/plugin-gdb.py does).
 *
 * Paths are made absolute when the image is published: the directory the image was found in
 * ($ORIGIN, already absolute) and its file name, with no system call (symlinks are left as
 * they are; a debugger opens them like any path). Both symbols are exported
 * (default visibility) so that a stripped libplugin.so still shows them. The list is
 * append-only: entries are written completely, then linked with a release store, so
 * plugin_addr_info reads it without the load lock. Appends happen under the load lock.
 */
#include "core/debug.h"
#include "core/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PLUGIN_API struct plugin_debug plugin_debug = { PLUGIN_DEBUG_VERSION, 0, NULL, NULL };

/* Kept out of line and with a side effect the compiler cannot remove, so that a breakpoint on it
 * is hit once per open. */
PLUGIN_API __attribute__((noinline, used)) void plugin_debug_state(void)
{
    __asm__ volatile("" ::: "memory");
}

/* The image's path made absolute with its $ORIGIN directory; the path itself when it already
 * is absolute, is a memory image's name, or memory runs out. */
static const char *absolute_path(const struct image *im)
{
    const char *slash = strrchr(im->path, '/');
    if (im->from_memory || im->path[0] == '/' || !im->origin)
        return im->path;
    size_t n = strlen(im->origin) + 1 + strlen(slash ? slash + 1 : im->path) + 1;
    char *abs = malloc(n);
    if (!abs)
        return im->path;
    snprintf(abs, n, "%s/%s", im->origin, slash ? slash + 1 : im->path);
    return abs;
}

void debug_images_added(struct image *const *images, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct plugin_debug_image *e = calloc(1, sizeof *e);
        if (!e)
            continue;               /* a debugger misses this image; loading goes on */
        /* Absolute, so a debugger finds the file whatever its own directory is. */
        e->path = absolute_path(images[i]);
        e->base = images[i]->bias;
        e->from_memory = images[i]->from_memory;
        e->format = images[i]->fmt->debug_kind;
        e->image = images[i];
        if (plugin_debug.tail)
            __atomic_store_n(&plugin_debug.tail->next, e, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&plugin_debug.head, e, __ATOMIC_RELEASE);
        plugin_debug.tail = e;
        __atomic_store_n(&plugin_debug.count, plugin_debug.count + 1, __ATOMIC_RELEASE);
    }
    plugin_debug_state();
}

const struct plugin_debug_image *debug_first(void)
{
    return __atomic_load_n(&plugin_debug.head, __ATOMIC_ACQUIRE);
}

const struct plugin_debug_image *debug_next(const struct plugin_debug_image *e)
{
    return __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
}
