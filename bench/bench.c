/*
 * bench.c — plugin_open / plugin_lookup against glibc's dlopen(RTLD_NOW | RTLD_LOCAL) / dlsym.
 *
 * One run measures every case with both loaders under the same conditions and prints a table:
 * case, both medians, the ratio (plugin / glibc) and each side's spread (min..max); the same
 * results go to bench.csv and bench.json in the output directory (bench/plot.gp draws them).
 * Timings are printed, never asserted.
 *
 *   cold open     Both loaders cache handles, so every cold open happens in a fresh child
 *                 process (fork; the child times exactly one open, initializers included;
 *                 COLD_RUNS children, fewer for very large objects). "first use": the open is the
 *                 first call into the loader in that process. "warm loader": the child first opens
 *                 another copy of the small plugin with the same loader (bench_plugin_warm.so,
 *                 bench_plugin_glibc_warm.so), so the loader's code, its imports and its view of
 *                 the process are warm on both sides, and only the cost of opening the file remains.
 *   growth        cold opens (warm loader) of generated objects with 1k .. 1M relative and a tenth
 *                 as many symbolic relocations (bench/gen_relocs.sh): time against relocations.
 *   floor         under every cold and growth row: the kernel work any loader must do for that
 *                 open, measured by a "floor loader" in fresh children alternating with the two
 *                 loaders. The parent (untimed) reads the object and each dependency not yet in
 *                 the process: PT_LOAD, PT_GNU_RELRO, and the distinct pages that DT_RELA,
 *                 DT_JMPREL and DT_RELR relocations write. The child then does, per object, only:
 *                 open, pread of 4096 bytes, fstat, a PROT_NONE reservation of the span, one
 *                 MAP_FIXED file mapping per PT_LOAD with its final protection, the bss (the rest
 *                 of the last file page zeroed, anonymous pages after it, as glibc), a read and
 *                 write-back of one word in each relocated page (its fault and copy), or for a
 *                 run of 8 or more consecutive relocated pages one madvise(MADV_POPULATE_WRITE)
 *                 (as plugin_open does, so the floor stays below both loaders), mprotect of
 *                 RELRO, close. No loader warm-up, but the floor of bench_plugin_warm.so first,
 *                 untimed, so the child's own first-call costs (code pages faulted in after fork,
 *                 lazily bound libc calls) stay outside, as in the warm-loader rows. Its ratio is
 *                 floor / glibc; "plugin-floor" and "glibc-floor" are each loader's time above it
 *                 (lookup, relocation arithmetic, bookkeeping, initializers). A floor row fails
 *                 (n/a) on any surprise: REL tables, text relocations, a dependency not found.
 *   reopen        plugin_open / dlopen of an absolute path that is already open, ns per call.
 *   lookup        plugin_lookup / dlsym of a defined symbol, and of 16 missing ones in turn, ns per call.
 *   addr_info     plugin_addr_info / dladdr of an address inside a function of libcrypto.
 *   memory        bytes per loaded object: a fresh child opens 100 copies of the small plugin;
 *                 RSS (resident pages) and heap (mallinfo2) before and after, divided by 100.
 *   trace         what tracing costs, plugin_open against itself: the cold open (warm loader) of
 *                 the generated object with 100k relative and 10k symbolic relocations (10k
 *                 bindings, each an event) with a trace callback that does nothing (the "plugin"
 *                 column) and without one (the "glibc" column, here plugin_open too), alternating.
 *                 Not libcrypto: the parent process has it open (addr_info), so a child's open of
 *                 it would be a reopen.
 * Repeated measurements (reopen, lookup) run REPEATS times; the spread is over those.
 *
 * Each loader opens its own copy of every generated object (…so and …_glibc.so: same bytes,
 * different files): plugin_open returns the system loader's object when glibc already has the
 * file, which would turn one side into the other. System libraries (libz, libsqlite3, libcrypto,
 * the largest libLLVM) are opened by both from the same path, each in its own child. libz.so.1
 * must not already be in the process: the benchmark links libelf and zlib statically.
 *
 * usage: bench [DIR [OUT]]   DIR holds the benchmark's objects (default BENCH_DIR); OUT receives
 *                            bench.csv and bench.json (default DIR).
 * Tests and benchmarks may call dlopen, but only as an oracle to compare against.
 */
#include "plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <malloc.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_DIR
#define BENCH_DIR "build/bench"
#endif
#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#endif
#define LIBDIR "/usr/lib/" MULTIARCH

enum { PATH_BUF = PATH_MAX + 64 };     /* a directory of PATH_MAX and a file name */
enum { COLD_RUNS = 31, BIG_RUNS = 9, REPEATS = 7, REOPEN_ITERS = 100000, LOOKUP_ITERS = 500000, MAX_ROWS = 64 };

/* One loader, seen through the same three operations. */
struct loader {
    const char *name;
    void *(*open)(const char *path);
    void *(*sym)(void *handle, const char *name);
    void (*warm)(void);
};

struct stats {
    double median, min, max;    /* ns; median < 0: the case failed for this loader */
};

struct row {
    char what[128];
    const char *kind;           /* cold, growth, floor, reopen, lookup, addr_info, memory */
    long relocs;                /* growth (and its floor): relocations of the object, else 0 */
    struct stats p, g;          /* floor: p is the floor, g glibc's time of the row it is under */
    const struct row *of;       /* floor: the cold or growth row it is the floor of */
    long pages;                 /* floor: pages relocations write (-1: no floor), else 0 */
    size_t objects;             /* floor: objects mapped (the object and its new dependencies) */
};

static struct row rows[MAX_ROWS];
static size_t nrows;
static volatile uintptr_t sink;     /* keeps results alive so no call is optimized away */

static struct row *add_row(const char *kind, long relocs, const char *fmt, const char *arg)
{
    if (nrows == MAX_ROWS)
        return NULL;
    struct row *r = &rows[nrows++];
    r->kind = kind;
    r->relocs = relocs;
    snprintf(r->what, sizeof r->what, fmt, arg);
    return r;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *plugin_open_path(const char *path)
{
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    if (!p)
        fprintf(stderr, "bench: %s\n", err.message);
    return p;
}

static void *plugin_sym(void *h, const char *name)
{
    return plugin_lookup(h, name, NULL);
}

static char warm_plugin[PATH_MAX + 64], warm_glibc[PATH_MAX + 64];  /* set by main */

static void plugin_warm(void)
{
    sink += (uintptr_t)plugin_open_path(warm_plugin);
}

static void *glibc_open(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "bench: %s\n", dlerror());
    return h;
}

static void *glibc_sym(void *h, const char *name)
{
    return dlsym(h, name);
}

static void glibc_warm(void)
{
    sink += (uintptr_t)glibc_open(warm_glibc);
}

/* plugin_open with a trace callback that only reads each event: the cost of building them. */
static void nop_trace(void *ctx, const struct plugin_trace_event *ev)
{
    (void)ctx;
    sink += ev->ns;
}

static void *plugin_open_traced(const char *path)
{
    struct plugin_options o = { .trace = nop_trace };
    plugin_error err;
    plugin *p = plugin_open_with(path, &o, &err);
    if (!p)
        fprintf(stderr, "bench: %s\n", err.message);
    return p;
}

static const struct loader PLUGIN = { "plugin", plugin_open_path, plugin_sym, plugin_warm };
static const struct loader PLUGIN_TRACED = { "plugin (traced)", plugin_open_traced, plugin_sym, plugin_warm };
static const struct loader GLIBC = { "glibc", glibc_open, glibc_sym, glibc_warm };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct stats stats_of(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return (struct stats){ t[n / 2], t[0], t[n - 1] };
}

static const struct stats FAILED = { -1, -1, -1 };

/* Runs timed(ctx) once in a fresh child (fork) and returns what it returned there (ns, or -1
 * if it failed), or -1 if the child itself failed. */
static double in_fresh_child(double (*timed)(const void *ctx), const void *ctx)
{
    int fds[2];
    double t = -1;
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        double ns = timed(ctx);
        _exit(write(fds[1], &ns, sizeof ns) == (ssize_t)sizeof ns ? 0 : 1);
    }
    close(fds[1]);
    int status = 0;
    bool got = pid > 0 && read(fds[0], &t, sizeof t) == (ssize_t)sizeof t;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    return got && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

struct open_case {
    const struct loader *l;
    const char *path, *sym;
    bool warm;
};

/* In the child: (warm up,) time one open, check it with a lookup; the time, or -1. */
static double timed_open(const void *ctx)
{
    const struct open_case *c = ctx;
    if (c->warm)
        c->l->warm();
    uint64_t t0 = now_ns();
    void *h = c->l->open(c->path);
    uint64_t t1 = now_ns();
    return (h && c->l->sym(h, c->sym)) ? (double)(t1 - t0) : -1.0;
}

/* One cold open in a fresh child: its time, or -1. */
static double cold_once(const struct loader *l, const char *path, const char *sym, bool warm)
{
    return in_fresh_child(timed_open, &(struct open_case){ l, path, sym, warm });
}

/* ---- The floor: the kernel work any loader must do for a cold open ----
 *
 * The parent reads the object and every dependency that is not in the process yet (untimed) and
 * plans what a loader must ask of the kernel for each; a fresh child then does only that, timed
 * (timed_floor). Everything else a loader does (symbol lookup, the arithmetic of relocation, its
 * bookkeeping, running initializers) is user-space work on top of this floor. */

enum { FLOOR_OBJECTS = 32, FLOOR_SEGS = 16, FLOOR_NEEDED = 64 };
static const uint64_t FLOOR_VMAX = (uint64_t)1 << 40;    /* larger addresses or sizes: a surprise */

#if defined(__x86_64__)
#define FLOOR_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define FLOOR_MACHINE EM_AARCH64
#endif

struct floor_seg {              /* one PT_LOAD */
    uint64_t vaddr, filesz, memsz, offset;
    int prot;                   /* final protection */
};

/* One object as the floor child maps it (addresses are the object's own, before the bias). */
struct floor_obj {
    char path[PATH_BUF], name[NAME_MAX + 1];
    uint64_t lo, span;                  /* the first page, and the bytes to reserve from it */
    struct floor_seg seg[FLOOR_SEGS];
    size_t nseg;
    uint64_t relro, relro_end;          /* pages made read-only after relocation */
    uint64_t *pages;                    /* every page a relocation writes, ascending */
    size_t npages;
};

struct floor_plan {
    struct floor_obj obj[FLOOR_OBJECTS];   /* the object first, then its new dependencies */
    size_t nobj, pages;                    /* pages: relocated pages of all objects */
};

/* An ELF file mapped read-only in the parent. */
struct elf_file {
    const unsigned char *data;
    size_t size;
    const Elf64_Phdr *ph;
    size_t phnum;
};

/* The dynamic entries the floor needs (addresses are vaddrs). */
struct dyn_info {
    uint64_t rela, relasz, jmprel, pltrelsz, relr, relrsz, strtab, strsz;
    uint64_t needed[FLOOR_NEEDED];      /* DT_NEEDED: offsets into the string table */
    size_t nneeded;
};

static uint64_t page_size(void)
{
    static uint64_t size;
    if (!size)
        size = (uint64_t)sysconf(_SC_PAGESIZE);
    return size;
}

static uint64_t page_down(uint64_t a)
{
    return a & ~(page_size() - 1);
}

static uint64_t page_up(uint64_t a)
{
    return page_down(a + page_size() - 1);
}

/* The header is this machine's, and every program header and PT_LOAD lies inside the file. */
static bool elf_check(struct elf_file *ef)
{
    Elf64_Ehdr eh;
    memcpy(&eh, ef->data, sizeof eh);
    int data = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != data ||
        eh.e_type != ET_DYN || eh.e_machine != FLOOR_MACHINE || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phoff % 8 || eh.e_phoff > ef->size || eh.e_phnum > (ef->size - eh.e_phoff) / sizeof(Elf64_Phdr))
        return false;
    ef->ph = (const Elf64_Phdr *)(ef->data + eh.e_phoff);
    ef->phnum = eh.e_phnum;
    for (size_t i = 0; i < ef->phnum; i++) {
        const Elf64_Phdr *p = &ef->ph[i];
        if (p->p_type == PT_LOAD && (p->p_offset > ef->size || p->p_filesz > ef->size - p->p_offset ||
                                     p->p_filesz > p->p_memsz || p->p_vaddr > FLOOR_VMAX || p->p_memsz > FLOOR_VMAX))
            return false;
    }
    return true;
}

static bool elf_open(const char *path, struct elf_file *ef)
{
    struct stat st;
    *ef = (struct elf_file){ 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(Elf64_Ehdr);
    void *p = ok ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED)
        return false;
    ef->data = p;
    ef->size = (size_t)st.st_size;
    return elf_check(ef);
}

static void elf_close(struct elf_file *ef)
{
    if (ef->data)
        munmap((void *)ef->data, ef->size);
}

/* The file's bytes behind [vaddr, vaddr + n), which must lie in the file part of one PT_LOAD and
 * be aligned to align; or NULL. */
static const void *elf_at(const struct elf_file *ef, uint64_t vaddr, uint64_t n, uint64_t align)
{
    for (size_t i = 0; i < ef->phnum; i++) {
        const Elf64_Phdr *p = &ef->ph[i];
        if (p->p_type != PT_LOAD || vaddr < p->p_vaddr || vaddr - p->p_vaddr > p->p_filesz ||
            n > p->p_filesz - (vaddr - p->p_vaddr))
            continue;
        uint64_t off = p->p_offset + (vaddr - p->p_vaddr);
        return off % align ? NULL : ef->data + off;
    }
    return NULL;
}

static int prot_of(uint32_t flags)
{
    return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_READ | PROT_WRITE : 0) |
           (flags & PF_X ? PROT_EXEC : 0);
}

/* o's PT_LOADs (ascending, file offset and address congruent modulo the page, bss only in
 * writable ones), its reservation and its RELRO pages (rounded down at both ends, as glibc). */
static bool plan_segments(const struct elf_file *ef, struct floor_obj *o)
{
    uint64_t end = 0;
    const Elf64_Phdr *relro = NULL;
    for (size_t i = 0; i < ef->phnum; i++) {
        const Elf64_Phdr *p = &ef->ph[i];
        if (p->p_type == PT_GNU_RELRO)
            relro = p;
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (o->nseg == FLOOR_SEGS || p->p_vaddr < end || (p->p_vaddr - p->p_offset) % page_size() ||
            (p->p_memsz > p->p_filesz && !(p->p_flags & PF_W)))
            return false;
        o->seg[o->nseg++] = (struct floor_seg){ p->p_vaddr, p->p_filesz, p->p_memsz, p->p_offset, prot_of(p->p_flags) };
        end = p->p_vaddr + p->p_memsz;
    }
    if (o->nseg == 0)
        return false;
    o->lo = page_down(o->seg[0].vaddr);
    o->span = page_up(end) - o->lo;
    if (relro && relro->p_memsz > 0) {
        if (relro->p_vaddr < o->lo || relro->p_vaddr > end || relro->p_memsz > end - relro->p_vaddr)
            return false;
        o->relro = page_down(relro->p_vaddr);
        o->relro_end = page_down(relro->p_vaddr + relro->p_memsz);
    }
    return true;
}

/* The pages relocations write, one flag per page of the reservation, being filled. */
struct page_marks {
    const struct floor_obj *o;
    unsigned char *hit;
    bool ok;                    /* false: a relocation writes outside the writable segments */
};

/* The word at vaddr is written by a relocation: it must lie in a writable segment. */
static void mark(struct page_marks *m, uint64_t vaddr)
{
    const struct floor_obj *o = m->o;
    for (size_t i = 0; i < o->nseg; i++) {
        const struct floor_seg *s = &o->seg[i];
        if (vaddr < s->vaddr || vaddr - s->vaddr > s->memsz || s->memsz - (vaddr - s->vaddr) < sizeof(uint64_t))
            continue;
        if (!(s->prot & PROT_WRITE))
            break;                                  /* a text relocation */
        m->hit[(page_down(vaddr) - o->lo) / page_size()] = 1;
        m->hit[(page_down(vaddr + sizeof(uint64_t) - 1) - o->lo) / page_size()] = 1;
        return;
    }
    m->ok = false;
}

/* A RELA table (DT_RELA or DT_JMPREL) at vaddr, size bytes. */
static void mark_rela(struct page_marks *m, const struct elf_file *ef, uint64_t vaddr, uint64_t size)
{
    if (size == 0)
        return;
    const Elf64_Rela *r = elf_at(ef, vaddr, size, 8);
    if (!r || size % sizeof *r)
        m->ok = false;
    for (uint64_t i = 0; m->ok && i < size / sizeof *r; i++)
        if (ELF64_R_TYPE(r[i].r_info) != 0)     /* R_X86_64_NONE, R_AARCH64_NONE: nothing written */
            mark(m, r[i].r_offset);
}

/* A RELR table: an even entry is the address of a word to relocate; an odd one is a bitmap of the
 * 63 words that follow the last one relocated (bit k for the word k - 1 after it), and the next
 * bitmap starts 63 words further. */
static void mark_relr(struct page_marks *m, const struct elf_file *ef, uint64_t vaddr, uint64_t size)
{
    if (size == 0)
        return;
    const Elf64_Relr *r = elf_at(ef, vaddr, size, 8);
    uint64_t where = 0;
    bool started = false;
    if (!r || size % sizeof *r)
        m->ok = false;
    for (uint64_t i = 0; m->ok && i < size / sizeof *r; i++) {
        if ((r[i] & 1) == 0) {
            mark(m, r[i]);
            where = r[i] + 8, started = true;
            continue;
        }
        if (!started)
            m->ok = false;                      /* a bitmap before any address */
        for (uint64_t bits = r[i] >> 1, k = 0; m->ok && bits; bits >>= 1, k++)
            if (bits & 1)
                mark(m, where + k * 8);
        where += 63 * 8;
    }
}

/* The dynamic entries of ef; false on a surprise (no PT_DYNAMIC, REL instead of RELA, odd entry
 * sizes, too many DT_NEEDED). */
static bool read_dynamic(const struct elf_file *ef, struct dyn_info *d)
{
    const Elf64_Phdr *dyn = NULL;
    for (size_t i = 0; i < ef->phnum; i++)
        if (ef->ph[i].p_type == PT_DYNAMIC)
            dyn = &ef->ph[i];
    const Elf64_Dyn *e = dyn ? elf_at(ef, dyn->p_vaddr, dyn->p_filesz, 8) : NULL;
    if (!e)
        return false;
    for (uint64_t i = 0; i < dyn->p_filesz / sizeof *e && e[i].d_tag != DT_NULL; i++) {
        uint64_t v = e[i].d_un.d_val;
        switch (e[i].d_tag) {
        case DT_RELA: d->rela = v; break;
        case DT_RELASZ: d->relasz = v; break;
        case DT_JMPREL: d->jmprel = v; break;
        case DT_PLTRELSZ: d->pltrelsz = v; break;
        case DT_RELR: d->relr = v; break;
        case DT_RELRSZ: d->relrsz = v; break;
        case DT_STRTAB: d->strtab = v; break;
        case DT_STRSZ: d->strsz = v; break;
        case DT_RELAENT: if (v != sizeof(Elf64_Rela)) return false; break;
        case DT_RELRENT: if (v != sizeof(Elf64_Relr)) return false; break;
        case DT_PLTREL: if (v != DT_RELA) return false; break;
        case DT_REL: case DT_RELSZ: return false;
        case DT_NEEDED:
            if (d->nneeded == FLOOR_NEEDED)
                return false;
            d->needed[d->nneeded++] = v;
            break;
        default: break;
        }
    }
    return true;
}

/* o->pages: the distinct pages that ef's relocations (RELA, JMPREL, RELR) write, ascending. */
static bool plan_pages(const struct elf_file *ef, const struct dyn_info *d, struct floor_obj *o)
{
    size_t n = o->span / page_size(), count = 0;
    struct page_marks m = { o, calloc(n, 1), true };
    if (!m.hit)
        return false;
    mark_rela(&m, ef, d->rela, d->relasz);
    mark_rela(&m, ef, d->jmprel, d->pltrelsz);
    mark_relr(&m, ef, d->relr, d->relrsz);
    for (size_t i = 0; i < n; i++)
        count += m.hit[i];
    o->pages = m.ok ? malloc((count ? count : 1) * sizeof *o->pages) : NULL;
    for (size_t i = 0; o->pages && i < n; i++)
        if (m.hit[i])
            o->pages[o->npages++] = o->lo + i * page_size();
    free(m.hit);
    return o->pages != NULL;
}

static int has_name(struct dl_phdr_info *info, size_t size, void *name)
{
    (void)size;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    return base && !strcmp(base + 1, name);
}

/* Is an object of that file name already in this process (and so in every fresh child)? */
static bool in_process(const char *name)
{
    return dl_iterate_phdr(has_name, (void *)name) != 0;
}

static bool plan_add(struct floor_plan *plan, const char *path, const char *name)
{
    if (plan->nobj == FLOOR_OBJECTS)
        return false;
    struct floor_obj *o = &plan->obj[plan->nobj++];
    *o = (struct floor_obj){ .pages = NULL };
    return snprintf(o->path, sizeof o->path, "%s", path) < (int)sizeof o->path &&
           snprintf(o->name, sizeof o->name, "%s", name) < (int)sizeof o->name;
}

/* The dependency name joins the plan unless the process or the plan has it already; it is looked
 * for in the system library directories (false if it is not there). */
static bool plan_need(struct floor_plan *plan, const char *name)
{
    static const char *const dirs[] = { LIBDIR, "/lib/" MULTIARCH };
    if (in_process(name))
        return true;
    for (size_t i = 0; i < plan->nobj; i++)
        if (!strcmp(plan->obj[i].name, name))
            return true;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !strchr(name, '/'); i++) {
        char path[PATH_BUF];
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, R_OK) == 0)
            return plan_add(plan, path, name);
    }
    fprintf(stderr, "bench: floor: dependency %s not found\n", name);
    return false;
}

/* Reads o's file: its segments, the pages its relocations write, its dependencies (into plan). */
static bool plan_object(struct floor_plan *plan, struct floor_obj *o)
{
    struct elf_file ef;
    struct dyn_info d = { 0 };
    bool ok = elf_open(o->path, &ef) && plan_segments(&ef, o) && read_dynamic(&ef, &d) && plan_pages(&ef, &d, o);
    const char *strtab = ok ? elf_at(&ef, d.strtab, d.strsz, 1) : NULL;
    ok = ok && (strtab || d.nneeded == 0);
    for (size_t i = 0; ok && i < d.nneeded; i++)
        ok = d.needed[i] < d.strsz && memchr(strtab + d.needed[i], 0, d.strsz - d.needed[i]) &&
             plan_need(plan, strtab + d.needed[i]);
    elf_close(&ef);
    return ok;
}

static void plan_reset(struct floor_plan *plan)
{
    for (size_t i = 0; i < plan->nobj; i++)
        free(plan->obj[i].pages);
    plan->nobj = plan->pages = 0;
}

/* The floor of opening path: it, and the dependencies not yet in the process, breadth first. */
static bool floor_plan_of(struct floor_plan *plan, const char *path)
{
    const char *slash = strrchr(path, '/');
    plan_reset(plan);
    if (!plan_add(plan, path, slash ? slash + 1 : path))
        return false;
    for (size_t i = 0; i < plan->nobj; i++) {
        if (!plan_object(plan, &plan->obj[i])) {
            fprintf(stderr, "bench: floor: %s: unexpected ELF contents, no floor\n", plan->obj[i].path);
            return false;
        }
        plan->pages += plan->obj[i].npages;
    }
    return true;
}

/* In the child: maps segment s (bias: where the object's address 0 lies) as glibc does: the
 * file's pages with the final protection; then the bss: the rest of the last file page zeroed,
 * anonymous pages after it. */
static bool map_segment(uintptr_t bias, const struct floor_seg *s, int fd)
{
    uint64_t start = page_down(s->vaddr), file_end = s->vaddr + s->filesz, mem_end = s->vaddr + s->memsz;
    uint64_t anon = s->filesz ? page_up(file_end) : start;
    if (s->filesz && mmap((void *)(bias + start), anon - start, s->prot, MAP_FIXED | MAP_PRIVATE, fd,
                          (off_t)(s->offset - (s->vaddr - start))) == MAP_FAILED)
        return false;
    if (mem_end <= file_end)
        return true;
    if (s->filesz && anon > file_end)
        memset((void *)(bias + file_end), 0, (mem_end < anon ? mem_end : anon) - file_end);
    return page_up(mem_end) <= anon || mmap((void *)(bias + anon), page_up(mem_end) - anon, s->prot,
                                            MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED;
}

/* In the child: the relocated pages from pages[i] on that follow one another, written: a run of
 * 8 pages or more populated with one madvise (as plugin_open does, loader/core/vm.c), a shorter
 * one a word of each page read and written back (its fault and copy). The index after the run. */
static size_t write_pages(uintptr_t bias, const struct floor_obj *o, size_t i)
{
    size_t j = i + 1;
    while (j < o->npages && o->pages[j] == o->pages[j - 1] + page_size())
        j++;
#ifdef MADV_POPULATE_WRITE
    if (j - i >= 8 && madvise((void *)(bias + o->pages[i]), (j - i) * page_size(), MADV_POPULATE_WRITE) == 0)
        return j;
#endif
    for (size_t k = i; k < j; k++) {
        volatile uint64_t *word = (volatile uint64_t *)(bias + o->pages[k]);
        *word = *word;
    }
    return j;
}

/* In the child: one object's floor. open, read the header, fstat, reserve the span, map every
 * segment, write one word of every relocated page (its fault and copy), RELRO read-only, close. */
static bool floor_map(const struct floor_obj *o)
{
    unsigned char head[4096];
    struct stat st;
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && pread(fd, head, sizeof head, 0) > 0 && fstat(fd, &st) == 0;
    void *base = ok ? mmap(NULL, o->span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
    uintptr_t bias = (uintptr_t)base - o->lo;
    ok = base != MAP_FAILED;
    for (size_t i = 0; ok && i < o->nseg; i++)
        ok = map_segment(bias, &o->seg[i], fd);
    for (size_t i = 0; ok && i < o->npages; i = write_pages(bias, o, i))
        ;
    if (ok && o->relro_end > o->relro)
        ok = mprotect((void *)(bias + o->relro), o->relro_end - o->relro, PROT_READ) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool floor_all(const struct floor_plan *plan)
{
    for (size_t i = 0; i < plan->nobj; i++)
        if (!floor_map(&plan->obj[i]))
            return false;
    return true;
}

static struct floor_plan floor_warm;    /* the floor of the warm-up object (planned by main) */
static bool floor_warm_ok;

/* In the child: the floor of the warm-up object first, untimed (like the warm loaders' warm-up
 * it takes the fresh child's first-call costs: code pages faulted in after fork, lazily bound
 * calls into libc), then the time of the plan, or -1. */
static double timed_floor(const void *ctx)
{
    if (!floor_all(&floor_warm))
        return -1;
    uint64_t t0 = now_ns();
    bool ok = floor_all(ctx);
    return ok ? (double)(now_ns() - t0) : -1;
}

/* The row after r: the floor's median against glibc's (the ratio is floor / glibc). */
static void floor_row(const struct row *r, const struct floor_plan *plan, struct stats floor)
{
    char pages[32] = "", what[sizeof r->what];
    if (floor.median >= 0)
        snprintf(pages, sizeof pages, ", %zu pages", plan->pages);
    snprintf(what, sizeof what, "floor: %.80s%s", r->what, pages);
    struct row *f = add_row("floor", r->relocs, "%s", what);
    if (!f)
        return;
    f->p = floor;
    f->g = r->g;
    f->of = r;
    f->pages = floor.median >= 0 ? (long)plan->pages : -1;
    f->objects = plan->nobj;
}

/* runs cold opens, alternating the loaders and the floor so all three see the same machine
 * state; the floor of mine (the same bytes as theirs) becomes the row after r. */
static void cold_pair(struct row *r, const char *mine, const char *theirs, const char *sym, bool warm, int runs)
{
    static struct floor_plan plan;
    double p[COLD_RUNS], g[COLD_RUNS], f[COLD_RUNS];
    bool pok = true, gok = true, fok = floor_warm_ok && floor_plan_of(&plan, mine);
    if (!r)
        return;
    for (int i = 0; i < runs; i++) {
        p[i] = cold_once(&PLUGIN, mine, sym, warm);
        g[i] = cold_once(&GLIBC, theirs, sym, warm);
        f[i] = fok ? in_fresh_child(timed_floor, &plan) : -1;
        pok = pok && p[i] >= 0;
        gok = gok && g[i] >= 0;
        fok = fok && f[i] >= 0;
    }
    r->p = pok ? stats_of(p, runs) : FAILED;
    r->g = gok ? stats_of(g, runs) : FAILED;
    floor_row(r, &plan, fok ? stats_of(f, runs) : FAILED);
}

/* ns per open of a path the loader already has open, REPEATS times. */
static struct stats reopen(const struct loader *l, const char *path)
{
    double t[REPEATS];
    if (!l->open(path))
        return FAILED;
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < REOPEN_ITERS; i++)
            sink += (uintptr_t)l->open(path);
        t[k] = (double)(now_ns() - t0) / REOPEN_ITERS;
    }
    return stats_of(t, REPEATS);
}

/* ns per lookup of name in the already open path (name may be missing), REPEATS times. */
static struct stats lookup(const struct loader *l, const char *path, const char *name)
{
    /* A miss is not one lucky name: the calls cycle through MISS_NAMES names that the object does
     * not export ("bench_missing_0" ...), so a filter's false positives show in the time. */
    enum { MISS_NAMES = 16 };
    char names[MISS_NAMES][40];
    bool miss = !strcmp(name, "bench_missing");
    for (int i = 0; i < MISS_NAMES; i++)
        snprintf(names[i], sizeof names[i], "%s_%d", name, i);
    double t[REPEATS];
    void *h = l->open(path);
    if (!h)
        return FAILED;
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        if (miss)
            for (int i = 0; i < LOOKUP_ITERS; i++)
                sink += (uintptr_t)l->sym(h, names[i % MISS_NAMES]);
        else
            for (int i = 0; i < LOOKUP_ITERS; i++)
                sink += (uintptr_t)l->sym(h, name);
        t[k] = (double)(now_ns() - t0) / LOOKUP_ITERS;
    }
    return stats_of(t, REPEATS);
}

/* ns per plugin_addr_info / dladdr of addr (an address inside a function of an open object). */
static struct stats addr_info(bool plugin_side, const void *addr)
{
    double t[REPEATS];
    for (int k = 0; k < REPEATS; k++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < LOOKUP_ITERS / 10; i++) {
            if (plugin_side) {
                struct plugin_addr_info info;
                sink += (uintptr_t)plugin_addr_info(addr, &info) + (uintptr_t)info.symbol;
            } else {
                Dl_info info;
                sink += (uintptr_t)dladdr(addr, &info) + (uintptr_t)info.dli_sname;
            }
        }
        t[k] = (double)(now_ns() - t0) / (LOOKUP_ITERS / 10);
    }
    return stats_of(t, REPEATS);
}

enum { MEM_OBJECTS = 100 };

static long resident_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* In a fresh child: open MEM_OBJECTS copies (paths[i]); send the RSS and heap growth per object. */
static void memory_child(const struct loader *l, char paths[][PATH_MAX + 64], int fd)
{
    l->warm();
    long rss0 = resident_bytes();
    size_t heap0 = mallinfo2().uordblks;
    bool ok = true;
    for (int i = 0; i < MEM_OBJECTS && ok; i++)
        ok = l->open(paths[i]) != NULL;
    double r[2] = { (double)(resident_bytes() - rss0) / MEM_OBJECTS,
                    (double)(mallinfo2().uordblks - heap0) / MEM_OBJECTS };
    if (!ok)
        r[0] = r[1] = -1;
    _exit(write(fd, r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
}

static bool copy_file(const char *from, const char *to)
{
    static char buf[1 << 20];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    bool ok = in && out && n > 0 && n < sizeof buf && fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Bytes per object, RSS and heap, for one loader (copies made in dir, removed after). */
static bool memory_of(const struct loader *l, const char *dir, const char *tag, double out[2])
{
    static char paths[MEM_OBJECTS][PATH_MAX + 64];
    char src[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/bench_plugin.so", dir);
    for (int i = 0; i < MEM_OBJECTS; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/mem_%s_%d.so", dir, tag, i);
        if (!copy_file(src, paths[i]))
            return false;
    }
    int fds[2];
    bool got = false;
    if (pipe(fds) == 0) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            memory_child(l, paths, fds[1]);
        }
        close(fds[1]);
        got = pid > 0 && read(fds[0], out, 2 * sizeof *out) == (ssize_t)(2 * sizeof *out) && out[0] >= 0;
        close(fds[0]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < MEM_OBJECTS; i++)
        unlink(paths[i]);
    return got;
}

static int find_libz(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    return info->dlpi_name && strstr(info->dlpi_name, "libz.so") != NULL;
}

/* The largest libLLVM*.so* of the system library directory (the largest library there is,
 * usually), or NULL. */
static const char *largest_llvm(char *buf, size_t n)
{
    DIR *d = opendir(LIBDIR);
    off_t best = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        struct stat st;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", LIBDIR, e->d_name);
        if (strncmp(e->d_name, "libLLVM", 7) || !strstr(e->d_name, ".so") || lstat(path, &st) ||
            !S_ISREG(st.st_mode) || st.st_size <= best)
            continue;
        best = st.st_size;
        snprintf(buf, n, "%s", path);
    }
    if (d)
        closedir(d);
    return best ? buf : NULL;
}

/* Cold opens: the small plugin and libz (first use and warm loader), the generated object with
 * 200k + 20k relocations, real libraries, the largest library. */
static void cold_rows(const char *dir)
{
    char mine[PATH_BUF], theirs[PATH_BUF], big[PATH_BUF];
    snprintf(mine, sizeof mine, "%s/bench_plugin.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_plugin_glibc.so", dir);
    for (int warm = 0; warm < 2; warm++) {
        const char *how = warm ? "warm loader" : "first use";
        struct row *r = add_row("cold", 0, "cold open bench_plugin.so (%s)", how);
        cold_pair(r, mine, theirs, "bench_add", warm, COLD_RUNS);
        r = add_row("cold", 0, "cold open libz.so.1 (%s)", how);
        cold_pair(r, LIBDIR "/libz.so.1", LIBDIR "/libz.so.1", "deflate", warm, COLD_RUNS);
    }
    snprintf(mine, sizeof mine, "%s/bench_relocs_200000.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_relocs_200000_glibc.so", dir);
    cold_pair(add_row("cold", 220000, "cold open %s (200k relative, 20k symbolic)", "generated"), mine, theirs,
              "bench_relocs", true, COLD_RUNS);
    static const char *const libs[][2] = { { "libsqlite3.so.0", "sqlite3_open" }, { "libcrypto.so.3", "EVP_sha256" } };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        snprintf(mine, sizeof mine, "%s/%s", LIBDIR, libs[i][0]);
        if (access(mine, R_OK) == 0)
            cold_pair(add_row("cold", 0, "cold open %s (warm loader)", libs[i][0]), mine, mine, libs[i][1], true,
                      COLD_RUNS);
    }
    if (largest_llvm(big, sizeof big))
        cold_pair(add_row("cold", 0, "cold open %s (warm loader)", strrchr(big, '/') + 1), big, big,
                  "LLVMContextCreate", true, BIG_RUNS);
}

/* The same cold open (warm loader) with and without a trace callback, alternating. */
static void trace_rows(const char *dir)
{
    char path[PATH_BUF];
    double on[COLD_RUNS], off[COLD_RUNS];
    snprintf(path, sizeof path, "%s/bench_relocs_100000.so", dir);
    bool ok = access(path, R_OK) == 0;
    struct row *r = add_row("trace", 110000, "trace: cold open %s, callback on | off", "generated (100k + 10k)");
    if (!r)
        return;
    for (int i = 0; i < COLD_RUNS && ok; i++) {
        on[i] = cold_once(&PLUGIN_TRACED, path, "bench_relocs", true);
        off[i] = cold_once(&PLUGIN, path, "bench_relocs", true);
        ok = on[i] >= 0 && off[i] >= 0;
    }
    r->p = ok ? stats_of(on, COLD_RUNS) : FAILED;
    r->g = ok ? stats_of(off, COLD_RUNS) : FAILED;
}

/* Open time against relocation count: generated objects, warm loader. */
static void growth_rows(const char *dir)
{
    static const long sizes[] = { 1000, 10000, 100000, 1000000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char mine[PATH_BUF], theirs[PATH_BUF], n[32];
        snprintf(mine, sizeof mine, "%s/bench_relocs_%ld.so", dir, sizes[i]);
        snprintf(theirs, sizeof theirs, "%s/bench_relocs_%ld_glibc.so", dir, sizes[i]);
        snprintf(n, sizeof n, "%ld", sizes[i]);
        struct row *r = add_row("growth", sizes[i] + sizes[i] / 10, "growth: %s relative + a tenth symbolic", n);
        cold_pair(r, mine, theirs, "bench_relocs", true, sizes[i] >= 1000000 ? BIG_RUNS : COLD_RUNS);
    }
}

/* Cache hits and lookups, in this process (libz: plugin maps its copy first, then glibc). */
static void warm_rows(const char *dir)
{
    char mine[PATH_BUF], theirs[PATH_BUF];
    snprintf(mine, sizeof mine, "%s/bench_plugin.so", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_plugin_glibc.so", dir);
    static const char *const z = LIBDIR "/libz.so.1", *const crypto = LIBDIR "/libcrypto.so.3";
    struct row *r = add_row("reopen", 0, "reopen %s (cache hit)", "bench_plugin.so");
    r->p = reopen(&PLUGIN, mine), r->g = reopen(&GLIBC, theirs);
    r = add_row("reopen", 0, "reopen %s (cache hit)", "libz.so.1");
    r->p = reopen(&PLUGIN, z), r->g = reopen(&GLIBC, z);
    static const char *const names[][3] = {
        { "bench_add", "bench_plugin.so", "hit" }, { "bench_missing", "bench_plugin.so", "miss" },
        { "deflate", "libz.so.1", "hit" }, { "bench_missing", "libz.so.1", "miss" },
        { "EVP_sha256", "libcrypto.so.3", "hit" }, { "bench_missing", "libcrypto.so.3", "miss" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *lib = names[i][1];
        bool plugin_file = !strcmp(lib, "bench_plugin.so");
        if (!plugin_file && !strcmp(lib, "libcrypto.so.3") && access(crypto, R_OK))
            continue;
        char label[64];
        snprintf(label, sizeof label, "%s %s", names[i][2], lib);
        r = add_row("lookup", 0, "lookup %s", label);
        r->p = lookup(&PLUGIN, plugin_file ? mine : !strcmp(lib, "libz.so.1") ? z : crypto, names[i][0]);
        r->g = lookup(&GLIBC, plugin_file ? theirs : !strcmp(lib, "libz.so.1") ? z : crypto, names[i][0]);
    }
    /* dladdr answers for glibc's copy, plugin_addr_info for ours: each loader's own object. */
    void *ours = access(crypto, R_OK) ? NULL : PLUGIN.sym(PLUGIN.open(crypto), "EVP_sha256");
    void *theirs_fn = access(crypto, R_OK) ? NULL : GLIBC.sym(GLIBC.open(crypto), "EVP_sha256");
    if (ours && theirs_fn) {
        r = add_row("addr_info", 0, "addr_info in %s (plugin_addr_info vs dladdr)", "libcrypto.so.3");
        r->p = addr_info(true, (const char *)ours + 4);
        r->g = addr_info(false, (const char *)theirs_fn + 4);
    }
}

/* Bookkeeping memory per loaded object (RSS and heap), 100 small plugins in a fresh child. */
static void memory_rows(const char *dir)
{
    double p[2], g[2];
    bool pok = memory_of(&PLUGIN, dir, "plugin", p), gok = memory_of(&GLIBC, dir, "glibc", g);
    static const char *const what[2] = { "memory per object: RSS bytes (100 small plugins)",
                                         "memory per object: heap bytes (100 small plugins)" };
    for (int k = 0; k < 2; k++) {
        struct row *r = add_row("memory", 0, "%s", what[k]);
        r->p = pok ? (struct stats){ p[k], p[k], p[k] } : FAILED;
        r->g = gok ? (struct stats){ g[k], g[k], g[k] } : FAILED;
    }
}

static double ratio(const struct row *r)
{
    return r->p.median > 0 && r->g.median > 0 ? r->p.median / r->g.median : -1;
}

static bool is_floor(const struct row *r)
{
    return !strcmp(r->kind, "floor");
}

/* A floor row, indented under its case: the floor's spread, then what each loader spends above it. */
static void print_floor(const struct row *r)
{
    char what[96], objects[32] = "", rt[16] = "n/a", ps[32] = "n/a", above[64] = "n/a";
    if (r->objects > 1)
        snprintf(objects, sizeof objects, ", %zu objects", r->objects);
    if (r->pages >= 0)
        snprintf(what, sizeof what, "  floor (%ld pages%s): syscalls + page faults", r->pages, objects);
    else
        snprintf(what, sizeof what, "  floor: not measured (see above)");
    if (ratio(r) > 0 && r->of->p.median > 0) {
        snprintf(rt, sizeof rt, "%.2f", ratio(r));
        snprintf(ps, sizeof ps, "%.0f..%.0f", r->p.min, r->p.max);
        snprintf(above, sizeof above, "plugin-floor %.0f, glibc-floor %.0f", r->of->p.median - r->p.median,
                 r->g.median - r->p.median);
    }
    printf("%-58s %11.0f %11.0f %7s   %-23s %s\n", what, r->p.median, r->g.median, rt, ps, above);
}

/* ns with a decimal below 100 (lookups take a few ns), whole above. */
static const char *ns_text(char *buf, size_t size, double ns)
{
    snprintf(buf, size, ns < 100 ? "%.1f" : "%.0f", ns);
    return buf;
}

static void print_row(const struct row *r)
{
    char rt[16] = "n/a", ps[80], gs[80], a[32], b[32], pm[32], gm[32];
    if (ratio(r) > 0)
        snprintf(rt, sizeof rt, ratio(r) < 0.1 ? "%.3f" : "%.2f", ratio(r));
    snprintf(ps, sizeof ps, "%s..%s", ns_text(a, sizeof a, r->p.min), ns_text(b, sizeof b, r->p.max));
    snprintf(gs, sizeof gs, "%s..%s", ns_text(a, sizeof a, r->g.min), ns_text(b, sizeof b, r->g.max));
    printf("%-58s %11s %11s %7s   %-23s %s\n", r->what, ns_text(pm, sizeof pm, r->p.median),
           ns_text(gm, sizeof gm, r->g.median), rt, ps, gs);
}

static void print_table(void)
{
    printf("%-58s %11s %11s %7s   %-23s %s\n", "case", "plugin ns", "glibc ns", "ratio", "plugin min..max",
           "glibc min..max");
    for (size_t i = 0; i < nrows; i++)
        if (is_floor(&rows[i]))
            print_floor(&rows[i]);
        else
            print_row(&rows[i]);
}

static int write_files(const char *out)
{
    char path[PATH_BUF];
    snprintf(path, sizeof path, "%s/bench.csv", out);
    FILE *c = fopen(path, "w");
    snprintf(path, sizeof path, "%s/bench.json", out);
    FILE *j = fopen(path, "w");
    if (!c || !j) {
        fprintf(stderr, "bench: cannot write %s/bench.csv and bench.json\n", out);
        return 1;
    }
    fprintf(c, "case,kind,relocations,plugin_ns,plugin_min,plugin_max,glibc_ns,glibc_min,glibc_max,ratio,pages\n");
    fprintf(j, "[\n");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        fprintf(c, "\"%s\",%s,%ld,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,%ld\n", r->what, r->kind, r->relocs,
                r->p.median, r->p.min, r->p.max, r->g.median, r->g.min, r->g.max, ratio(r), r->pages);
        fprintf(j, "  {\"case\": \"%s\", \"kind\": \"%s\", \"relocations\": %ld, \"plugin_ns\": %.0f, "
                   "\"plugin_min\": %.0f, \"plugin_max\": %.0f, \"glibc_ns\": %.0f, \"glibc_min\": %.0f, "
                   "\"glibc_max\": %.0f, \"ratio\": %.3f, \"pages\": %ld}%s\n",
                r->what, r->kind, r->relocs, r->p.median, r->p.min, r->p.max, r->g.median, r->g.min, r->g.max,
                ratio(r), r->pages, i + 1 < nrows ? "," : "");
    }
    fprintf(j, "]\n");
    fclose(c);
    fclose(j);
    printf("results: %s/bench.csv, %s/bench.json\n", out, out);
    return 0;
}

int main(int argc, char **argv)
{
    char dir[PATH_MAX];
    const char *out = argc > 2 ? argv[2] : NULL;
    if (!realpath(argc > 1 ? argv[1] : BENCH_DIR, dir)) {     /* absolute: re-opens match by name */
        fprintf(stderr, "bench: no directory %s\n", argc > 1 ? argv[1] : BENCH_DIR);
        return 1;
    }
    snprintf(warm_plugin, sizeof warm_plugin, "%s/bench_plugin_warm.so", dir);
    snprintf(warm_glibc, sizeof warm_glibc, "%s/bench_plugin_glibc_warm.so", dir);
    floor_warm_ok = floor_plan_of(&floor_warm, warm_plugin);
    if (dl_iterate_phdr(find_libz, NULL) != 0)
        printf("warning: libz.so.1 is already in this process: its cold open is a cache hit\n");
    printf("cold open: median of %d fresh processes (%d for the largest objects), both loaders and the floor\n"
           "alternating; floor: only the system calls and page faults any loader needs for that open, ratio\n"
           "floor / glibc, last column what each loader spends above it;\n"
           "reopen: %d calls, lookup: %d calls, each %d times (min..max over those)\n",
           COLD_RUNS, BIG_RUNS, REOPEN_ITERS, LOOKUP_ITERS, REPEATS);
    cold_rows(dir);
    growth_rows(dir);
    warm_rows(dir);
    memory_rows(dir);
    trace_rows(dir);
    print_table();
    return write_files(out ? out : dir);
}
