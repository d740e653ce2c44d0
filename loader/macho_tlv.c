/*
 * macho_tlv.c — thread-local variables of Mach-O images (__thread, C++ thread_local).
 *
 * The linker leaves, for each variable, a descriptor in __thread_vars: { thunk, key, offset }.
 * Code reads a variable by calling descriptor->thunk(descriptor), which must return the address
 * of this thread's copy. At load we point every thunk at our getter (arch/<cpu>/tlv.c: it saves
 * every register the compiled code expects to survive, then calls macho_tlv_address) and set
 * key to the image's module number.
 *
 * Each thread gets, on its first access to a module, a block initialized from the module's
 * template: the initial contents (__thread_data) followed by zeros (__thread_bss). So threads that
 * existed before the plugin was opened work too. Blocks are freed at thread exit, after the
 * destructors registered with __tlv_atexit (C++ thread_local objects) ran, newest first.
 */
#include "macho.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_THREAD_LOCAL_REGULAR_ = 0x11, S_THREAD_LOCAL_ZEROFILL_ = 0x12, S_THREAD_LOCAL_VARIABLES_ = 0x13,
       MAX_MODULES = 1024 };

struct tlv_desc {
    void *(*thunk)(struct tlv_desc *);
    uint64_t key;
    uint64_t offset;
};

struct tlv_module {
    const uint8_t *init;        /* template: initial contents */
    size_t init_size, size;
    bool unused;                /* its image failed to load: no thread ever saw it, reusable */
};

struct tlv_dtor {
    void (*fn)(void *);
    void *obj;
    struct tlv_dtor *next;
};

struct tlv_thread {
    size_t n;
    uint8_t **blocks;
    struct tlv_dtor *dtors;
};

static struct tlv_module modules[MAX_MODULES];     /* written with the load lock held */
static size_t nmodules;
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

extern void *plugin_macho_tlv_get(struct tlv_desc *);
void *macho_tlv_address(struct tlv_desc *d) __attribute__((visibility("hidden")));
void macho_tlv_atexit(void (*fn)(void *), void *obj);

static void die(const char *why)
{
    /* A thread-local access has no way to report an error: like glibc's __tls_get_addr on
     * allocation failure, stop here rather than return an invalid address. */
    fprintf(stderr, "plugin: thread-local variable access failed: %s\n", why);
    abort();
}

static void thread_exit(void *p)
{
    struct tlv_thread *t = p;
    pthread_setspecific(thread_key, t);             /* destructors may read thread-locals */
    while (t->dtors) {
        struct tlv_dtor *d = t->dtors;
        t->dtors = d->next;
        d->fn(d->obj);
        free(d);
    }
    pthread_setspecific(thread_key, NULL);
    for (size_t i = 0; i < t->n; i++)
        free(t->blocks[i]);
    free(t->blocks);
    free(t);
}

static void make_key(void)
{
    if (pthread_key_create(&thread_key, thread_exit) != 0)
        die("pthread_key_create");
}

static struct tlv_thread *this_thread(void)
{
    pthread_once(&key_once, make_key);
    struct tlv_thread *t = pthread_getspecific(thread_key);
    if (!t && (!(t = calloc(1, sizeof *t)) || pthread_setspecific(thread_key, t) != 0))
        die("out of memory");
    return t;
}

void *macho_tlv_address(struct tlv_desc *d)
{
    struct tlv_thread *t = this_thread();
    size_t id = (size_t)d->key;
    if (id >= t->n) {
        uint8_t **b = realloc(t->blocks, (id + 1) * sizeof *b);
        if (!b)
            die("out of memory");
        memset(b + t->n, 0, (id + 1 - t->n) * sizeof *b);
        t->blocks = b;
        t->n = id + 1;
    }
    if (!t->blocks[id]) {
        const struct tlv_module *m = &modules[id];
        uint8_t *blk = malloc(m->size ? m->size : 1);
        if (!blk)
            die("out of memory");
        memcpy(blk, m->init, m->init_size);
        memset(blk + m->init_size, 0, m->size - m->init_size);
        t->blocks[id] = blk;
    }
    return t->blocks[id] + d->offset;
}

void macho_tlv_atexit(void (*fn)(void *), void *obj)
{
    struct tlv_thread *t = this_thread();
    struct tlv_dtor *d = malloc(sizeof *d);
    if (!d)
        die("out of memory");
    *d = (struct tlv_dtor){ fn, obj, t->dtors };
    t->dtors = d;
}

uint64_t macho_tlv_special(const char *sym)
{
    if (!strcmp(sym, "__tlv_bootstrap"))
        return (uint64_t)(uintptr_t)plugin_macho_tlv_get;
    if (!strcmp(sym, "__tlv_atexit"))
        return (uint64_t)(uintptr_t)macho_tlv_atexit;
    return 0;
}

/* The template's extent and the descriptor sections, from the section headers. */
struct tlv_layout {
    uint64_t lo, init_end, end;         /* template [lo, end), initialized up to init_end */
    uint64_t desc[8], desc_size[8];
    size_t ndesc;
};

static void scan_sections(const struct macho *m, struct tlv_layout *l)
{
    uint32_t off = 0;
    *l = (struct tlv_layout){ UINT64_MAX, 0, 0, { 0 }, { 0 }, 0 };
    for (uint32_t i = 0; i < m->ncmds; i++) {
        const uint8_t *c = m->cmds + off;
        uint32_t cmd, cmdsize, nsects;
        memcpy(&cmd, c, 4);
        memcpy(&cmdsize, c + 4, 4);
        off += cmdsize;
        if (cmd != 0x19)
            continue;
        memcpy(&nsects, c + 64, 4);
        for (uint32_t k = 0; k < nsects; k++) {
            uint64_t addr, size;
            uint32_t flags;
            memcpy(&addr, c + 72 + (size_t)k * 80 + 32, 8);
            memcpy(&size, c + 72 + (size_t)k * 80 + 40, 8);
            memcpy(&flags, c + 72 + (size_t)k * 80 + 64, 4);
            unsigned type = flags & 0xff;
            if (type == S_THREAD_LOCAL_VARIABLES_ && l->ndesc < 8) {
                l->desc[l->ndesc] = addr;
                l->desc_size[l->ndesc++] = size;
            } else if (type == S_THREAD_LOCAL_REGULAR_ || type == S_THREAD_LOCAL_ZEROFILL_) {
                l->lo = addr < l->lo ? addr : l->lo;
                l->end = addr + size > l->end ? addr + size : l->end;
                if (type == S_THREAD_LOCAL_REGULAR_ && addr + size > l->init_end)
                    l->init_end = addr + size;
            }
        }
    }
    if (l->lo == UINT64_MAX)
        l->lo = l->init_end = l->end = 0;
    if (l->init_end < l->lo)
        l->init_end = l->lo;
}

int macho_tlv_setup(struct image *im, struct diag *d)
{
    struct tlv_layout l;
    scan_sections(im->macho, &l);
    if (!l.ndesc)
        return 0;
    size_t id = 0;
    while (id < nmodules && !modules[id].unused)
        id++;
    if (id == MAX_MODULES)
        return diag_fail(d, PLUGIN_ERR_NOMEM, im->path, "too many images with thread-local variables");
    if (l.end > l.lo && !image_range_ok(im, l.lo, l.end - l.lo, RANGE_MAPPED))
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "thread-local template is outside the segments");
    for (size_t s = 0; s < l.ndesc; s++) {
        if (l.desc_size[s] % sizeof(struct tlv_desc) || !image_range_ok(im, l.desc[s], l.desc_size[s], RANGE_WRITE))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "__thread_vars at 0x%llx is malformed",
                             (unsigned long long)l.desc[s]);
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
    modules[id] = (struct tlv_module){ image_addr(im, l.lo), l.init_end - l.lo, l.end - l.lo, false };
    if (id == nmodules)
        nmodules++;
    im->macho->tlv_module = id + 1;
    diag_trace(d, "%s: thread-local template of %llu bytes, module %zu", im->path,
               (unsigned long long)(l.end - l.lo), id);
    return 0;
}

void macho_tlv_forget(struct image *im)
{
    if (im->macho && im->macho->tlv_module)
        modules[im->macho->tlv_module - 1].unused = true;
}

void *macho_tlv_lookup(const struct image *im, uint64_t desc_vaddr)
{
    if (!image_range_ok(im, desc_vaddr, sizeof(struct tlv_desc), RANGE_WRITE))
        return NULL;
    return macho_tlv_address(image_addr(im, desc_vaddr));
}
