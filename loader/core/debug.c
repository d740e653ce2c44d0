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
 * Paths are made absolute (realpath) when the image is published. Both symbols are exported
 * (default visibility) so that a stripped libplugin.so still shows them. The list is
 * append-only: entries are written completely, then linked with a release store, so
 * plugin_addr_info reads it without the load lock. Appends happen under the load lock.
 */
#include "core/debug.h"
#include "core/format.h"

#include <stdlib.h>

PLUGIN_API struct plugin_debug plugin_debug = { PLUGIN_DEBUG_VERSION, 0, NULL, NULL };

/* Kept out of line and with a side effect the compiler cannot remove, so that a breakpoint on it
 * is hit once per open. */
PLUGIN_API __attribute__((noinline, used)) void plugin_debug_state(void)
{
    __asm__ volatile("" ::: "memory");
}

void debug_images_added(struct image *const *images, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct plugin_debug_image *e = calloc(1, sizeof *e);
        if (!e)
            continue;               /* a debugger misses this image; loading goes on */
        /* Absolute and resolved, so a debugger finds the file whatever its own directory is. */
        char *real = images[i]->from_memory ? NULL : realpath(images[i]->path, NULL);
        e->path = real ? real : images[i]->path;
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
