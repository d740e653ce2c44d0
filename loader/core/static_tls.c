/*
 * static_tls.c — the static TLS pool: thread-local space that the host reserves for plugins
 * whose code reaches its own thread-local variables with the initial-exec model.
 *
 * Initial-exec code adds a constant to the thread pointer, so the variable must sit at the same
 * offset from the thread pointer in every thread: in static TLS, which the C library lays out
 * when the process starts and copies into every thread it creates. A loaded object cannot get new
 * room there without the C library's internals. What it can get is room the host already has:
 * a zero-initialized initial-exec __thread array of the executable (PLUGIN_STATIC_TLS_POOL in
 * plugin.h), registered here as (its address in the registering thread) - (thread pointer),
 * which is that same constant for every thread.
 *
 * A module's block is carved out of a pool (first fit, at a multiple of its alignment from the
 * pool's 64-byte aligned start) and kept for the life of the process: plugins are never
 * unloaded. A block is given back only when the open that carved it fails; the calling thread's
 * copy is then zeroed again (the only code of a failed open that may have run is its IFUNC
 * resolvers, in this thread), so the pool stays all zero in every thread wherever it is free.
 *
 * Which modules come here, and the rule on their initial image, is the front end's business
 * (loader/elf/elf_tls.c); tls.c serves a static module's block from here in every thread.
 */
#include "core/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { MAX_POOLS = 8, MAX_BLOCKS = 256 };

struct span {
    intptr_t tpoff;             /* start, as an offset from the thread pointer */
    size_t size;
};

static struct span pools[MAX_POOLS];
static struct span used[MAX_BLOCKS];
static size_t npools, nused;
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;

static bool overlaps(intptr_t a, size_t asz, intptr_t b, size_t bsz)
{
    return a < b + (intptr_t)bsz && b < a + (intptr_t)asz;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Checks what can be checked of a pool here: its alignment, its size, that it is unused (all
 * zero in this thread) and new. That it is static TLS is checked by the front end, against the
 * blocks the system loader reports, when it is first used. */
static int pool_add(unsigned char *pool, size_t size, struct diag *d)
{
    intptr_t tpoff = (intptr_t)((uintptr_t)pool - arch_thread_pointer());
    if (!pool || !size || size > PLUGIN_STATIC_TLS_MAX || (uintptr_t)pool % PLUGIN_STATIC_TLS_ALIGN)
        return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: static TLS pool %p of %zu bytes: it must be non-empty, "
                             "at most %u bytes and %u-byte aligned", (void *)pool, size,
                             PLUGIN_STATIC_TLS_MAX, PLUGIN_STATIC_TLS_ALIGN);
    for (size_t i = 0; i < npools; i++) {
        if (pools[i].tpoff == tpoff && pools[i].size == size)
            return 0;                                   /* registered twice: one pool */
        if (overlaps(pools[i].tpoff, pools[i].size, tpoff, size))
            return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: static TLS pool %p overlaps one registered before",
                                 (void *)pool);
    }
    if (!all_zero(pool, size))
        return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: static TLS pool %p is not all zero: it must be a "
                             "zero-initialized __thread array that nothing else uses", (void *)pool);
    if (npools == MAX_POOLS)
        return diag_fail_raw(d, PLUGIN_ERR_NOMEM, "plugin: more than %d static TLS pools", MAX_POOLS);
    pools[npools++] = (struct span){ tpoff, size };
    return 0;
}

PLUGIN_API int plugin_static_tls_pool(void *pool, size_t size, plugin_error *err)
{
    plugin_error mine = { PLUGIN_OK, "" };
    struct diag d = { .err = &mine };
    pthread_mutex_lock(&pool_mutex);
    int rc = pool_add(pool, size, &d);
    pthread_mutex_unlock(&pool_mutex);
    if (err)
        *err = mine;
    return rc;
}

/* The lowest offset k >= 0 in pool p, a multiple of align, where [k, k + size) is free: start
 * at 0 and move past every carved block in the way until none is. */
static bool fit_in(const struct span *p, size_t size, size_t align, intptr_t *out)
{
    size_t k = 0;
    bool moved = true;
    while (moved && k <= p->size && size <= p->size - k) {
        moved = false;
        for (size_t i = 0; i < nused && !moved; i++)
            if (overlaps(p->tpoff + (intptr_t)k, size, used[i].tpoff, used[i].size)) {
                k = (size_t)(used[i].tpoff + (intptr_t)used[i].size - p->tpoff);
                k = (k + align - 1) & ~(align - 1);
                moved = true;
            }
    }
    if (moved)
        return false;
    *out = p->tpoff + (intptr_t)k;
    return true;
}

int tls_static_reserve(size_t size, size_t align, intptr_t *tpoff)
{
    int rc = -1;
    if (!size)
        size = 1;                                       /* a distinct address all the same */
    if (!align)
        align = 1;
    pthread_mutex_lock(&pool_mutex);
    for (size_t i = 0; i < npools && rc && nused < MAX_BLOCKS && align <= PLUGIN_STATIC_TLS_ALIGN; i++)
        if (fit_in(&pools[i], size, align, tpoff)) {
            used[nused++] = (struct span){ *tpoff, size };
            rc = 0;
        }
    pthread_mutex_unlock(&pool_mutex);
    return rc;
}

void tls_static_release(intptr_t tpoff, size_t size)
{
    if (!size)
        size = 1;
    pthread_mutex_lock(&pool_mutex);
    for (size_t i = 0; i < nused; i++)
        if (used[i].tpoff == tpoff) {
            memset((void *)(arch_thread_pointer() + (uintptr_t)tpoff), 0, size);
            used[i] = used[--nused];
            break;
        }
    pthread_mutex_unlock(&pool_mutex);
}

/* For messages: the pools' total size and how much of it is not carved out. */
void tls_static_usage(size_t *total, size_t *free_bytes)
{
    pthread_mutex_lock(&pool_mutex);
    *total = *free_bytes = 0;
    for (size_t i = 0; i < npools; i++) {
        *total += pools[i].size;
        *free_bytes += pools[i].size;
        for (size_t j = 0; j < nused; j++)
            if (overlaps(pools[i].tpoff, pools[i].size, used[j].tpoff, used[j].size))
                *free_bytes -= used[j].size;
    }
    pthread_mutex_unlock(&pool_mutex);
}
