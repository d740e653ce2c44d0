/*
 * macho_header.c — read and validate a Mach-O object before anything is mapped: the one reader of
 * Mach-O headers, used by the loader (MACHO_LOAD) and by `plugin info` / `plugin symbols` through
 * macho_describe.c (MACHO_DESCRIBE).
 *
 * In dyld3's order, each stage trusting only what the previous one checked:
 *   1. the slices: a universal ("fat") file is a big-endian table of slices, one per CPU, each
 *      inside the file and none overlapping another; loading picks this CPU's (arm64e, pointer
 *      authentication, is refused by name), describing reads them all;
 *   2. the mach_header_64: magic, size of the commands; for loading also the CPU and the file
 *      type (MH_DYLIB or MH_BUNDLE); described, a 32-bit or big-endian slice is only named;
 *   3. every load command: its size inside the command area, the minimum size of its kind,
 *      strings terminated inside it, at most one __LINKEDIT; unknown commands are ignored
 *      (loading refuses those that carry LC_REQ_DYLD);
 *   4. the segments: inside the slice, ascending and disjoint, their sections inside them; for
 *      loading also never writable and executable, page-aligned, below 2^47;
 *   5. the linkedit data (fixups, export trie, symbol table): inside __LINKEDIT (a described file
 *      without one, an object file: inside the slice).
 * Both modes apply the same checks of the file's structure, in the same words; only what this
 * process cannot load is left to MACHO_LOAD.
 */
#include "macho/macho.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    LC_REQ_DYLD_BIT = 0x80000000u,
    LC_SYMTAB_ = 0x2, LC_DYSYMTAB_ = 0xb, LC_LOAD_DYLIB_ = 0xc, LC_ID_DYLIB_ = 0xd,
    LC_SEGMENT_64_ = 0x19, LC_LAZY_LOAD_DYLIB_ = 0x20, LC_DYLD_INFO_ = 0x22,
    LC_LOAD_WEAK_DYLIB_ = 0x18 | LC_REQ_DYLD_BIT, LC_RPATH_ = 0x1c | LC_REQ_DYLD_BIT,
    LC_REEXPORT_DYLIB_ = 0x1f | LC_REQ_DYLD_BIT, LC_DYLD_INFO_ONLY_ = 0x22 | LC_REQ_DYLD_BIT,
    LC_LOAD_UPWARD_DYLIB_ = 0x23 | LC_REQ_DYLD_BIT, LC_DYLD_EXPORTS_TRIE_ = 0x33 | LC_REQ_DYLD_BIT,
    LC_DYLD_CHAINED_FIXUPS_ = 0x34 | LC_REQ_DYLD_BIT,
    MH_DYLIB_ = 6, MH_BUNDLE_ = 8,
    MH_MAGIC_32_LE = 0xfeedfaceu, MH_CIGAM_32_LE = 0xcefaedfeu,
    VM_PROT_WRITE_ = 2, VM_PROT_EXECUTE_ = 4,
    SEG_CMD_SIZE = 72, SECT_SIZE = 80, MAX_FAT_SLICES = 30,
};

static uint32_t rd32(const uint8_t *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t rd64(const uint8_t *p, bool big)
{
    return big ? (uint64_t)rd32(p, true) << 32 | rd32(p + 4, true)
               : (uint64_t)rd32(p + 4, false) << 32 | rd32(p, false);
}

const char *macho_cpu_name(uint32_t cputype, uint32_t cpusubtype, char *buf, size_t bufsz)
{
    switch (cputype) {
    case MACHO_CPU_X86_64: return "x86_64";
    case MACHO_CPU_ARM64:
        return (cpusubtype & MACHO_CPU_SUBTYPE_MASK) == MACHO_CPU_SUBTYPE_ARM64E ? "arm64e" : "arm64";
    case 7:                return "i386";
    case 12:               return "arm";
    case 18:               return "ppc";
    case 0x01000012:       return "ppc64";
    case 0x0200000c:       return "arm64_32";
    default:
        snprintf(buf, bufsz, "cputype 0x%x", cputype);
        return buf;
    }
}

static uint32_t native_cputype(void)
{
    return arch_native()->macho_cputype;
}

/* A thin Mach-O magic alone is enough (a file cut short after it is a Mach-O file to refuse in
 * Mach-O words); a universal one needs its count too. */
bool macho_sniff(struct source *s)
{
    uint8_t b[8];
    if (s->size < 4 || source_read(s, 0, b, 4, &(struct diag){ 0 }))
        return false;
    uint32_t le = rd32(b, false);
    if (le == MH_MAGIC_64_LE || le == MH_CIGAM_64_LE || le == 0xfeedfaceu)
        return true;
    if (s->size < 8 || source_read(s, 0, b, 8, &(struct diag){ 0 }))
        return false;
    uint32_t be = rd32(b, true);
    /* A Java class file starts with 0xcafebabe too; its next word (versions) is large. */
    return (be == FAT_MAGIC_BE || be == FAT_MAGIC_64_BE) && rd32(b + 4, true) <= MAX_FAT_SLICES;
}

/* The entries of a universal header of n slices (esz bytes each), each inside the file. */
static int fat_entries(struct macho_slices *f, const uint8_t *table, uint32_t n, size_t esz, struct source *s,
                       struct diag *d)
{
    bool wide = esz == 32;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = table + (size_t)i * esz;
        struct macho_slice *sl = &f->v[i];
        *sl = (struct macho_slice){ wide ? rd64(e + 8, true) : rd32(e + 8, true),
                                    wide ? rd64(e + 16, true) : rd32(e + 12, true), rd32(e, true), rd32(e + 4, true) };
        if (sl->off < 8 + (uint64_t)n * esz || !range_in(sl->off, sl->size, s->size))
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "slice %u (offset 0x%llx, size 0x%llx) is not inside the file (size %llu)", i,
                             (unsigned long long)sl->off, (unsigned long long)sl->size, (unsigned long long)s->size);
        for (uint32_t k = 0; k < i; k++)        /* disjoint: each slice's bytes are its own */
            if (sl->off < f->v[k].off + f->v[k].size && f->v[k].off < sl->off + sl->size)
                return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                                 "slices %u and %u overlap (offsets 0x%llx and 0x%llx, sizes 0x%llx and 0x%llx)", k,
                                 i, (unsigned long long)f->v[k].off, (unsigned long long)sl->off,
                                 (unsigned long long)f->v[k].size, (unsigned long long)sl->size);
    }
    return 0;
}

/* Stage 1: the universal header's table, or the whole file as one slice. */
int macho_read_slices(struct macho_slices *f, struct source *s, struct diag *d)
{
    uint8_t h[8] = { 0 }, table[MAX_FAT_SLICES * 32];
    memset(f, 0, sizeof *f);
    if (source_read(s, 0, h, s->size < 8 ? (size_t)s->size : 8, d))   /* a thin file may be shorter */
        return -1;
    uint32_t magic = rd32(h, true), n = rd32(h + 4, true);
    bool fat = magic == FAT_MAGIC_BE || magic == FAT_MAGIC_64_BE;
    size_t esz = magic == FAT_MAGIC_64_BE ? 32 : 20;
    if (fat && (n == 0 || n > MAX_FAT_SLICES))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "universal header counts %u slices", n);
    if (fat && !range_in(8, n * esz, s->size))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "universal header of %u slices is truncated (file size %llu)",
                         n, (unsigned long long)s->size);
    if (fat && source_read(s, 8, table, n * esz, d))
        return -1;
    if (!(f->v = calloc(fat ? n : 1, sizeof *f->v)))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    f->n = fat ? n : 1;
    f->fat_magic = fat ? magic : 0;
    if (!fat)
        f->v[0] = (struct macho_slice){ 0, s->size, 0, 0 };
    if (fat && fat_entries(f, table, n, esz, s, d)) {
        macho_slices_free(f);
        return -1;
    }
    return 0;
}

void macho_slices_free(struct macho_slices *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

static bool is_arm64e(uint32_t cputype, uint32_t cpusubtype)
{
    return cputype == MACHO_CPU_ARM64 && (cpusubtype & MACHO_CPU_SUBTYPE_MASK) == MACHO_CPU_SUBTYPE_ARM64E;
}

/* For loading: this CPU's slice of a universal file (the first that is not arm64e). */
static int pick_slice(const struct macho_slices *f, struct macho_slice *out, struct source *s, struct diag *d)
{
    char names[256] = "", buf[32];
    bool arm64e = false;
    for (size_t i = 0; i < f->n; i++) {
        const struct macho_slice *sl = &f->v[i];
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 macho_cpu_name(sl->cputype, sl->cpusubtype, buf, sizeof buf));
        arm64e |= sl->cputype == native_cputype() && is_arm64e(sl->cputype, sl->cpusubtype);
        if (sl->cputype == native_cputype() && !is_arm64e(sl->cputype, sl->cpusubtype) && !out->size)
            *out = *sl;
    }
    if (out->size)
        return 0;
    if (arm64e)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name,
                         "universal file has only an arm64e slice for this CPU (slices: %s); arm64e is not supported",
                         names);
    return diag_fail(d, PLUGIN_ERR_ARCH, s->name, "universal file has no %s slice (slices: %s)",
                     macho_cpu_name(native_cputype(), 0, buf, sizeof buf), names);
}

/* A 32-bit or big-endian header: loading refuses it; describing names its CPU only. */
static int foreign_header(struct macho *m, const uint8_t *h, uint32_t magic, enum macho_mode mode, struct source *s,
                          struct diag *d)
{
    bool big = magic == MH_CIGAM_64_LE || magic == MH_CIGAM_32_LE;
    if (mode == MACHO_LOAD)
        return diag_fail(d, PLUGIN_ERR_ARCH, s->name, "is a %s Mach-O object; this process is 64-bit little-endian",
                         magic == MH_CIGAM_64_LE ? "big-endian" : big ? "32-bit big-endian" : "32-bit");
    m->cputype = rd32(h + 4, big);
    m->cpusubtype = rd32(h + 8, big);
    m->unsupported = magic == MH_CIGAM_64_LE ? "a big-endian Mach-O, not described" : "a 32-bit Mach-O, not described";
    return 0;
}

/* The name of a file type that is not loadable, and what such a file is ("MH_EXECUTE (an
 * executable"), or NULL for a number Apple does not define. */
static const char *filetype_what(uint32_t t)
{
    static const char *const what[] = {
        [1] = "MH_OBJECT (a relocatable object file", [2] = "MH_EXECUTE (an executable",
        [3] = "MH_FVMLIB (a fixed VM shared library", [4] = "MH_CORE (a core file",
        [5] = "MH_PRELOAD (a preloaded executable", [7] = "MH_DYLINKER (a dynamic linker",
        [9] = "MH_DYLIB_STUB (a stub of a dylib, without code", [10] = "MH_DSYM (debug information",
        [11] = "MH_KEXT_BUNDLE (a kernel extension", [12] = "MH_FILESET (a set of Mach-O files",
    };
    return t < sizeof what / sizeof what[0] ? what[t] : NULL;
}

/* What loading refuses in a well-formed header: another CPU, arm64e, another file type. */
static int loadable_header(const struct macho *m, struct source *s, struct diag *d)
{
    char b1[32], b2[32];
    if (m->cputype != native_cputype())
        return diag_fail(d, PLUGIN_ERR_ARCH, s->name, "is built for %s; this process is %s",
                         macho_cpu_name(m->cputype, m->cpusubtype, b1, sizeof b1),
                         macho_cpu_name(native_cputype(), 0, b2, sizeof b2));
    if (is_arm64e(m->cputype, m->cpusubtype))
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name, "is arm64e (pointer authentication): not supported");
    if (m->filetype != MH_DYLIB_ && m->filetype != MH_BUNDLE_ && filetype_what(m->filetype))
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name, "is %s, not a dylib or bundle)",
                         filetype_what(m->filetype));
    if (m->filetype != MH_DYLIB_ && m->filetype != MH_BUNDLE_)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name, "Mach-O file type %u is not MH_DYLIB or MH_BUNDLE",
                         m->filetype);
    return 0;
}

/* Stage 2: the mach_header_64 of the slice, and a copy of its load commands. */
static int read_header(struct macho *m, struct source *s, enum macho_mode mode, struct diag *d)
{
    uint8_t h[32];
    if (m->slice_size < sizeof h || source_read(s, m->slice_off, h, sizeof h, d))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "too short for a Mach-O header");
    uint32_t magic = rd32(h, false);
    if (magic == MH_CIGAM_64_LE || magic == MH_MAGIC_32_LE || magic == MH_CIGAM_32_LE)
        return foreign_header(m, h, magic, mode, s, d);
    if (magic != MH_MAGIC_64_LE)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "slice has no Mach-O magic (0x%08x)", magic);
    m->cputype = rd32(h + 4, false);
    m->cpusubtype = rd32(h + 8, false);
    m->filetype = rd32(h + 12, false);
    m->ncmds = rd32(h + 16, false);
    m->sizeofcmds = rd32(h + 20, false);
    m->flags = rd32(h + 24, false);
    if (mode == MACHO_LOAD && loadable_header(m, s, d))
        return -1;
    if (!range_in(sizeof h, m->sizeofcmds, m->slice_size) || m->sizeofcmds > (16u << 20) ||
        m->ncmds > m->sizeofcmds / 8)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "load commands (%u of them, %u bytes) do not fit the file", m->ncmds, m->sizeofcmds);
    if (!(m->cmds = malloc(m->sizeofcmds ? m->sizeofcmds : 1)) ||
        !(m->commands = calloc(m->ncmds ? m->ncmds : 1, sizeof *m->commands)))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    return source_read(s, m->slice_off + sizeof h, m->cmds, m->sizeofcmds, d);
}

/* A string named by an lc_str offset: inside the command, terminated inside it. */
static const char *cmd_string(const uint8_t *cmd, uint32_t cmdsize, uint32_t off)
{
    if (off >= cmdsize || !memchr(cmd + off, '\0', cmdsize - off))
        return NULL;
    return (const char *)cmd + off;
}

static int set_range(struct macho_range *r, const uint8_t *p, const char *what, struct source *s, struct diag *d)
{
    if (r->present)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "more than one %s", what);
    *r = (struct macho_range){ rd32(p, false), rd32(p + 4, false), true };
    if (!r->size)
        r->present = false;
    return 0;
}

/* The section headers of segment g (command c): each inside the segment's memory. */
static int add_sections(struct macho *m, const struct macho_segment *g, const uint8_t *c, struct source *s,
                        struct diag *d)
{
    if (!g->nsects)
        return 0;
    struct macho_section *ns = realloc(m->sects, (m->nsects + g->nsects) * sizeof *ns);
    if (!ns)
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    m->sects = ns;
    for (uint32_t k = 0; k < g->nsects; k++) {
        const uint8_t *sc = c + SEG_CMD_SIZE + (size_t)k * SECT_SIZE;
        struct macho_section x = { rd64(sc + 32, false), rd64(sc + 40, false), rd32(sc + 64, false) };
        char name[17];
        if (x.addr < g->vmaddr || !range_in(x.addr - g->vmaddr, x.size, g->vmsize)) {
            memcpy(name, sc, 16);
            name[16] = '\0';
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "section %s,%s (addr 0x%llx, size 0x%llx) is not inside its segment", g->name, name,
                             (unsigned long long)x.addr, (unsigned long long)x.size);
        }
        m->sects[m->nsects++] = x;
    }
    return 0;
}

static int add_segment(struct macho *m, const uint8_t *c, uint32_t cmdsize, struct source *s, struct diag *d)
{
    uint32_t nsects = cmdsize >= SEG_CMD_SIZE ? rd32(c + 64, false) : 0;
    if (cmdsize < SEG_CMD_SIZE || (cmdsize - SEG_CMD_SIZE) / SECT_SIZE < nsects)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_SEGMENT_64 of %u bytes is too small for %u sections",
                         cmdsize, nsects);
    struct macho_segment *n = realloc(m->segs, (m->nsegs + 1) * sizeof *n);
    if (!n)
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    m->segs = n;
    struct macho_segment *g = &m->segs[m->nsegs++];
    memcpy(g->name, c + 8, 16);
    g->name[16] = '\0';
    g->vmaddr = rd64(c + 24, false);
    g->vmsize = rd64(c + 32, false);
    g->fileoff = rd64(c + 40, false);
    g->filesize = rd64(c + 48, false);
    g->maxprot = rd32(c + 56, false);
    g->initprot = rd32(c + 60, false);
    g->nsects = nsects;
    g->flags = rd32(c + 68, false);
    /* One __LINKEDIT: its ranges are checked against it and read through it (macho_linkedit). */
    for (size_t i = 0; i + 1 < m->nsegs && !strcmp(g->name, "__LINKEDIT"); i++)
        if (!strcmp(m->segs[i].name, "__LINKEDIT"))
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has two __LINKEDIT segments");
    return add_sections(m, g, c, s, d);
}

static int add_dylib(struct macho *m, const uint8_t *c, uint32_t cmd, uint32_t cmdsize, struct source *s,
                     struct diag *d)
{
    const char *name = cmdsize >= 24 ? cmd_string(c, cmdsize, rd32(c + 8, false)) : NULL;
    if (!name)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "load command 0x%x has a bad dylib name", cmd);
    if (cmd == LC_ID_DYLIB_) {
        m->install_name = name;
        return 0;
    }
    struct macho_dylib *n = realloc(m->dylibs, (m->ndylibs + 1) * sizeof *n);
    if (!n)
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    m->dylibs = n;
    m->dylibs[m->ndylibs++] = (struct macho_dylib){ name, cmd == LC_LOAD_WEAK_DYLIB_, cmd == LC_REEXPORT_DYLIB_, cmd };
    return 0;
}

static int add_rpath(struct macho *m, const uint8_t *c, uint32_t cmdsize, struct source *s, struct diag *d)
{
    const char *path = cmdsize >= 12 ? cmd_string(c, cmdsize, rd32(c + 8, false)) : NULL;
    if (!path)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_RPATH has a bad path");
    const char **n = realloc(m->rpaths, (m->nrpaths + 1) * sizeof *n);
    if (!n)
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    m->rpaths = n;
    m->rpaths[m->nrpaths++] = path;
    return 0;
}

static int dyld_info(struct macho *m, const uint8_t *c, uint32_t cmd, uint32_t cmdsize, struct source *s,
                     struct diag *d)
{
    if (cmdsize < 48)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_DYLD_INFO of %u bytes is too small", cmdsize);
    if (m->dyld_info)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "more than one LC_DYLD_INFO");
    m->dyld_info = true;
    m->dyld_info_cmd = cmd;
    return set_range(&m->rebase, c + 8, "rebase", s, d) || set_range(&m->bind, c + 16, "bind", s, d) ||
           set_range(&m->weak_bind, c + 24, "weak bind", s, d) ||
           set_range(&m->lazy_bind, c + 32, "lazy bind", s, d) || set_range(&m->exports, c + 40, "export", s, d);
}

/* One load command, already known to lie inside the command area. */
static int one_command(struct macho *m, const uint8_t *c, uint32_t cmd, uint32_t cmdsize, enum macho_mode mode,
                       struct source *s, struct diag *d)
{
    switch (cmd) {
    case LC_SEGMENT_64_:
        return add_segment(m, c, cmdsize, s, d);
    case LC_DYLD_INFO_:
    case LC_DYLD_INFO_ONLY_:
        return dyld_info(m, c, cmd, cmdsize, s, d);
    case LC_DYLD_CHAINED_FIXUPS_:
        m->chained_fixups = true;
        return cmdsize < 16 ? diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_DYLD_CHAINED_FIXUPS is too small")
                            : set_range(&m->chained, c + 8, "LC_DYLD_CHAINED_FIXUPS", s, d);
    case LC_DYLD_EXPORTS_TRIE_:
        return cmdsize < 16 ? diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_DYLD_EXPORTS_TRIE is too small")
                            : set_range(&m->exports_trie, c + 8, "LC_DYLD_EXPORTS_TRIE", s, d);
    case LC_SYMTAB_:
        if (cmdsize < 24 || m->symtab.present)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_SYMTAB is too small or repeated");
        m->nsyms = rd32(c + 12, false);
        m->symtab = (struct macho_range){ rd32(c + 8, false), 0, true };
        m->strtab = (struct macho_range){ rd32(c + 16, false), rd32(c + 20, false), true };
        if ((uint64_t)m->nsyms * 16 > UINT32_MAX)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "LC_SYMTAB counts %u symbols", m->nsyms);
        m->symtab.size = m->nsyms * 16;
        return 0;
    case LC_LOAD_DYLIB_: case LC_LOAD_WEAK_DYLIB_: case LC_REEXPORT_DYLIB_: case LC_LOAD_UPWARD_DYLIB_:
    case LC_LAZY_LOAD_DYLIB_: case LC_ID_DYLIB_:
        return add_dylib(m, c, cmd, cmdsize, s, d);
    case LC_RPATH_:
        return add_rpath(m, c, cmdsize, s, d);
    default:
        if ((cmd & LC_REQ_DYLD_BIT) && mode == MACHO_LOAD)
            return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name,
                             "requires load command 0x%x, which this loader does not know", cmd);
        return 0;                   /* LC_UUID, LC_BUILD_VERSION, LC_DYSYMTAB, ...: not needed */
    }
}

/* Stage 3: walk the load commands. */
static int walk_commands(struct macho *m, enum macho_mode mode, struct source *s, struct diag *d)
{
    uint32_t off = 0;
    for (uint32_t i = 0; i < m->ncmds; i++) {
        if (m->sizeofcmds - off < 8)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "load command %u is truncated", i);
        const uint8_t *c = m->cmds + off;
        uint32_t cmd = rd32(c, false), cmdsize = rd32(c + 4, false);
        if (cmdsize < 8 || cmdsize % 8 || cmdsize > m->sizeofcmds - off)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "load command %u (0x%x) has size %u, which does not fit the %u bytes left", i, cmd,
                             cmdsize, m->sizeofcmds - off);
        m->commands[i] = (struct macho_command){ cmd, cmdsize };
        if (one_command(m, c, cmd, cmdsize, mode, s, d))
            return -1;
        off += cmdsize;
    }
    if (m->dyld_info && m->chained_fixups)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has both LC_DYLD_INFO and LC_DYLD_CHAINED_FIXUPS");
    return 0;
}

/* What loading adds to segment g (ending at end): below 2^47, never W+X, page-aligned. */
static int loadable_segment(const struct macho_segment *g, uint64_t end, struct source *s, struct diag *d)
{
    uint64_t page = vm_page_size();
    if (end > (1ULL << 47))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "segment %s (vmaddr 0x%llx, vmsize 0x%llx, fileoff 0x%llx, filesize 0x%llx) is malformed",
                         g->name, (unsigned long long)g->vmaddr, (unsigned long long)g->vmsize,
                         (unsigned long long)g->fileoff, (unsigned long long)g->filesize);
    uint32_t flags = ((g->initprot & VM_PROT_WRITE_) ? SEG_W : 0) | ((g->initprot & VM_PROT_EXECUTE_) ? SEG_X : 0);
    if (policy_segment(s->name, g->name, flags, d))     /* W^X (core/policy.c) */
        return -1;
    if (g->vmsize && (g->vmaddr % page || (g->filesize && g->fileoff % page)))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "segment %s (vmaddr 0x%llx) is misaligned or overlaps the one before", g->name,
                         (unsigned long long)g->vmaddr);
    return 0;
}

/* Stage 4: segments inside the slice, ascending and disjoint in memory (and loadable). The image's
 * base is the vmaddr of the last mapped segment that holds the header (file offset 0). */
static int check_segments(struct macho *m, enum macho_mode mode, struct source *s, struct diag *d)
{
    uint64_t prev_end = 0, end;
    if (!m->nsegs)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has no LC_SEGMENT_64");
    for (size_t i = 0; i < m->nsegs; i++) {
        const struct macho_segment *g = &m->segs[i];
        if (!range_in(g->fileoff, g->filesize, m->slice_size) || g->filesize > g->vmsize ||
            !add_ok(g->vmaddr, g->vmsize, &end))
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "segment %s (vmaddr 0x%llx, vmsize 0x%llx, fileoff 0x%llx, filesize 0x%llx) is malformed",
                             g->name, (unsigned long long)g->vmaddr, (unsigned long long)g->vmsize,
                             (unsigned long long)g->fileoff, (unsigned long long)g->filesize);
        if (mode == MACHO_LOAD && loadable_segment(g, end, s, d))
            return -1;
        if (!g->vmsize)
            continue;
        if (g->vmaddr < prev_end)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "segment %s (vmaddr 0x%llx) is misaligned or overlaps the one before", g->name,
                             (unsigned long long)g->vmaddr);
        prev_end = end;
        if (g->fileoff == 0 && g->filesize)
            m->base_vaddr = g->vmaddr;
    }
    return 0;
}

/* Stage 5: every piece of linkedit data lies inside __LINKEDIT's file range (a described file
 * without __LINKEDIT, an object file: inside the slice). */
static int check_linkedit(struct macho *m, enum macho_mode mode, struct source *s, struct diag *d)
{
    const struct macho_segment *le = NULL;
    for (size_t i = 0; i < m->nsegs; i++)
        if (strcmp(m->segs[i].name, "__LINKEDIT") == 0)
            le = &m->segs[i];
    const struct { const struct macho_range *r; const char *name; } all[] = {
        { &m->rebase, "rebase info" }, { &m->bind, "bind info" }, { &m->weak_bind, "weak bind info" },
        { &m->lazy_bind, "lazy bind info" }, { &m->exports, "export info" },
        { &m->chained, "chained fixups" }, { &m->exports_trie, "export trie" },
        { &m->symtab, "symbol table" }, { &m->strtab, "string table" },
    };
    if (le && (!(le->initprot & 1) || (le->initprot & VM_PROT_WRITE_) || le->filesize > le->vmsize))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "__LINKEDIT must be readable and not writable (initprot %u)",
                         le->initprot);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const struct macho_range *r = all[i].r;
        if (!r->present || !r->size)
            continue;
        if (!le && mode == MACHO_DESCRIBE && range_in(r->off, r->size, m->slice_size))
            continue;
        if (!le || r->off < le->fileoff || !range_in(r->off - le->fileoff, r->size, le->filesize))
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "%s (offset 0x%x, size 0x%x) is not inside __LINKEDIT",
                             all[i].name, r->off, r->size);
    }
    return 0;
}

int macho_read_slice(struct macho *m, struct source *s, const struct macho_slice *sl, enum macho_mode mode,
                     struct diag *d)
{
    memset(m, 0, sizeof *m);
    m->slice_off = sl->off;
    m->slice_size = sl->size;
    if (read_header(m, s, mode, d))
        goto fail;
    if (m->unsupported)
        return 0;
    if (walk_commands(m, mode, s, d) || check_segments(m, mode, s, d) || check_linkedit(m, mode, s, d))
        goto fail;
    return 0;
fail:
    macho_free(m);
    return -1;
}

int macho_read_headers(struct macho *m, struct source *s, struct diag *d)
{
    struct macho_slices f;
    struct macho_slice sl = { 0 };
    memset(m, 0, sizeof *m);
    int rc = macho_read_slices(&f, s, d);
    if (!rc && f.fat_magic)
        rc = pick_slice(&f, &sl, s, d);
    else if (!rc)
        sl = f.v[0];
    if (!rc)
        rc = macho_read_slice(m, s, &sl, MACHO_LOAD, d);
    macho_slices_free(&f);
    return rc;
}

void macho_free(struct macho *m)
{
    free(m->cmds);
    free(m->commands);
    free(m->segs);
    free(m->sects);
    free(m->dylibs);
    free(m->rpaths);
    memset(m, 0, sizeof *m);
}
