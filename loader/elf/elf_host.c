/*
 * elf_host.c — the host provider on Linux: the objects the process already has.
 *
 * Host objects are the ones the system loader mapped: the executable, libc, ld.so, the vDSO,
 * and anything the host dlopen'ed. dl_iterate_phdr (part of libc, not libdl) lists them in load
 * order with their program headers; we read each one's dynamic symbol table ourselves, with the
 * same reader as our own objects (elf_decode_host_dynamic). All of them are known by identity
 * (a plugin's DT_NEEDED reuses any of them); only the global scope among them is searched for
 * symbols (elf_scope.c). The list and the scope are refreshed only when the system loader's
 * load/unload counters moved; they are only touched with the load lock held.
 */
#include "elf/elf.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct image **hosts;        /* current host objects, load order */
static size_t nhosts, hosts_cap;
static struct image *host_cache;    /* every host image ever decoded (never freed) */
static unsigned long long seen_adds = ~0ULL, seen_subs = ~0ULL;

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

/* Segments, dynamic table and thread-local block of a host object, from what dl_iterate_phdr
 * reports; tables we cannot read leave it without symbols (it then never matches). */
static void describe_host(struct image *im, struct elf_object *o, const struct dl_phdr_info *info)
{
    const ElfW(Phdr) *dyn = NULL;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_memsz)
            im->segs[im->nsegs++] = (struct segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                                                      ph->p_flags, false };
        else if (ph->p_type == PT_DYNAMIC)
            dyn = ph;
        else if (ph->p_type == PT_TLS)
            o->tls.memsz = ph->p_memsz;             /* the block's size (the static TLS pool's check) */
    }
    if (im->nsegs) {
        im->lo = im->segs[0].vaddr;
        im->hi = im->segs[im->nsegs - 1].vaddr + im->segs[im->nsegs - 1].memsz;
    }
    struct diag quiet = { .err = NULL };
    if (dyn && im->nsegs && image_range_ok(im, dyn->p_vaddr, dyn->p_memsz, RANGE_READ)) {
        o->dynamic = image_addr(im, dyn->p_vaddr);
        o->ndynamic = dyn->p_memsz / sizeof(Elf64_Dyn);
        o->has_dynamic = true;
        if (elf_decode_host_dynamic(im, &quiet) != 0)   /* unreadable: never matches, needs nothing */
            o->nsyms = 0, o->symtab = NULL, o->strtab = NULL, o->strsz = 0;
    }
    o->tls.host_modid = info->dlpi_tls_modid;
    if (info->dlpi_tls_modid && info->dlpi_tls_data) {
        /* Allocated for this thread already: static TLS, at the same offset in every thread. */
        o->tls.host_tpoff = (intptr_t)((uintptr_t)info->dlpi_tls_data - arch_thread_pointer());
        o->tls.host_static = true;
    }
}

/* Build a host image from what dl_iterate_phdr reports. Objects without PT_DYNAMIC (a static
 * executable) or whose tables we cannot read are kept with no symbols. */
static struct image *host_make(struct dl_phdr_info *info)
{
    struct image *im = calloc(1, sizeof *im);
    struct elf_object *o = calloc(1, sizeof *o);
    if (!im || !o || !(im->segs = calloc(info->dlpi_phnum ? info->dlpi_phnum : 1, sizeof *im->segs)) ||
        !(im->path = strdup(info->dlpi_name ? info->dlpi_name : ""))) {
        if (im)
            free(im->segs);
        free(o);
        free(im);
        return NULL;
    }
    im->fmt = &elf_format;
    im->fmt_data = o;
    im->is_host = true;
    im->state = IMG_READY;
    im->arch = arch_native();
    im->bias = info->dlpi_addr;
    im->host_key = info->dlpi_phdr;
    describe_host(im, o, info);
    /* Its file's identity: the executable's through /proc; a library's by its absolute name. A
     * name without a directory (the vDSO's "linux-vdso.so.1") is no file: never looked up in the
     * current directory. */
    struct stat st;
    const char *file = im->path[0] ? im->path : "/proc/self/exe";
    if (file[0] == '/' && stat(file, &st) == 0) {
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

/*
 * One bit for the hash of every symbol the global scope's GNU hash tables hold (their chains hold
 * each hash, less its lowest bit, so no name is read or hashed to build it): a name whose bit is
 * clear is defined by none of them, and the scope walk skips them all with one test instead of
 * a bloom filter each. Most relocations of a plugin name its own symbols or its dependencies'.
 * Built for a list once it has been walked FILTER_AFTER times (building it, about 40k
 * instructions for libc, costs about as much as that many walks: a small plugin never pays it).
 * 8 bits a symbol (libc's 3,000: 4 KiB), so about one name in nine that no such object defines
 * passes anyway. NULL (every name passes) until then, when an object has symbols but no GNU hash
 * table, or when out of memory.
 */
enum { FILTER_AFTER = 256 };
static uint64_t *host_filter;
static uint32_t host_filter_mask;
static unsigned host_walks;             /* walks of this list; FILTER_AFTER and more: built (or not) */

static void build_filter(void)
{
    free(host_filter);
    host_filter = NULL;
    uint64_t n = 0, bits = 4096;
    size_t ns;
    struct image **scope = elf_scope(&ns);
    for (size_t i = 0; i < ns; i++) {
        const struct elf_object *o = elf_of(scope[i]);
        if (o && o->symtab && !o->gnu.nbuckets)
            return;                             /* SysV hash only: no hashes to read */
        n += o && o->symtab ? o->gnu.nchain : 0;
    }
    while (bits < 8 * n && bits < (1u << 30))
        bits *= 2;
    uint64_t *f = calloc(bits / 64, sizeof *f);
    if (!f)
        return;
    for (size_t i = 0; i < ns; i++) {
        const struct elf_object *o = elf_of(scope[i]);
        for (uint32_t j = 0; o && o->symtab && j < o->gnu.nchain; j++) {
            uint32_t b = (o->gnu.chain[j] >> 1) & (uint32_t)(bits - 1);
            f[b / 64] |= (uint64_t)1 << (b % 64);
        }
    }
    host_filter = f;
    host_filter_mask = (uint32_t)(bits - 1);
}

bool elf_hosts_lack(uint32_t h)
{
    uint32_t b = (h >> 1) & host_filter_mask;
    return host_filter && !((host_filter[b / 64] >> (b % 64)) & 1);
}

static bool may_define(struct sym_query *q)
{
    if (seen_adds == ~0ULL)
        return true;                    /* no list yet: nothing to build a filter from */
    if (host_walks < FILTER_AFTER && ++host_walks == FILTER_AFTER)
        build_filter();
    if (!host_filter)
        return true;
    if (!q->hashed[0])
        q->hash[0] = elf_name_gnu_hash(q->name), q->hashed[0] = true;
    return !elf_hosts_lack(q->hash[0]);
}

static int refresh(struct diag *d)
{
    unsigned long long c[2] = { 0, 0 };
    dl_iterate_phdr(counters, c);
    if (c[0] == seen_adds && c[1] == seen_subs && (c[0] || c[1]))
        return 0;
    nhosts = 0;
    struct iter it = { 0 };
    dl_iterate_phdr(host_each, &it);
    if (it.failed || elf_scope_build(hosts, nhosts)) {
        seen_adds = seen_subs = ~0ULL;
        return diag_fail_raw(d, PLUGIN_ERR_NOMEM, "plugin: out of memory listing the process's objects");
    }
    seen_adds = c[0];
    seen_subs = c[1];
    free(host_filter);                  /* a new list: its filter when it has earned one */
    host_filter = NULL;
    host_walks = 0;
    return 0;
}

static struct image **images(size_t *n)
{
    *n = nhosts;
    return hosts;
}

static bool is_static(void)
{
    for (size_t i = 0; i < nhosts; i++)
        if (hosts[i]->soname && strncmp(hosts[i]->soname, "libc.so", 7) == 0)
            return false;
    return true;
}

const struct host_provider elf_host_provider = {
    .refresh = refresh,
    .images = images,
    .scope = elf_scope,
    .is_static = is_static,
    .exe_symbol = elf_exe_symbol,
    .exe_symbols_unavailable = elf_exe_symbols_unavailable,
    .may_define = may_define,
    .addr_info = elf_host_addr_info,
};
