/*
 * macho_read.c — read a Mach-O file (thin or universal) for `plugin info` / `plugin symbols`:
 * the fat table, then for each slice its mach_header_64, every load command, its segments,
 * dylibs and rpaths, the linkedit ranges, the fixup counts (macho_fixups_count.c) and the
 * exports of the trie.
 *
 * Unlike the loader, this accepts every CPU and every slice. The file is untrusted: every size,
 * count and offset is checked against the bytes that hold it before it is followed, and a
 * malformed file is reported as "plugin: FILE: cause", never half-printed.
 */
#include "macho_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    LC_REQ = 0x80000000u,
    LC_SEGMENT_64 = 0x19, LC_ID_DYLIB = 0xd, LC_LOAD_DYLIB = 0xc, LC_LAZY_LOAD_DYLIB = 0x20,
    LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ, LC_REEXPORT_DYLIB = 0x1f | LC_REQ,
    LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ, LC_RPATH = 0x1c | LC_REQ,
    LC_DYLD_INFO = 0x22, LC_DYLD_INFO_ONLY = 0x22 | LC_REQ,
    LC_DYLD_EXPORTS_TRIE = 0x33 | LC_REQ, LC_DYLD_CHAINED_FIXUPS = 0x34 | LC_REQ,
    HEADER_SIZE = 32, SEG_CMD_SIZE = 72, SECT_SIZE = 80, MAX_SLICES = 64,
    MAX_NAME = 4096,                    /* longest export name accepted from a trie */
};

#define MAX_FILE_SIZE (1ULL << 32)      /* 4 GiB: larger than any real Mach-O */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p + 4) << 32 | le32(p);
}

int mo_fail(const struct mo_file *f, const struct mo_slice *s, const char *fmt, ...)
{
    char cpu[32];
    if (f->quiet)
        return -1;
    fprintf(stderr, "plugin: %s: ", f->path);
    if (s && f->fat_magic)
        fprintf(stderr, "slice %u (%s): ", s->index, macho_cpu_name(s->cputype, s->cpusubtype, cpu, sizeof cpu));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

bool mo_sniff(const char *path)
{
    uint8_t b[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    struct source src;
    source_open_memory(&src, b, n > 0 ? (size_t)n : 0, path);
    return n == (ssize_t)sizeof b && macho_sniff(&src);
}

/* The whole file into f->data. */
static int read_whole(struct mo_file *f)
{
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mo_fail(f, NULL, "%s", strerror(errno));
    int rc = fstat(fd, &st) != 0 ? mo_fail(f, NULL, "%s", strerror(errno))
           : !S_ISREG(st.st_mode) ? mo_fail(f, NULL, "not a regular file")
           : (uint64_t)st.st_size > MAX_FILE_SIZE ? mo_fail(f, NULL, "larger than 4 GiB")
           : 0;
    f->size = rc == 0 ? (uint64_t)st.st_size : 0;
    if (rc == 0 && !(f->data = malloc(f->size ? f->size : 1)))
        rc = mo_fail(f, NULL, "out of memory");
    for (uint64_t got = 0; rc == 0 && got < f->size;) {
        ssize_t n = read(fd, f->data + got, f->size - got);
        if (n <= 0)
            rc = mo_fail(f, NULL, "read: %s", n < 0 ? strerror(errno) : "file shrank");
        else
            got += (uint64_t)n;
    }
    close(fd);
    return rc;
}

/* The slices: the fat table (big-endian), or the whole file as one slice. */
static int read_fat(struct mo_file *f)
{
    uint32_t magic = f->size >= 8 ? be32(f->data) : 0;
    if (magic != FAT_MAGIC_BE && magic != FAT_MAGIC_64_BE) {
        if (!(f->slices = calloc(1, sizeof *f->slices)))
            return mo_fail(f, NULL, "out of memory");
        f->nslices = 1;
        f->slices[0] = (struct mo_slice){ .off = 0, .size = f->size, .p = f->data };
        return 0;
    }
    f->fat_magic = magic;
    uint32_t n = be32(f->data + 4);
    uint64_t esz = magic == FAT_MAGIC_64_BE ? 32 : 20, table_end = 8 + (uint64_t)n * esz;
    if (n == 0 || n > MAX_SLICES || table_end > f->size)
        return mo_fail(f, NULL, "universal header counts %u slices, which do not fit the file", n);
    if (!(f->slices = calloc(n, sizeof *f->slices)))
        return mo_fail(f, NULL, "out of memory");
    f->nslices = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = f->data + 8 + i * esz;
        struct mo_slice *s = &f->slices[i];
        s->index = i;
        s->cputype = be32(e);
        s->cpusubtype = be32(e + 4);
        s->off = esz == 32 ? be64(e + 8) : be32(e + 8);
        s->size = esz == 32 ? be64(e + 16) : be32(e + 12);
        if (s->off < table_end || !range_in(s->off, s->size, f->size))
            return mo_fail(f, s, "offset 0x%llx, size 0x%llx is not inside the file (size 0x%llx)",
                           (unsigned long long)s->off, (unsigned long long)s->size, (unsigned long long)f->size);
        s->p = f->data + s->off;
    }
    return 0;
}

/* The mach_header_64. A 32-bit or big-endian object is kept as an unsupported slice. */
static int read_header(const struct mo_file *f, struct mo_slice *s)
{
    if (s->size < HEADER_SIZE)
        return mo_fail(f, s, "too short for a Mach-O header (%llu bytes)", (unsigned long long)s->size);
    uint32_t magic = le32(s->p);
    bool swapped = magic == 0xcefaedfeu || magic == MH_CIGAM_64_LE;
    if (magic == 0xfeedfaceu || swapped) {
        s->cputype = swapped ? be32(s->p + 4) : le32(s->p + 4);
        s->cpusubtype = swapped ? be32(s->p + 8) : le32(s->p + 8);
        s->unsupported = magic == MH_CIGAM_64_LE ? "a big-endian Mach-O, not described" : "a 32-bit Mach-O, not described";
        return 0;
    }
    if (magic != MH_MAGIC_64_LE)
        return mo_fail(f, s, "no Mach-O magic (0x%08x)", magic);
    s->cputype = le32(s->p + 4);
    s->cpusubtype = le32(s->p + 8);
    s->filetype = le32(s->p + 12);
    s->ncmds = le32(s->p + 16);
    s->sizeofcmds = le32(s->p + 20);
    s->flags = le32(s->p + 24);
    if (!range_in(HEADER_SIZE, s->sizeofcmds, s->size) || s->ncmds > s->sizeofcmds / 8)
        return mo_fail(f, s, "load commands (%u of them, %u bytes) do not fit the file", s->ncmds, s->sizeofcmds);
    if (!(s->cmds = calloc(s->ncmds ? s->ncmds : 1, sizeof *s->cmds)))
        return mo_fail(f, s, "out of memory");
    return 0;
}

/* A string named by an lc_str offset: inside the command and terminated inside it. */
static const char *cmd_string(const uint8_t *c, uint32_t cmdsize, uint32_t min, uint32_t field)
{
    if (cmdsize < min)
        return NULL;
    uint32_t off = le32(c + field);
    if (off >= cmdsize || !memchr(c + off, '\0', cmdsize - off))
        return NULL;
    return (const char *)c + off;
}

static int add_segment(const struct mo_file *f, struct mo_slice *s, const uint8_t *c, uint32_t cmdsize)
{
    uint32_t nsects = cmdsize >= SEG_CMD_SIZE ? le32(c + 64) : 0;
    if (cmdsize < SEG_CMD_SIZE || (cmdsize - SEG_CMD_SIZE) / SECT_SIZE < nsects)
        return mo_fail(f, s, "LC_SEGMENT_64 of %u bytes is too small for its %u sections", cmdsize, nsects);
    struct macho_segment *n = realloc(s->segs, (s->nsegs + 1) * sizeof *n);
    if (!n)
        return mo_fail(f, s, "out of memory");
    s->segs = n;
    struct macho_segment *g = &s->segs[s->nsegs++];
    memcpy(g->name, c + 8, 16);
    g->name[16] = '\0';
    g->vmaddr = le64(c + 24);
    g->vmsize = le64(c + 32);
    g->fileoff = le64(c + 40);
    g->filesize = le64(c + 48);
    g->maxprot = le32(c + 56);
    g->initprot = le32(c + 60);
    g->nsects = nsects;
    g->flags = le32(c + 68);
    if (!range_in(g->fileoff, g->filesize, s->size))
        return mo_fail(f, s, "segment %s (fileoff 0x%llx, filesize 0x%llx) is not inside the file", g->name,
                       (unsigned long long)g->fileoff, (unsigned long long)g->filesize);
    if (g->fileoff == 0 && g->filesize > 0)
        s->base_vaddr = g->vmaddr;
    return 0;
}

static int add_dylib(const struct mo_file *f, struct mo_slice *s, const uint8_t *c, uint32_t cmd, uint32_t cmdsize)
{
    const char *name = cmd_string(c, cmdsize, 24, 8);
    if (!name)
        return mo_fail(f, s, "load command 0x%x has a bad dylib name", cmd);
    if (cmd == LC_ID_DYLIB) {
        s->install_name = name;
        return 0;
    }
    struct mo_dylib *n = realloc(s->dylibs, (s->ndylibs + 1) * sizeof *n);
    if (!n)
        return mo_fail(f, s, "out of memory");
    s->dylibs = n;
    s->dylibs[s->ndylibs++] = (struct mo_dylib){ name, cmd };
    return 0;
}

static int add_rpath(const struct mo_file *f, struct mo_slice *s, const uint8_t *c, uint32_t cmdsize)
{
    const char *path = cmd_string(c, cmdsize, 12, 8);
    if (!path)
        return mo_fail(f, s, "LC_RPATH has a bad path");
    const char **n = realloc(s->rpaths, (s->nrpaths + 1) * sizeof *n);
    if (!n)
        return mo_fail(f, s, "out of memory");
    s->rpaths = n;
    s->rpaths[s->nrpaths++] = path;
    return 0;
}

/* A piece of linkedit data (offset and size at c[at]) that must lie inside the slice. */
static int set_range(const struct mo_file *f, struct mo_slice *s, struct macho_range *r, const uint8_t *c,
                     uint32_t at, const char *what)
{
    if (r->present)
        return mo_fail(f, s, "more than one %s", what);
    *r = (struct macho_range){ le32(c + at), le32(c + at + 4), true };
    if (!range_in(r->off, r->size, s->size))
        return mo_fail(f, s, "%s (offset 0x%x, size 0x%x) is not inside the file", what, r->off, r->size);
    r->present = r->size > 0;
    return 0;
}

static int dyld_info(const struct mo_file *f, struct mo_slice *s, const uint8_t *c, uint32_t cmd, uint32_t cmdsize)
{
    if (cmdsize < 48)
        return mo_fail(f, s, "LC_DYLD_INFO of %u bytes is too small", cmdsize);
    if (s->info_cmd)
        return mo_fail(f, s, "more than one LC_DYLD_INFO");
    s->info_cmd = cmd;
    return set_range(f, s, &s->rebase, c, 8, "rebase info") || set_range(f, s, &s->bind, c, 16, "bind info") ||
           set_range(f, s, &s->weak_bind, c, 24, "weak bind info") ||
           set_range(f, s, &s->lazy_bind, c, 32, "lazy bind info") ||
           set_range(f, s, &s->export_info, c, 40, "export info");
}

static int one_command(const struct mo_file *f, struct mo_slice *s, const uint8_t *c, uint32_t cmd, uint32_t cmdsize)
{
    switch (cmd) {
    case LC_SEGMENT_64:
        return add_segment(f, s, c, cmdsize);
    case LC_ID_DYLIB: case LC_LOAD_DYLIB: case LC_LOAD_WEAK_DYLIB: case LC_REEXPORT_DYLIB:
    case LC_LOAD_UPWARD_DYLIB: case LC_LAZY_LOAD_DYLIB:
        return add_dylib(f, s, c, cmd, cmdsize);
    case LC_RPATH:
        return add_rpath(f, s, c, cmdsize);
    case LC_DYLD_INFO: case LC_DYLD_INFO_ONLY:
        return dyld_info(f, s, c, cmd, cmdsize);
    case LC_DYLD_CHAINED_FIXUPS: case LC_DYLD_EXPORTS_TRIE:
        if (cmdsize < 16)
            return mo_fail(f, s, "load command 0x%x of %u bytes is too small", cmd, cmdsize);
        return cmd == LC_DYLD_CHAINED_FIXUPS ? set_range(f, s, &s->chained, c, 8, "LC_DYLD_CHAINED_FIXUPS")
                                             : set_range(f, s, &s->exports_trie, c, 8, "LC_DYLD_EXPORTS_TRIE");
    default:
        return 0;                       /* listed by name only */
    }
}

static int walk_commands(const struct mo_file *f, struct mo_slice *s)
{
    const uint8_t *area = s->p + HEADER_SIZE;
    uint32_t off = 0;
    for (uint32_t i = 0; i < s->ncmds; i++) {
        if (s->sizeofcmds - off < 8)
            return mo_fail(f, s, "load command %u is truncated", i);
        uint32_t cmd = le32(area + off), cmdsize = le32(area + off + 4);
        if (cmdsize < 8 || cmdsize % 8 || cmdsize > s->sizeofcmds - off)
            return mo_fail(f, s, "load command %u (0x%x) has size %u, which does not fit the %u bytes left", i, cmd,
                           cmdsize, s->sizeofcmds - off);
        s->cmds[i] = (struct mo_command){ cmd, cmdsize };
        if (one_command(f, s, area + off, cmd, cmdsize))
            return -1;
        off += cmdsize;
    }
    if (s->info_cmd && s->chained.present)
        return mo_fail(f, s, "has both LC_DYLD_INFO and LC_DYLD_CHAINED_FIXUPS");
    return 0;
}

/* ---- the export trie ------------------------------------------------------------------------ */

struct trie_walk {
    const struct mo_file *f;
    struct mo_slice *s;
    const uint8_t *t;
    size_t size;
    char name[MAX_NAME + 1];
};

/* The terminal of the node at off, when it has one (*have), and where its children start. */
static int read_node(struct trie_walk *w, size_t off, struct mo_export *e, bool *have, size_t *children)
{
    size_t pos = off, end;
    uint64_t tsize;
    memset(e, 0, sizeof *e);
    if (!macho_uleb(w->t, w->size, &pos, &tsize) || tsize >= w->size - pos)
        return mo_fail(w->f, w->s, "export trie node at 0x%zx is malformed", off);
    end = pos + (size_t)tsize;
    *children = end;
    *have = tsize > 0;
    if (!tsize)
        return 0;
    bool ok = macho_uleb(w->t, end, &pos, &e->flags);
    if (ok && (e->flags & MACHO_EXPORT_REEXPORT)) {
        ok = macho_uleb(w->t, end, &pos, &e->other) && memchr(w->t + pos, '\0', end - pos);
        e->reexport_name = ok ? (const char *)w->t + pos : NULL;
    } else if (ok) {
        ok = macho_uleb(w->t, end, &pos, &e->address) &&
             (!(e->flags & MACHO_EXPORT_STUB_AND_RESOLVER) || macho_uleb(w->t, end, &pos, &e->other));
    }
    return ok ? 0 : mo_fail(w->f, w->s, "export trie terminal at 0x%zx is malformed", off);
}

static int add_export(struct trie_walk *w, struct mo_export *e)
{
    struct mo_slice *s = w->s;
    struct mo_export *n = realloc(s->exports, (s->nexports + 1) * sizeof *n);
    if (!n)
        return mo_fail(w->f, s, "out of memory");
    s->exports = n;
    if (!(e->name = strdup(w->name)))
        return mo_fail(w->f, s, "out of memory");
    s->exports[s->nexports++] = *e;
    return 0;
}

/* Visit the node at off, whose name so far is w->name[0..len). The trie was checked by
 * macho_trie_check (no node reached twice), and names are bounded, so the depth is too. */
static int visit(struct trie_walk *w, size_t off, size_t len)
{
    struct mo_export e;
    bool have = false;
    size_t pos = 0;
    if (read_node(w, off, &e, &have, &pos) || (have && add_export(w, &e)))
        return -1;
    unsigned n = w->t[pos++];
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *nul = pos < w->size ? memchr(w->t + pos, '\0', w->size - pos) : NULL;
        size_t el = nul ? (size_t)(nul - (w->t + pos)) : 0;
        uint64_t child;
        size_t cpos = pos + el + 1;
        if (!nul || !macho_uleb(w->t, w->size, &cpos, &child) || child >= w->size)
            return mo_fail(w->f, w->s, "export trie node at 0x%zx has a bad child %u", off, i);
        if (len + el > MAX_NAME)
            return mo_fail(w->f, w->s, "export trie holds a name longer than %d bytes", MAX_NAME);
        memcpy(w->name + len, w->t + pos, el + 1);
        if (visit(w, (size_t)child, len + el))
            return -1;
        w->name[len] = '\0';
        pos = cpos;
    }
    return 0;
}

const char *mo_c_name(const struct mo_export *e)
{
    return e->name[0] == '_' ? e->name + 1 : e->name;
}

static int by_c_name(const void *a, const void *b)
{
    const struct mo_export *x = a, *y = b;
    int c = strcmp(mo_c_name(x), mo_c_name(y));
    return c ? c : strcmp(x->name, y->name);
}

static int read_exports(const struct mo_file *f, struct mo_slice *s)
{
    const struct macho_range *r = s->exports_trie.present ? &s->exports_trie : &s->export_info;
    s->have_trie = r->present;
    if (!r->present)
        return 0;
    plugin_error err;
    struct diag d = { &err, NULL, NULL };
    size_t count;
    struct trie_walk *w = malloc(sizeof *w);
    if (!w)
        return mo_fail(f, s, "out of memory");
    *w = (struct trie_walk){ f, s, s->p + r->off, r->size, "" };
    int rc = macho_trie_check(w->t, w->size, &count, "", &d) ? mo_fail(f, s, "%s", err.message + strlen("plugin: : "))
                                                            : visit(w, 0, 0);
    free(w);
    if (rc == 0)
        qsort(s->exports, s->nexports, sizeof *s->exports, by_c_name);
    return rc;
}

/* ---- the whole file ------------------------------------------------------------------------- */

int mo_open(struct mo_file *f, const char *path, bool quiet)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    f->quiet = quiet;
    if (read_whole(f) || read_fat(f))
        return -1;
    for (size_t i = 0; i < f->nslices; i++) {
        struct mo_slice *s = &f->slices[i];
        if (read_header(f, s))
            return -1;
        if (s->unsupported)
            continue;
        if (walk_commands(f, s) || mo_count_fixups(f, s) || read_exports(f, s))
            return -1;
    }
    return 0;
}

void mo_close(struct mo_file *f)
{
    for (size_t i = 0; i < f->nslices; i++) {
        struct mo_slice *s = &f->slices[i];
        for (size_t j = 0; j < s->nexports; j++)
            free(s->exports[j].name);
        free(s->exports);
        free(s->cmds);
        free(s->segs);
        free(s->dylibs);
        free(s->rpaths);
    }
    free(f->slices);
    free(f->data);
    memset(f, 0, sizeof *f);
}
