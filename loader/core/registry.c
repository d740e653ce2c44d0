/*
 * registry.c — the registry of the objects we loaded, and the process's own objects as the host
 * provider lists them (loader/formats.c names the provider; on Linux, elf/elf_host.c).
 *
 * Our objects are kept in a list in load order. Both lists are only touched with the load lock
 * held (api.c), so nothing here locks.
 */
#include "core/format.h"

#include <string.h>

static struct image *ours_head, *ours_tail;

int host_refresh(struct diag *d)
{
    return loader_host->refresh(d);
}

struct image **host_images(size_t *n)
{
    return loader_host->images(n);
}

struct image **host_scope(size_t *n)
{
    return loader_host->scope(n);
}

bool host_may_define(struct sym_query *q)
{
    return !loader_host->may_define || loader_host->may_define(q);
}

bool host_is_static(void)
{
    return loader_host->is_static();
}

bool host_exe_symbol(const char *name, uint64_t *addr, struct diag *d)
{
    return loader_host->exe_symbol && loader_host->exe_symbol(name, addr, d);
}

const char *host_exe_symbols_unavailable(void)
{
    return loader_host->exe_symbols_unavailable ? loader_host->exe_symbols_unavailable() : NULL;
}

struct image *registry_find_id(dev_t dev, ino_t ino)
{
    for (struct image *im = ours_head; im; im = im->next)
        if (im->has_id && im->dev == dev && im->ino == ino)
            return im;
    size_t nhosts;
    struct image **hosts = host_images(&nhosts);
    for (size_t i = 0; i < nhosts; i++)
        if (hosts[i]->has_id && hosts[i]->dev == dev && hosts[i]->ino == ino && hosts[i]->path[0])
            return hosts[i];
    return NULL;
}

struct image *registry_find_path(const char *path)
{
    for (struct image *im = ours_head; im; im = im->next)
        if (!im->from_memory && strcmp(im->path, path) == 0)
            return im;
    size_t nhosts;
    struct image **hosts = host_images(&nhosts);
    for (size_t i = 0; i < nhosts; i++)
        if (strcmp(hosts[i]->path, path) == 0)
            return hosts[i];
    return NULL;
}

static bool name_matches(const struct image *im, const char *name)
{
    if (im->soname && strcmp(im->soname, name) == 0)
        return true;
    const char *slash = im->path ? strrchr(im->path, '/') : NULL;
    return slash && strcmp(slash + 1, name) == 0;
}

bool image_is_named(const struct image *im, const char *name)
{
    return name_matches(im, name) || (im->path && strcmp(im->path, name) == 0);
}

struct image *registry_find_name(const char *name)
{
    size_t nhosts;
    struct image **hosts = host_images(&nhosts);
    for (size_t i = 0; i < nhosts; i++)
        if (name_matches(hosts[i], name))
            return hosts[i];
    for (struct image *im = ours_head; im; im = im->next)
        if (!im->from_memory && name_matches(im, name))
            return im;
    return NULL;
}

void registry_add(struct image *im)
{
    im->next = NULL;
    if (ours_tail)
        ours_tail->next = im;
    else
        ours_head = im;
    ours_tail = im;
}

struct image *registry_first(void)
{
    return ours_head;
}

unsigned registry_new_mark(void)
{
    static unsigned mark;
    return ++mark;
}
