/*
 * addrinfo.c — plugin_addr_info: what an address belongs to (dladdr's answer, without libdl).
 *
 * Two places are searched, ours first:
 *   1. the images we loaded, through the debuggers' list (debug.c), which holds every published
 *      image. The list is append-only, every link is published with a release store, and a
 *      published image is never modified in the fields read here (path, bias, segments, symbol
 *      tables), so it is walked without the load lock (acquire loads); the image's front end
 *      names the nearest symbol (fmt->nearest);
 *   2. the objects the system loader has, through the host provider (loader_host->addr_info),
 *      which takes no lock of ours either.
 */
#include "core/debug.h"
#include "core/format.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* addr (as an integer) lies in one of im's mapped segments. */
bool image_contains(const struct image *im, uintptr_t a)
{
    for (size_t i = 0; i < im->nsegs; i++) {
        uintptr_t lo = im->bias + (uintptr_t)im->segs[i].vaddr;
        if (a >= lo && a - lo < im->segs[i].memsz)
            return true;
    }
    return false;
}

/* Names spelled from a trie are kept here for good (the API promises strings that live as long
 * as the process): one entry per (image, export address), pushed without a lock. */
struct interned {
    struct interned *next;
    const struct image *im;
    uintptr_t addr;
    char name[];
};
static struct interned *interned_head;

const char *addrinfo_intern(const struct image *im, uintptr_t addr, const char *name)
{
    for (struct interned *n = __atomic_load_n(&interned_head, __ATOMIC_ACQUIRE); n; n = n->next)
        if (n->im == im && n->addr == addr && strcmp(n->name, name) == 0)
            return n->name;
    size_t len = strlen(name);
    struct interned *n = malloc(sizeof *n + len + 1);
    if (!n)
        return NULL;
    n->im = im;
    n->addr = addr;
    memcpy(n->name, name, len + 1);
    n->next = __atomic_load_n(&interned_head, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&interned_head, &n->next, n, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return n->name;
}

static void fill_from_image(const struct image *im, uintptr_t a, struct plugin_addr_info *info)
{
    uintptr_t sa;
    const char *name;
    info->path = image_name(im);
    info->base = (void *)(im->bias + (uintptr_t)im->base_vaddr);
    if (im->fmt->nearest && im->fmt->nearest(im, a, &name, &sa))
        info->symbol = name, info->symbol_addr = (void *)sa;
}

PLUGIN_API int plugin_addr_info(const void *addr, struct plugin_addr_info *info)
{
    struct plugin_addr_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    uintptr_t a = (uintptr_t)addr;
    if (!a)
        return 0;
    for (const struct plugin_debug_image *e = debug_first(); e; e = debug_next(e))
        if (image_contains(e->image, a)) {
            const struct image *im = e->image;
            fill_from_image(im, a, info);
            return 1;
        }
    bool found = loader_host->addr_info(a, info);
    if (!found)
        memset(info, 0, sizeof *info);
    return found;
}
