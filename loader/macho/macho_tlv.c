/*
 * macho_tlv.c — thread-local variables of Mach-O images (__thread, C++ thread_local).
 *
 * The linker leaves, for each variable, a descriptor in __thread_vars: { thunk, key, offset }.
 * Code reads a variable by calling descriptor->thunk(descriptor), which must return the address
 * of this thread's copy. At load we point every thunk at our getter (arch/<cpu>/tlv.c: it saves
 * every register the compiled code expects to survive, then calls macho_tlv_address) and set
 * key to the image's module number.
 *
 * Before anything is registered or written, each descriptor table must be 8-byte aligned, hold
 * whole descriptors and lie in writable memory, and the template must lie inside the image (its
 * sections were checked to lie inside their segments when the headers were read).
 *
 * The per-thread blocks are loader/core/tls.c's: a module's template is the initial contents
 * (__thread_data) followed by zeros (__thread_bss); __tlv_atexit registers C++ thread_local
 * destructors there.
 */
#include "macho/macho.h"

#include <string.h>

enum { S_THREAD_LOCAL_REGULAR_ = 0x11, S_THREAD_LOCAL_ZEROFILL_ = 0x12, S_THREAD_LOCAL_VARIABLES_ = 0x13 };

struct tlv_desc {
    void *(*thunk)(struct tlv_desc *);
    uint64_t key;               /* our module number (loader/core/tls.c) */
    uint64_t offset;
};

extern void *plugin_macho_tlv_get(struct tlv_desc *);
void *macho_tlv_address(struct tlv_desc *d) __attribute__((visibility("hidden")));

void *macho_tlv_address(struct tlv_desc *d)
{
    return tls_block((size_t)d->key) + d->offset;
}

uint64_t macho_tlv_special(const char *sym)
{
    if (!strcmp(sym, "__tlv_bootstrap"))
        return (uint64_t)(uintptr_t)plugin_macho_tlv_get;
    if (!strcmp(sym, "__tlv_atexit"))
        return (uint64_t)(uintptr_t)tls_atexit;
    return 0;
}

/* The template's extent and the descriptor sections, from the section headers (each inside its
 * segment, so addr + size does not wrap: macho_header.c). */
struct tlv_layout {
    uint64_t lo, init_end, end;         /* template [lo, end), initialized up to init_end */
    uint64_t desc[8], desc_size[8];
    size_t ndesc;
};

static void scan_sections(const struct macho *m, struct tlv_layout *l)
{
    *l = (struct tlv_layout){ UINT64_MAX, 0, 0, { 0 }, { 0 }, 0 };
    for (size_t i = 0; i < m->nsects; i++) {
        uint64_t addr = m->sects[i].addr, size = m->sects[i].size;
        unsigned type = m->sects[i].flags & 0xff;
        if (type == S_THREAD_LOCAL_VARIABLES_) {
            if (l->ndesc < 8)
                l->desc[l->ndesc] = addr, l->desc_size[l->ndesc] = size;
            l->ndesc++;
        } else if (type == S_THREAD_LOCAL_REGULAR_ || type == S_THREAD_LOCAL_ZEROFILL_) {
            l->lo = addr < l->lo ? addr : l->lo;
            l->end = addr + size > l->end ? addr + size : l->end;
            if (type == S_THREAD_LOCAL_REGULAR_ && addr + size > l->init_end)
                l->init_end = addr + size;
        }
    }
    if (l->lo == UINT64_MAX)
        l->lo = l->init_end = l->end = 0;
    if (l->init_end < l->lo)
        l->init_end = l->lo;
}

/* Before anything is registered or written: the template inside the image, every descriptor
 * table 8-byte aligned (struct tlv_desc is written through), whole descriptors, writable. */
static int check_layout(const struct image *im, const struct tlv_layout *l, struct diag *d)
{
    if (l->ndesc > 8)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path, "%zu __thread_vars sections (at most 8)", l->ndesc);
    if (l->end < l->lo || (l->end > l->lo && !image_range_ok(im, l->lo, l->end - l->lo, RANGE_MAPPED)))
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "thread-local template is outside the segments");
    for (size_t s = 0; s < l->ndesc; s++) {
        if (l->desc[s] % _Alignof(struct tlv_desc))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "__thread_vars at 0x%llx is not 8-byte aligned",
                             (unsigned long long)l->desc[s]);
        if (l->desc_size[s] % sizeof(struct tlv_desc) || !image_range_ok(im, l->desc[s], l->desc_size[s], RANGE_WRITE))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "__thread_vars at 0x%llx is malformed",
                             (unsigned long long)l->desc[s]);
    }
    return 0;
}

int macho_tlv_setup(struct image *im, struct diag *d)
{
    struct tlv_layout l;
    scan_sections(macho_of(im), &l);
    if (!l.ndesc)
        return 0;
    size_t id;
    if (check_layout(im, &l, d))
        return -1;
    if (tls_module_add(image_addr(im, l.lo), l.init_end - l.lo, l.end - l.lo, 16, &id))
        return diag_fail(d, PLUGIN_ERR_NOMEM, im->path, "too many modules with thread-local storage");
    macho_of(im)->tlv_module = id + 1;
    for (size_t s = 0; s < l.ndesc; s++) {
        struct tlv_desc *v = image_addr(im, l.desc[s]);
        for (size_t k = 0; k < l.desc_size[s] / sizeof *v; k++) {
            if (v[k].offset >= l.end - l.lo)
                return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "thread-local variable %zu has offset 0x%llx "
                                 "past its template (0x%llx bytes)", k, (unsigned long long)v[k].offset,
                                 (unsigned long long)(l.end - l.lo));
            v[k].thunk = plugin_macho_tlv_get;
            v[k].key = id;
        }
    }
    arch_tlv_init();
    diag_trace(d, TRACE_FILES, "%s: thread-local template of %llu bytes, module %zu", im->path,
               (unsigned long long)(l.end - l.lo), id);
    return 0;
}

void macho_tlv_forget(struct image *im)
{
    if (macho_of(im) && macho_of(im)->tlv_module)
        tls_module_forget(macho_of(im)->tlv_module - 1);
}

void *macho_tlv_lookup(const struct image *im, uint64_t desc_vaddr)
{
    if (!image_range_ok(im, desc_vaddr, sizeof(struct tlv_desc), RANGE_WRITE))
        return NULL;
    return macho_tlv_address(image_addr(im, desc_vaddr));
}
