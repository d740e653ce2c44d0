/*
 * vm.c — virtual memory for the objects we load: reserve, map, zero-fill, protect.
 *
 * The shape is FreeBSD rtld's map_object(): reserve the whole span of the object with one
 * PROT_NONE mapping (so nothing else can land between its segments), then overlay every PT_LOAD
 * at its place with MAP_FIXED — from the file, so that tools such as /proc/self/maps, perf and gdb
 * see which file the pages belong to — or, for a memory image, anonymous pages filled by copying.
 * Past p_filesz a segment is zero: the rest of the last file page is cleared by hand and whole
 * pages beyond it are mapped anonymously.
 *
 * Every mmap and mprotect of an object's memory is in this file (elsewhere the loader only maps
 * files read-only to read them: the ld.so cache, a described file, a dry run's view of each
 * object, vm_view_image), behind two choke points
 * (vm_mmap, vm_protect) that ask the security policy (core/policy.c, rule 1: W^X) first:
 * no mapping is ever writable and executable at once. Segments that are not writable get their
 * final protection at once; writable ones stay read-write, and RELRO turns read-only after
 * relocation (vm_protect_image; which pages: policy.c, rule 4). Pages that relocation will
 * write, when there are many, are populated up front (vm_prefault).
 */
#include "core/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

size_t vm_page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

static uintptr_t down(uintptr_t x, uintptr_t a) { return x & ~(a - 1); }
static uintptr_t up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }

int vm_prot_of(uint32_t pflags)
{
    return ((pflags & SEG_R) ? PROT_READ : 0) | ((pflags & SEG_W) ? PROT_WRITE : 0) |
           ((pflags & SEG_X) ? PROT_EXEC : 0);
}

/* The only mprotect in the loader: the policy first (W^X). */
static int vm_protect(const struct image *im, uintptr_t addr, size_t len, int prot, struct diag *d)
{
    if (policy_prot(im->path, prot, d))
        return -1;
    if (len && mprotect((void *)addr, len, prot) != 0)
        return diag_fail(d, PLUGIN_ERR_IO, im->path, "mprotect(0x%lx, 0x%zx) failed: %s",
                         (unsigned long)addr, len, strerror(errno));
    return 0;
}

/* The only mmap of an object's memory: the policy first (W^X). NULL when the policy refuses
 * (the error is filled), MAP_FAILED when mmap fails (errno says why; the caller names it). */
static void *vm_mmap(const struct image *im, uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off,
                     struct diag *d)
{
    if (policy_prot(im->path, prot, d))
        return NULL;
    return mmap((void *)addr, len, prot, flags, fd, off);
}

/* Reserve [lo, hi) of the object, placed so that the bias is a multiple of its alignment. */
static int reserve(struct image *im, struct diag *d)
{
    uintptr_t page = vm_page_size();
    uintptr_t align = im->align > page ? (uintptr_t)im->align : page;
    if (align > (1UL << 30))
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path, "segment alignment 0x%lx is too large",
                         (unsigned long)align);
    uintptr_t lo = down(im->lo, page), len = up(im->hi, page) - lo;
    size_t extra = align - page;
    void *res = vm_mmap(im, 0, len + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, d);
    if (!res)
        return -1;
    if (res == MAP_FAILED)
        return diag_fail(d, errno == ENOMEM ? PLUGIN_ERR_NOMEM : PLUGIN_ERR_IO, im->path,
                         "cannot reserve 0x%lx bytes of address space: %s", (unsigned long)len, strerror(errno));
    uintptr_t r = (uintptr_t)res;
    uintptr_t bias = up(r - lo, align);
    uintptr_t start = bias + lo;
    if (start > r)
        munmap(res, start - r);
    if (r + len + extra > start + len)
        munmap((void *)(start + len), r + len + extra - (start + len));
    im->map_base = (void *)start;
    im->map_len = len;
    im->bias = bias;
    diag_trace(d, TRACE_FILES, "%s: reserved 0x%lx bytes at 0x%lx (load bias 0x%lx)", im->path,
               (unsigned long)len, (unsigned long)start, (unsigned long)bias);
    return 0;
}

/* Map the file-backed pages of one segment: from the fd, or copied from a memory image. */
static int map_file_part(struct image *im, const struct segment *sg, struct source *s, struct diag *d)
{
    uintptr_t page = vm_page_size();
    uintptr_t start = down(im->bias + sg->vaddr, page);
    uintptr_t end = up(im->bias + sg->vaddr + sg->filesz, page);
    uint64_t off = down(sg->offset, page);
    int prot = vm_prot_of(sg->flags);
    void *p;
    if (s->mem) {
        p = vm_mmap(im, start, end - start, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, d);
        if (p && p != MAP_FAILED)
            memcpy(p, s->mem + off, (size_t)(sg->offset + sg->filesz - off));
    } else {
        p = vm_mmap(im, start, end - start, prot, MAP_PRIVATE | MAP_FIXED, s->fd, (off_t)off, d);
    }
    if (!p)
        return -1;
    if (p == MAP_FAILED)
        return diag_fail(d, PLUGIN_ERR_IO, im->path, "cannot map segment at vaddr 0x%llx: %s",
                         (unsigned long long)sg->vaddr, strerror(errno));
    diag_trace_ev(d, TRACE_FILES, ev_segment(im->path, start, end - start, off, prot),
                  "%s: mapped %c%c%c 0x%lx-0x%lx from file offset 0x%llx%s", im->path,
                  (prot & PROT_READ) ? 'r' : '-', (prot & PROT_WRITE) ? 'w' : '-',
                  (prot & PROT_EXEC) ? 'x' : '-', (unsigned long)start, (unsigned long)end,
                  (unsigned long long)off, s->mem ? " (copied from memory)" : "");
    return 0;
}

/* Zero from p_filesz to p_memsz: the tail of the last file page, then whole anonymous pages. */
static int map_zero_part(struct image *im, const struct segment *sg, struct diag *d)
{
    uintptr_t page = vm_page_size();
    uintptr_t zstart = im->bias + sg->vaddr + sg->filesz;
    uintptr_t zpage = up(zstart, page), zend = up(im->bias + sg->vaddr + sg->memsz, page);
    int prot = vm_prot_of(sg->flags);
    if (sg->filesz && zstart < zpage) {
        uintptr_t pg = down(zstart, page);
        bool ro = !(prot & PROT_WRITE);
        if (ro && vm_protect(im, pg, page, PROT_READ | PROT_WRITE, d))
            return -1;
        memset((void *)zstart, 0, zpage - zstart);
        if (ro && vm_protect(im, pg, page, prot, d))
            return -1;
    }
    if (!sg->filesz)
        zpage = down(im->bias + sg->vaddr, page);
    if (zend > zpage) {
        void *p = vm_mmap(im, zpage, zend - zpage, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, d);
        if (!p)
            return -1;
        if (p == MAP_FAILED)
            return diag_fail(d, PLUGIN_ERR_IO, im->path, "cannot map zero pages at 0x%lx: %s",
                             (unsigned long)zpage, strerror(errno));
        diag_trace(d, TRACE_FILES, "%s: zero-filled 0x%lx-0x%lx (bss)", im->path, (unsigned long)zpage,
                   (unsigned long)zend);
    }
    return 0;
}

/* Copied pages get their real protection; copied code is made visible to instruction fetch
 * now, before any of it can run (an IFUNC resolver runs during relocation). */
static int finish_copy(struct image *im, const struct segment *sg, struct diag *d)
{
    uintptr_t page = vm_page_size();
    uintptr_t a = down(im->bias + sg->vaddr, page);
    if (sg->flags & SEG_X)
        im->arch->flush_icache(image_addr(im, sg->vaddr), (size_t)sg->filesz);
    if (sg->flags & SEG_W)
        return 0;
    return vm_protect(im, a, up(im->bias + sg->vaddr + sg->filesz, page) - a, vm_prot_of(sg->flags), d);
}

/* Populating pages relocation is about to write: each would otherwise be copied on its first
 * write, one page fault each; one madvise makes the same copies without a fault per page. Only
 * for a range of PREFAULT_MIN_PAGES or more (below that a fault or two costs no more than the
 * system call), inside one writable segment of a file mapping. A hint: when the kernel has no
 * MADV_POPULATE_WRITE (before Linux 5.14), nothing changes. Measured with make bench (fresh
 * processes): libcrypto's RELRO (97 pages) about 8% off the whole open, libLLVM's about 5-15%. */
enum { PREFAULT_MIN_PAGES = 8 };

#if defined(MADV_POPULATE_WRITE) || defined(MADV_POPULATE_READ)
/* The pages of [vaddr, vaddr + len) of one of our mapped images, when they are PREFAULT_MIN_PAGES
 * or more and the range is of one segment as need says, populated with madvise(advice): the
 * number of pages, or 0 when nothing was done. */
static uintptr_t populate(const struct image *im, uint64_t vaddr, uint64_t len, enum range_need need,
                          int advice)
{
    uintptr_t page = vm_page_size();
    if (im->is_host || im->file_view || im->from_memory || !image_range_ok(im, vaddr, len, need))
        return 0;
    uintptr_t a = down(im->bias + vaddr, page), e = up(im->bias + vaddr + len, page);
    if ((e - a) / page < PREFAULT_MIN_PAGES || madvise((void *)a, e - a, advice) != 0)
        return 0;
    return (e - a) / page;
}
#endif

void vm_prefault(const struct image *im, uint64_t vaddr, uint64_t len, struct diag *d)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t pages = populate(im, vaddr, len, RANGE_WRITE, MADV_POPULATE_WRITE);
    if (pages)
        diag_trace(d, TRACE_RELOC, "%s: vaddr 0x%llx populated for relocation (%lu pages)", im->path,
                   (unsigned long long)vaddr, (unsigned long)pages);
#else
    (void)im, (void)vaddr, (void)len, (void)d;
#endif
}

/* The same for pages the loader is about to read through (relocation tables, unwind tables):
 * mapped with one madvise(MADV_POPULATE_READ) instead of a page fault each, inside one readable
 * file-backed part of a segment. Nothing is copied: the pages are the page cache's. true when it
 * was done. Measured in fresh processes, alternating with and without: while page faults were
 * slow on this machine, libcrypto and libLLVM opened about a quarter faster; while they were
 * fast, no difference either way. */
bool vm_prefetch(const struct image *im, uint64_t vaddr, uint64_t len)
{
#ifdef MADV_POPULATE_READ
    return populate(im, vaddr, len, RANGE_READ, MADV_POPULATE_READ) != 0;
#else
    (void)im, (void)vaddr, (void)len;
    return false;
#endif
}

int vm_map_image(struct image *im, struct source *s, struct diag *d)
{
    if (reserve(im, d))
        return -1;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if (sg->filesz && map_file_part(im, sg, s, d))
            goto fail;
        if (sg->memsz > sg->filesz && map_zero_part(im, sg, d))
            goto fail;
        if (s->mem && sg->filesz && finish_copy(im, sg, d))
            goto fail;
    }
    if (im->relro_memsz)        /* RELRO holds what relocation writes: the GOT, .data.rel.ro, ... */
        vm_prefault(im, im->relro_vaddr, im->relro_memsz, d);
    return 0;
fail:
    vm_unmap_image(im);
    return -1;
}

int vm_view_image(struct image *im, struct source *s, struct diag *d)
{
    if (s->mem) {
        im->file_view = s->mem;
        return 0;
    }
    void *p = s->size ? mmap(NULL, (size_t)s->size, PROT_READ, MAP_PRIVATE, s->fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED)
        return diag_fail(d, PLUGIN_ERR_IO, im->path, "cannot map the file to read it: %s", strerror(errno));
    im->file_view = p;
    im->map_len = (size_t)s->size;
    return 0;
}

void vm_unmap_image(struct image *im)
{
    if (im->file_view && !im->map_base && im->map_len && !im->is_host)   /* a dry run's view */
        munmap((void *)(uintptr_t)im->file_view, im->map_len);
    im->file_view = NULL;
    if (im->map_base)
        munmap(im->map_base, im->map_len);
    im->map_base = NULL;
    im->map_len = 0;
}

int vm_protect_image(struct image *im, struct diag *d)
{
    uintptr_t page = vm_page_size();
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if (sg->flags & SEG_X)
            im->arch->flush_icache(image_addr(im, sg->vaddr), (size_t)sg->memsz);
    }
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        uintptr_t a = down(im->bias + sg->vaddr, page), e = up(im->bias + sg->vaddr + sg->memsz, page);
        if (sg->ro_after && vm_protect(im, a, e - a, vm_prot_of(sg->flags & ~(uint32_t)SEG_W), d))
            return -1;
    }
    uintptr_t a, e;
    if (policy_relro_pages(im, &a, &e)) {
        if (vm_protect(im, a, e - a, PROT_READ, d))
            return -1;
        diag_trace(d, TRACE_RELOC, "%s: RELRO 0x%lx-0x%lx is now read-only", im->path, (unsigned long)a, (unsigned long)e);
    }
    return 0;
}
