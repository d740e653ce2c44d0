/*
 * tls.c — thread-local storage blocks of the objects we load (ELF PT_TLS and Mach-O
 * __thread_data/__thread_bss), one per module and thread, created on first use.
 *
 * A module is a template: initial contents, total size, alignment. A thread's block for it is
 * allocated the first time that thread touches the module (so threads that existed before the
 * object was opened work too), copied from the template and zero-filled, and freed when the
 * thread exits — after the destructors registered for that thread (Mach-O __tlv_atexit, C++
 * thread_local) ran, newest first. glibc's own modules never come here: their numbers are
 * small, ours start at TLS_MODULE_BASE (see elf_tls.c).
 *
 * A static module (tls_module_make_static: code of its object uses the initial-exec model) has
 * no such blocks: its block is carved out of the host's static TLS pool (static_tls.c), at the
 * same offset from the thread pointer in every thread, and tls_block returns that address.
 * Everything is taken from the process's malloc family (malloc, calloc, realloc, free), as
 * glibc's ld.so takes thread-local blocks and DTVs: a program that replaces malloc sees them.
 */
#include "core/internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_MODULES = 4096 };

struct tls_module {
    const uint8_t *init;        /* template: initial contents */
    size_t init_size, size, align;
    bool unused;                /* its image failed to load: no thread ever saw it, reusable */
    bool is_static;             /* served from the static TLS pool, at tpoff from the thread pointer */
    intptr_t tpoff;
};

struct tls_dtor {
    void (*fn)(void *);
    void *obj;
    struct tls_dtor *next;
};

/* One thread's block of one module: where it starts, and what malloc returned (to free). */
struct tls_block {
    uint8_t *val;
    void *to_free;
};

struct tls_thread {
    size_t n;
    struct tls_block *blocks;
    struct tls_dtor *dtors;
};

static struct tls_module modules[MAX_MODULES];     /* written with the load lock held */
static size_t nmodules;
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void die(const char *why)
{
    /* A thread-local access has no way to report an error: like glibc's __tls_get_addr on
     * allocation failure, stop here rather than return an invalid address. */
    fprintf(stderr, "plugin: thread-local storage access failed: %s\n", why);
    abort();
}

static void thread_exit(void *p)
{
    struct tls_thread *t = p;
    pthread_setspecific(thread_key, t);             /* destructors may read thread-locals */
    while (t->dtors) {
        struct tls_dtor *d = t->dtors;
        t->dtors = d->next;
        d->fn(d->obj);
        free(d);
    }
    pthread_setspecific(thread_key, NULL);
    for (size_t i = 0; i < t->n; i++)
        free(t->blocks[i].to_free);
    free(t->blocks);
    free(t);
}

static void make_key(void)
{
    if (pthread_key_create(&thread_key, thread_exit) != 0)
        die("pthread_key_create");
}

static struct tls_thread *this_thread(void)
{
    pthread_once(&key_once, make_key);
    struct tls_thread *t = pthread_getspecific(thread_key);
    if (!t && (!(t = calloc(1, sizeof *t)) || pthread_setspecific(thread_key, t) != 0))
        die("out of memory");
    return t;
}

/* A block of size bytes aligned to align, from malloc as glibc's dl-tls.c takes it: the process's
 * malloc (one that a program interposes sees every block), which aligns to
 * _Alignof(max_align_t); a larger alignment is made by asking align bytes more and rounding the
 * pointer up (posix_memalign is not among the functions an interposing malloc must provide). */
static struct tls_block new_block(size_t size, size_t align)
{
    bool plain = align <= _Alignof(max_align_t);
    size_t n = size + (plain ? 0 : align);
    if (n < size || (align & (align - 1)))
        die("thread-local block too large or misaligned");
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    uintptr_t a = plain ? (uintptr_t)p : ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    return (struct tls_block){ (uint8_t *)a, p };
}

uint8_t *tls_block(size_t id)
{
    if (modules[id].is_static)
        return (uint8_t *)(arch_thread_pointer() + (uintptr_t)modules[id].tpoff);
    struct tls_thread *t = this_thread();
    if (id >= t->n) {
        struct tls_block *b = realloc(t->blocks, (id + 1) * sizeof *b);
        if (!b)
            die("out of memory");
        memset(b + t->n, 0, (id + 1 - t->n) * sizeof *b);
        t->blocks = b;
        t->n = id + 1;
    }
    if (!t->blocks[id].val) {
        const struct tls_module *m = &modules[id];
        struct tls_block blk = new_block(m->size, m->align);
        memcpy(blk.val, m->init, m->init_size);
        memset(blk.val + m->init_size, 0, m->size - m->init_size);
        t->blocks[id] = blk;
    }
    return t->blocks[id].val;
}

void tls_atexit(void (*fn)(void *), void *obj)
{
    struct tls_thread *t = this_thread();
    struct tls_dtor *d = malloc(sizeof *d);
    if (!d)
        die("out of memory");
    *d = (struct tls_dtor){ fn, obj, t->dtors };
    t->dtors = d;
}

int tls_module_add(const void *init, size_t init_size, size_t size, size_t align, size_t *id)
{
    size_t i = 0;
    while (i < nmodules && !modules[i].unused)
        i++;
    if (i == MAX_MODULES || init_size > size)
        return -1;
    modules[i] = (struct tls_module){ .init = init, .init_size = init_size, .size = size, .align = align };
    if (i == nmodules)
        nmodules++;
    *id = i;
    return 0;
}

void tls_module_forget(size_t id)
{
    if (id >= nmodules)
        return;
    if (modules[id].is_static)
        tls_static_release(modules[id].tpoff, modules[id].size);
    modules[id].is_static = false;
    modules[id].unused = true;
}

/* Load lock held, before any code of the module's object ran (no thread has a block of it). */
int tls_module_make_static(size_t id, intptr_t *tpoff)
{
    struct tls_module *m = &modules[id];
    if (!m->is_static && tls_static_reserve(m->size, m->align, &m->tpoff))
        return -1;
    m->is_static = true;
    *tpoff = m->tpoff;
    return 0;
}

bool tls_module_static(size_t id, intptr_t *tpoff)
{
    *tpoff = modules[id].tpoff;
    return modules[id].is_static;
}
