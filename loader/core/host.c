/*
 * host.c — the objects the process already has, and the registry of the objects we loaded.
 *
 * Host objects are the ones the system loader mapped: the executable, libc, ld.so, the vDSO,
 * and anything the host dlopen'ed. dl_iterate_phdr (part of libc, not libdl) lists them in load
 * order with their program headers; we read each one's dynamic symbol table ourselves. The list
 * is refreshed only when the system loader's load/unload counters moved.
 *
 * Our own objects are kept in a list in load order. Both lists are only touched with the load
 * lock held (api.c), so nothing here locks.
 */
#include "core/internal.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct image **hosts;        /* current host objects, load order */
static size_t nhosts, hosts_cap;
static struct image *host_cache;    /* every host image ever decoded (never freed) */
static unsigned long long seen_adds = ~0ULL, seen_subs = ~0ULL;
static struct image *ours_head, *ours_tail;

struct iter {
    int failed;
};

static struct image *host_find_cached(uintptr_t base, const ElfW(Phdr) *phdr)
{
    for (struct image *im = host_cache; im; im = im->next)
        if (im->bias == base && im->host_key == (const void *)phdr)
            return im;
    return NULL;
}

/* Build a host image from what dl_iterate_phdr reports. Objects without PT_DYNAMIC (a static
 * executable) or whose tables we cannot read are kept with no symbols. */
static struct image *host_make(struct dl_phdr_info *info)
{
    struct image *im = calloc(1, sizeof *im);
    if (!im || !(im->segs = calloc(info->dlpi_phnum ? info->dlpi_phnum : 1, sizeof *im->segs))) {
        free(im);
        return NULL;
    }
    im->path = strdup(info->dlpi_name ? info->dlpi_name : "");
    if (!im->path) {
        free(im->segs);
        free(im);
        return NULL;
    }
    im->is_host = true;
    im->state = IMG_READY;
    im->arch = arch_native();
    im->bias = info->dlpi_addr;
    im->host_key = info->dlpi_phdr;
    const ElfW(Phdr) *dyn = NULL;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_memsz)
            im->segs[im->nsegs++] = (struct segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                                                      ph->p_flags, false };
        else if (ph->p_type == PT_DYNAMIC)
            dyn = ph;
    }
    if (im->nsegs) {
        im->lo = im->segs[0].vaddr;
        im->hi = im->segs[im->nsegs - 1].vaddr + im->segs[im->nsegs - 1].memsz;
    }
    struct diag quiet = { NULL, NULL, NULL };
    if (dyn && im->nsegs && image_range_ok(im, dyn->p_vaddr, dyn->p_memsz, RANGE_READ)) {
        im->dynamic = image_addr(im, dyn->p_vaddr);
        im->ndynamic = dyn->p_memsz / sizeof(Elf64_Dyn);
        if (elf_decode_host_dynamic(im, &quiet) != 0)
            im->nsyms = 0, im->symtab = NULL;   /* unreadable: never matches */
    }
    im->tls.host_modid = info->dlpi_tls_modid;
    if (info->dlpi_tls_modid && info->dlpi_tls_data) {
        /* Allocated for this thread already: static TLS, at the same offset in every thread. */
        im->tls.host_tpoff = (intptr_t)((uintptr_t)info->dlpi_tls_data - arch_thread_pointer());
        im->tls.host_static = true;
    }
    struct stat st;
    const char *file = im->path[0] ? im->path : "/proc/self/exe";
    if (stat(file, &st) == 0) {
        im->dev = st.st_dev;
        im->ino = st.st_ino;
        im->has_id = true;
    }
    im->next = host_cache;
    host_cache = im;
    return im;
}

static int host_each(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct iter *it = arg;
    (void)size;
    struct image *im = host_find_cached(info->dlpi_addr, info->dlpi_phdr);
    if (!im && !(im = host_make(info)))
        goto oom;
    if (nhosts == hosts_cap) {
        size_t cap = hosts_cap ? hosts_cap * 2 : 16;
        struct image **n = realloc(hosts, cap * sizeof *n);
        if (!n)
            goto oom;
        hosts = n;
        hosts_cap = cap;
    }
    hosts[nhosts++] = im;
    return 0;
oom:
    it->failed = 1;
    return 1;
}

static int counters(struct dl_phdr_info *info, size_t size, void *arg)
{
    unsigned long long *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c[0] = info->dlpi_adds;
        c[1] = info->dlpi_subs;
    }
    return 1;                               /* the first object is enough */
}

int host_refresh(struct diag *d)
{
    unsigned long long c[2] = { 0, 0 };
    dl_iterate_phdr(counters, c);
    if (c[0] == seen_adds && c[1] == seen_subs && (c[0] || c[1]))
        return 0;
    nhosts = 0;
    struct iter it = { 0 };
    dl_iterate_phdr(host_each, &it);
    if (it.failed) {
        seen_adds = seen_subs = ~0ULL;
        return diag_fail_raw(d, PLUGIN_ERR_NOMEM, "plugin: out of memory listing the process's objects");
    }
    seen_adds = c[0];
    seen_subs = c[1];
    return 0;
}

struct image **host_images(size_t *n)
{
    *n = nhosts;
    return hosts;
}

bool host_is_static(void)
{
    for (size_t i = 0; i < nhosts; i++)
        if (hosts[i]->soname && strncmp(hosts[i]->soname, "libc.so", 7) == 0)
            return false;
    return true;
}

struct image *registry_find_id(dev_t dev, ino_t ino)
{
    for (struct image *im = ours_head; im; im = im->next)
        if (im->has_id && im->dev == dev && im->ino == ino)
            return im;
    for (size_t i = 0; i < nhosts; i++)
        if (hosts[i]->has_id && hosts[i]->dev == dev && hosts[i]->ino == ino && hosts[i]->path[0])
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

struct image *registry_find_name(const char *name)
{
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

unsigned registry_new_mark(void)
{
    static unsigned mark;
    return ++mark;
}
