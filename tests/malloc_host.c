/*
 * malloc_host.c — a program that replaces malloc, as glibc allows (malloc, free, calloc, realloc
 * defined by the executable), and loads a thread-local storage fixture (fixtures/tls/tls_vars.c).
 * glibc's ld.so takes the thread-local blocks of a dlopen'ed object from the process's malloc;
 * so must we: every thread's block of the plugin must be one of the allocations this program's
 * malloc handed out, of the size the fixture's PT_TLS asks for, and must come back to its free
 * when the thread exits. Run by tests/elf/test_tls_malloc.c; prints what it saw, exits 0 when
 * all of it holds.
 *
 *     malloc_host PLUGIN
 *
 * The replacement counts and records, then forwards to glibc's own allocator (__libc_malloc and
 * friends), so the process works as usual. Never sanitized: ASan would replace malloc itself.
 */
#include "plugin.h"

#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

/* What the replacement saw while recording: every allocation (pointer, size) and every pointer
 * freed. Fixed arrays: the allocator must not allocate. */
enum { MAX_SEEN = 4096 };
static struct { void *p; size_t size; } allocs[MAX_SEEN];
static void *frees[MAX_SEEN];
static atomic_int nallocs, nfrees, recording;
static atomic_long total_calls;

static void note_alloc(void *p, size_t size)
{
    atomic_fetch_add(&total_calls, 1);
    if (!p || !atomic_load(&recording))
        return;
    int i = atomic_fetch_add(&nallocs, 1);
    if (i < MAX_SEEN)
        allocs[i].p = p, allocs[i].size = size;
}

void *malloc(size_t size)
{
    void *p = __libc_malloc(size);
    note_alloc(p, size);
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    note_alloc(p, n * size);
    return p;
}

void *realloc(void *old, size_t size)
{
    void *p = __libc_realloc(old, size);
    note_alloc(p, size);
    return p;
}

void free(void *p)
{
    if (p && atomic_load(&recording)) {
        int i = atomic_fetch_add(&nfrees, 1);
        if (i < MAX_SEEN)
            frees[i] = p;
    }
    __libc_free(p);
}

/* The fixture's PT_TLS, read from the file: the block size malloc must have been asked for is
 * p_memsz, plus p_align when that is more than malloc's own alignment (the block is aligned by
 * hand inside a larger allocation, as glibc does). */
static int tls_request(const char *path, size_t *size)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
        return -1;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
            break;
        if (ph.p_type == PT_TLS) {
            close(fd);
            *size = ph.p_memsz + (ph.p_align > _Alignof(max_align_t) ? ph.p_align : 0);
            return 0;
        }
    }
    close(fd);
    return -1;
}

static int *(*addr_global)(void);
static int (*get_global)(void);
static pthread_barrier_t all_touched;              /* the three blocks exist at the same time */

static void *touch(void *out)
{
    *(int **)out = addr_global();
    bool ok = get_global() == 7;                   /* this thread's copy has the initial value */
    pthread_barrier_wait(&all_touched);
    return ok ? out : NULL;
}

/* The recorded allocation that contains addr, or -1. */
static int alloc_containing(const void *addr)
{
    int n = atomic_load(&nallocs);
    for (int i = 0; i < n && i < MAX_SEEN; i++)
        if ((const char *)addr >= (const char *)allocs[i].p &&
            (const char *)addr < (const char *)allocs[i].p + allocs[i].size)
            return i;
    return -1;
}

static bool was_freed(const void *p)
{
    int n = atomic_load(&nfrees);
    for (int i = 0; i < n && i < MAX_SEEN; i++)
        if (frees[i] == p)
            return true;
    return false;
}

/* Open the plugin, then touch its thread-locals from this thread and two new ones. */
static int run(const char *path, size_t want, int *ok_blocks, int *ok_freed)
{
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    if (!p) {
        printf("open failed: %s\n", err.message);
        return -1;
    }
    addr_global = (int *(*)(void))plugin_lookup(p, "addr_global", NULL);
    get_global = (int (*)(void))plugin_lookup(p, "get_global", NULL);
    if (!addr_global || !get_global) {
        printf("addr_global or get_global not found\n");
        return -1;
    }
    int *addr[3] = { NULL, NULL, NULL };
    pthread_t t[2];
    pthread_barrier_init(&all_touched, NULL, 3);
    atomic_store(&recording, 1);
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, touch, &addr[i + 1]) != 0)
            return -1;
    bool main_ok = touch(&addr[0]) != NULL;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        main_ok = main_ok && r;
    }
    atomic_store(&recording, 0);
    if (addr[0] == addr[1] || addr[1] == addr[2] || addr[0] == addr[2]) {
        printf("two threads share a block: %p %p %p\n", (void *)addr[0], (void *)addr[1], (void *)addr[2]);
        return -1;
    }
    for (int k = 0; k < 3; k++) {
        int i = alloc_containing(addr[k]);
        printf("thread %d: tv_global at %p, %s", k, (void *)addr[k], i < 0 ? "in no allocation of ours\n" : "");
        if (i < 0)
            continue;
        printf("in malloc'ed %p, %zu bytes (want %zu)%s\n", allocs[i].p, allocs[i].size, want,
               k && was_freed(allocs[i].p) ? ", freed at thread exit" : "");
        *ok_blocks += allocs[i].size == want;
        *ok_freed += k && was_freed(allocs[i].p);
    }
    return main_ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    size_t want;
    if (argc != 2) {
        fprintf(stderr, "usage: malloc_host PLUGIN\n");
        return 2;
    }
    if (tls_request(argv[1], &want) != 0) {
        printf("%s has no PT_TLS\n", argv[1]);
        return 1;
    }
    int ok_blocks = 0, ok_freed = 0;
    if (run(argv[1], want, &ok_blocks, &ok_freed) != 0)
        return 1;
    printf("blocks from our malloc: %d of 3; freed by our free: %d of 2; malloc family calls: %ld\n",
           ok_blocks, ok_freed, atomic_load(&total_calls));
    return ok_blocks == 3 && ok_freed == 2 ? 0 : 1;
}
