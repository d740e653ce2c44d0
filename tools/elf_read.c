/*
 * elf_read.c — read an ELF file for `plugin info` and `plugin symbols`, without loading it.
 *
 * An ELF file offers two views of itself:
 *   - the program headers (segments) are the loader's view: what to map where, and PT_DYNAMIC,
 *     the table that names the needed libraries, the string table and the relocation tables;
 *   - the section headers are the linker's view (.dynsym, .rela.dyn, .gnu.version, ...). They are
 *     optional at run time, but they make a tool's life easier.
 * The dynamic information is read the way a loader does, through PT_DYNAMIC; relocations are
 * counted from the sections (from the dynamic table when the section headers were stripped);
 * exported symbols come from .dynsym and its version sections.
 *
 * Every file is untrusted. libelf checks that the data it hands out lies inside the file; this
 * code checks the rest: string offsets, entry counts, table sizes, version indices. A malformed
 * file gives one error line, never a crash.
 */
#include "elf_read.h"

#include "arch.h"
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* ---- Opening a file ------------------------------------------------------------------------ */


/* Print "plugin: FILE: cause" to stderr. Returns -1 so that callers can `return fail(...)`. */
int fail(const struct elf_file *f, const char *fmt, ...)
{
    va_list ap;
    if (f->quiet)
        return -1;
    fprintf(stderr, "plugin: %s: ", f->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static int fail_elf(const struct elf_file *f, const char *what)
{
    return fail(f, "%s: %s", what, elf_errmsg(-1));
}

void elf_file_close(struct elf_file *f)
{
    free(f->ph);
    if (f->elf)
        elf_end(f->elf);
    if (f->fd >= 0)
        close(f->fd);
}

/* Read the program header table into f->ph, after checking that it can fit in the file. */
static int read_program_headers(struct elf_file *f)
{
    if (f->phnum == 0)
        return 0;
    if (f->phnum > f->size / gelf_fsize(f->elf, ELF_T_PHDR, 1, EV_CURRENT))
        return fail(f, "%zu program headers cannot fit in a file of %" PRIu64 " bytes",
                    f->phnum, f->size);
    f->ph = calloc(f->phnum, sizeof *f->ph);
    if (!f->ph)
        return fail(f, "out of memory");
    for (size_t i = 0; i < f->phnum; i++)
        if (!gelf_getphdr(f->elf, (int)i, &f->ph[i]))
            return fail(f, "program header %zu: %s", i, elf_errmsg(-1));
    return 0;
}

/* One header table must lie inside the file. libelf quietly shortens a table that runs past the
 * end; a truncated file must be reported as such, not described as a smaller one. */
static int check_table(const struct elf_file *f, const char *what, uint64_t off, uint64_t n,
                       uint64_t entsz, Elf_Type type)
{
    if (n == 0)
        return 0;
    if (entsz != gelf_fsize(f->elf, type, 1, EV_CURRENT))
        return fail(f, "%s: entry size %" PRIu64 ", expected %zu", what, entsz,
                    gelf_fsize(f->elf, type, 1, EV_CURRENT));
    if (off > f->size || n > (f->size - off) / entsz)
        return fail(f, "%s (%" PRIu64 " entries at offset 0x%" PRIx64 ") runs past the end of "
                    "the file (%" PRIu64 " bytes)", what, n, off, f->size);
    return 0;
}

static int check_tables(struct elf_file *f)
{
    uint64_t phnum = f->eh.e_phnum == PN_XNUM ? f->phnum : f->eh.e_phnum;
    uint64_t shnum = f->eh.e_shnum == 0 ? f->shnum : f->eh.e_shnum;
    if (f->eh.e_shoff == 0)
        shnum = 0;
    if (check_table(f, "program header table", f->eh.e_phoff, phnum, f->eh.e_phentsize,
                    ELF_T_PHDR) != 0 ||
        check_table(f, "section header table", f->eh.e_shoff, shnum, f->eh.e_shentsize,
                    ELF_T_SHDR) != 0)
        return -1;
    return 0;
}

/* Open path and check that it is an ELF file whose headers libelf can read. */
int elf_file_open(struct elf_file *f, const char *path, int quiet)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    f->path = path;
    f->quiet = quiet;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return fail(f, "cannot open: %s", strerror(errno));
    if (fstat(f->fd, &st) != 0)
        return fail(f, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(f, "not a regular file");
    f->size = (uint64_t)st.st_size;
    f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
    if (!f->elf)
        return fail_elf(f, "cannot read");
    if (elf_kind(f->elf) == ELF_K_AR)
        return fail(f, "an ar archive (a static library), not an ELF object");
    if (elf_kind(f->elf) != ELF_K_ELF)
        return fail(f, "not an ELF file");
    if (!gelf_getehdr(f->elf, &f->eh))
        return fail_elf(f, "bad ELF header");
    if (elf_getphdrnum(f->elf, &f->phnum) != 0)
        return fail_elf(f, "bad program header count");
    if (elf_getshdrnum(f->elf, &f->shnum) != 0)
        return fail_elf(f, "bad section header count");
    if (check_tables(f) != 0)
        return -1;
    return read_program_headers(f);
}

/* ---- Reading pieces of the file ------------------------------------------------------------ */

/* Bytes [off, off + size) of the file as an array of type, converted to host byte order. */
static Elf_Data *file_chunk(struct elf_file *f, uint64_t off, uint64_t size, Elf_Type type,
                            const char *what)
{
    if (off > f->size || size > f->size - off) {
        fail(f, "%s at offset 0x%" PRIx64 " (size 0x%" PRIx64 ") lies outside the file "
             "(size 0x%" PRIx64 ")", what, off, size, f->size);
        return NULL;
    }
    Elf_Data *d = elf_getdata_rawchunk(f->elf, (int64_t)off, (size_t)size, type);
    if (!d)
        fail_elf(f, what);
    return d;
}

/* The same for a run-time address: find the PT_LOAD segment whose file bytes hold it. */
Elf_Data *addr_chunk(struct elf_file *f, uint64_t addr, uint64_t size, Elf_Type type,
                            const char *what)
{
    for (size_t i = 0; i < f->phnum; i++) {
        const GElf_Phdr *p = &f->ph[i];
        if (p->p_type != PT_LOAD || addr < p->p_vaddr)
            continue;
        uint64_t delta = addr - p->p_vaddr;
        if (delta > p->p_filesz || size > p->p_filesz - delta || p->p_offset > ABSENT - delta)
            continue;
        return file_chunk(f, p->p_offset + delta, size, type, what);
    }
    fail(f, "%s at address 0x%" PRIx64 " (size 0x%" PRIx64 ") is not inside a loaded segment",
         what, addr, size);
    return NULL;
}

/* The first section of a type, or NULL. */
static Elf_Scn *find_section(struct elf_file *f, GElf_Word type, GElf_Shdr *sh)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(f->elf, scn)) != NULL)
        if (gelf_getshdr(scn, sh) && sh->sh_type == type)
            return scn;
    return NULL;
}

/* The contents of a section, converted to host byte order. */
static Elf_Data *section_data(struct elf_file *f, Elf_Scn *scn)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d)
        fail(f, "section %zu: %s", elf_ndxscn(scn), elf_errmsg(-1));
    return d;
}

/* Number of whole entries of type in d; -1 (after an error) when d is not made of them. */
static long entry_count(struct elf_file *f, const Elf_Data *d, Elf_Type type, const char *what)
{
    size_t entsz = gelf_fsize(f->elf, type, 1, EV_CURRENT);
    if (entsz == 0 || d->d_size % entsz != 0 || d->d_size / entsz > INT_MAX)
        return fail(f, "%s: size 0x%zx is not a whole number of entries of %zu bytes",
                    what, d->d_size, entsz);
    return (long)(d->d_size / entsz);
}

/* ---- The dynamic table (PT_DYNAMIC) -------------------------------------------------------- */


/* Remember one dynamic entry that `info` reports or uses. */
static void note_dynamic(struct dynamic *d, const GElf_Dyn *e)
{
    uint64_t v = e->d_un.d_val;
    switch (e->d_tag) {
    case DT_NEEDED:   d->needed[d->nneeded++] = v; break;
    case DT_SONAME:   d->soname = v; break;
    case DT_RUNPATH:  d->runpath = v; break;
    case DT_RPATH:    d->rpath = v; break;
    case DT_STRTAB:   d->strtab = v; break;
    case DT_STRSZ:    d->strsz = v; break;
    case DT_FLAGS_1:  d->flags_1 = v; break;
    case DT_RELA:     d->rela = v; break;
    case DT_RELASZ:   d->relasz = v; break;
    case DT_REL:      d->rel = v; break;
    case DT_RELSZ:    d->relsz = v; break;
    case DT_JMPREL:   d->jmprel = v; break;
    case DT_PLTRELSZ: d->pltrelsz = v; break;
    case DT_PLTREL:   d->pltrel = v; break;
    case DT_RELR:     d->relr = v; break;
    case DT_RELRSZ:   d->relrsz = v; break;
    default:          break;
    }
}

/* Read PT_DYNAMIC, up to its DT_NULL. A file without one (an ET_REL object) has none. */
int scan_dynamic(struct elf_file *f, struct dynamic *d)
{
    *d = (struct dynamic){
        .strtab = ABSENT, .strsz = ABSENT, .soname = ABSENT, .runpath = ABSENT, .rpath = ABSENT,
        .rela = ABSENT, .relasz = ABSENT, .rel = ABSENT, .relsz = ABSENT, .jmprel = ABSENT,
        .pltrelsz = ABSENT, .pltrel = ABSENT, .relr = ABSENT, .relrsz = ABSENT,
    };
    const GElf_Phdr *p = NULL;
    for (size_t i = 0; i < f->phnum && !p; i++)
        if (f->ph[i].p_type == PT_DYNAMIC)
            p = &f->ph[i];
    if (!p)
        return 0;
    size_t entsz = gelf_fsize(f->elf, ELF_T_DYN, 1, EV_CURRENT);
    Elf_Data *data = file_chunk(f, p->p_offset, p->p_filesz - p->p_filesz % entsz, ELF_T_DYN,
                                "PT_DYNAMIC");
    if (!data)
        return -1;
    size_t n = data->d_size / entsz;
    d->present = 1;
    d->needed = calloc(n ? n : 1, sizeof *d->needed);
    if (!d->needed)
        return fail(f, "out of memory");
    for (size_t i = 0; i < n && i < INT_MAX; i++) {
        GElf_Dyn e;
        if (!gelf_getdyn(data, (int)i, &e))
            return fail_elf(f, "PT_DYNAMIC entry");
        if (e.d_tag == DT_NULL)
            break;
        note_dynamic(d, &e);
    }
    return 0;
}

/* The string at offset off of the dynamic string table (NULL when off is ABSENT). */
int dyn_string(struct elf_file *f, const Elf_Data *strtab, uint64_t off, const char *what,
                      const char **out)
{
    *out = NULL;
    if (off == ABSENT)
        return 0;
    if (!strtab)
        return fail(f, "%s present but PT_DYNAMIC has no DT_STRTAB/DT_STRSZ", what);
    if (off >= strtab->d_size)
        return fail(f, "%s: string offset 0x%" PRIx64 " is past the end of the string table "
                    "(size 0x%zx)", what, off, strtab->d_size);
    const char *s = (const char *)strtab->d_buf + off;
    if (!memchr(s, '\0', strtab->d_size - off))
        return fail(f, "%s: the string at offset 0x%" PRIx64 " is not terminated", what, off);
    *out = s;
    return 0;
}

/* ---- Relocations --------------------------------------------------------------------------- */



static int tally_add(struct reloc_tally *t, uint32_t type, uint64_t count)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].type == type) {
            t->v[i].count += count;
            return 0;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct reloc_count *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct reloc_count){ type, count };
    return 0;
}

/* Count the entries of an array of Elf_Rel or Elf_Rela, by type. */
static int count_rel_data(struct elf_file *f, struct reloc_tally *t, Elf_Data *d, int rela,
                          const char *what)
{
    long n = entry_count(f, d, rela ? ELF_T_RELA : ELF_T_REL, what);
    for (long i = 0; i < n; i++) {
        GElf_Rela r;
        GElf_Rel rel;
        if (rela ? !gelf_getrela(d, (int)i, &r) : !gelf_getrel(d, (int)i, &rel))
            return fail_elf(f, what);
        uint64_t info = rela ? r.r_info : rel.r_info;
        if (tally_add(t, (uint32_t)GELF_R_TYPE(info), 1) != 0)
            return fail(f, "out of memory");
    }
    return n < 0 ? -1 : 0;
}

/* The relocation type a RELR entry stands for: this CPU's RELATIVE. */
uint32_t relative_type(const struct elf_file *f)
{
    const struct arch *a = arch_for_elf_machine(f->eh.e_machine);
    for (size_t i = 0; a && i < a->ntypes; i++)
        if (a->types[i].kind == RK_RELATIVE)
            return a->types[i].type;
    return RELR_NO_ARCH;
}

/*
 * Count the relocations a RELR table encodes. RELR packs RELATIVE relocations: an even word is
 * an address (one relocation); an odd word is a bitmap whose bits 1..63 (1..31 for ELF32) each
 * stand for one relocation of a following word.
 */
static int count_relr_data(struct elf_file *f, struct reloc_tally *t, const Elf_Data *d)
{
    int is64 = f->eh.e_ident[EI_CLASS] == ELFCLASS64;
    size_t wsz = is64 ? 8 : 4;
    uint64_t n = 0;
    if (d->d_size % wsz != 0)
        return fail(f, "RELR table: size 0x%zx is not a multiple of %zu", d->d_size, wsz);
    for (size_t i = 0; i < d->d_size / wsz; i++) {
        uint64_t w = is64 ? ((const uint64_t *)d->d_buf)[i] : ((const uint32_t *)d->d_buf)[i];
        n += (w & 1) ? (uint64_t)__builtin_popcountll(w >> 1) : 1;
    }
    t->relr += n;
    return tally_add(t, relative_type(f), n) == 0 ? 0 : fail(f, "out of memory");
}

static Elf_Type relr_word_type(const struct elf_file *f)
{
    return f->eh.e_ident[EI_CLASS] == ELFCLASS64 ? ELF_T_XWORD : ELF_T_WORD;
}

/* Count the relocations of every SHT_REL, SHT_RELA and SHT_RELR section. */
static int count_section_relocs(struct elf_file *f, struct reloc_tally *t, int *saw_relr)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return fail_elf(f, "bad section header");
        if (sh.sh_size == 0)
            continue;
        if (sh.sh_type == SHT_RELR) {
            *saw_relr = 1;
            Elf_Data *d = file_chunk(f, sh.sh_offset, sh.sh_size, relr_word_type(f), "SHT_RELR");
            if (!d || count_relr_data(f, t, d) != 0)
                return -1;
        } else if (sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA) {
            Elf_Data *d = section_data(f, scn);
            if (!d || count_rel_data(f, t, d, sh.sh_type == SHT_RELA, "relocation section") != 0)
                return -1;
        }
    }
    return 0;
}

/* One relocation table named by the dynamic table (address and size in bytes). */
static int count_dyn_table(struct elf_file *f, struct reloc_tally *t, uint64_t addr,
                           uint64_t size, int rela, const char *what)
{
    if (addr == ABSENT || size == 0)
        return 0;
    if (size == ABSENT)
        return fail(f, "%s present without its size", what);
    Elf_Data *d = addr_chunk(f, addr, size, rela ? ELF_T_RELA : ELF_T_REL, what);
    return d ? count_rel_data(f, t, d, rela, what) : -1;
}

/* Count from the dynamic table: everything when the file has no sections, else only RELR. */
static int count_dynamic_relocs(struct elf_file *f, const struct dynamic *d,
                                struct reloc_tally *t, int relr_only)
{
    if (!relr_only) {
        if (count_dyn_table(f, t, d->rela, d->relasz, 1, "DT_RELA") != 0 ||
            count_dyn_table(f, t, d->rel, d->relsz, 0, "DT_REL") != 0)
            return -1;
        /* Some linkers place the PLT relocations inside the DT_RELA range: count them once. */
        int inside = d->rela != ABSENT && d->jmprel >= d->rela &&
                     d->jmprel - d->rela < d->relasz;
        if (!inside && count_dyn_table(f, t, d->jmprel, d->pltrelsz, d->pltrel == DT_RELA,
                                       "DT_JMPREL") != 0)
            return -1;
    }
    if (d->relr == ABSENT || d->relrsz == 0)
        return 0;
    if (d->relrsz == ABSENT)
        return fail(f, "DT_RELR present without DT_RELRSZ");
    Elf_Data *x = addr_chunk(f, d->relr, d->relrsz, relr_word_type(f), "DT_RELR");
    return x ? count_relr_data(f, t, x) : -1;
}

static int cmp_reloc(const void *a, const void *b)
{
    uint32_t x = ((const struct reloc_count *)a)->type, y = ((const struct reloc_count *)b)->type;
    return (x > y) - (x < y);
}

int count_relocs(struct elf_file *f, const struct dynamic *d, struct reloc_tally *t)
{
    int saw_relr = 0;
    if (count_section_relocs(f, t, &saw_relr) != 0)
        return -1;
    /* No sections: the dynamic table is all there is. Sections without RELR: an older libelf or
     * linker may not have labelled the table, so look for DT_RELR too. */
    if (d->present && !saw_relr && count_dynamic_relocs(f, d, t, f->shnum > 0) != 0)
        return -1;
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, cmp_reloc);
    return 0;
}

/* A relocation type's name ("R_X86_64_RELATIVE"), or its number in buf. */
const char *reloc_name(const struct elf_file *f, uint32_t type, char *buf, size_t bufsz)
{
    const struct arch *a = arch_for_elf_machine(f->eh.e_machine);
    const struct reloc_type *rt = a ? arch_reloc_type(a, type) : NULL;
    if (rt)
        return rt->name;
    if (type == RELR_NO_ARCH)
        return "RELATIVE";
    snprintf(buf, bufsz, "%" PRIu32, type);
    return buf;
}

/* ---- Exported symbols (.dynsym) ------------------------------------------------------------ */



/* Symbol versions: .gnu.version gives each .dynsym entry an index, .gnu.version_d names them. */
struct versions {
    Elf_Data *versym;           /* one half-word per .dynsym entry, or NULL */
    struct { unsigned ndx; const char *name; } *defs;
    size_t ndefs;
};

/* What plugin_lookup can find (as dlsym would): a defined function, variable, common, TLS or
 * untyped symbol; global, weak or GNU-unique binding; default or protected visibility. */
static int is_exported(const GElf_Sym *s)
{
    int type = GELF_ST_TYPE(s->st_info), bind = GELF_ST_BIND(s->st_info);
    int vis = GELF_ST_VISIBILITY(s->st_other);
    return s->st_shndx != SHN_UNDEF && type != STT_SECTION && type != STT_FILE &&
           (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) &&
           (vis == STV_DEFAULT || vis == STV_PROTECTED);
}

/* Walk .gnu.version_d: a chain of Verdef records (linked by vd_next), each naming its version
 * in its first Verdaux record (at vd_aux). The walk ends at vd_next == 0, after sh_info
 * records, or at the end of the section, whichever comes first. */
static int read_verdefs(struct elf_file *f, struct versions *v)
{
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(f, SHT_GNU_verdef, &sh);
    if (!scn)
        return 0;
    Elf_Data *d = section_data(f, scn);
    if (!d)
        return -1;
    size_t max = d->d_size / sizeof(Elf64_Verdef);
    if (d->d_size > INT_MAX || !(v->defs = calloc(max + 1, sizeof *v->defs)))
        return fail(f, ".gnu.version_d: too large");
    size_t off = 0;
    for (size_t k = 0; k < sh.sh_info && k < max; k++) {
        GElf_Verdef vd;
        GElf_Verdaux va;
        if (!gelf_getverdef(d, (int)off, &vd) || vd.vd_aux > d->d_size - off ||
            (vd.vd_cnt > 0 && !gelf_getverdaux(d, (int)(off + vd.vd_aux), &va)))
            return fail(f, ".gnu.version_d: bad record at offset 0x%zx", off);
        if (vd.vd_cnt > 0) {
            const char *name = elf_strptr(f->elf, sh.sh_link, va.vda_name);
            if (!name)
                return fail(f, ".gnu.version_d: bad name offset 0x%x", (unsigned)va.vda_name);
            v->defs[v->ndefs].ndx = vd.vd_ndx & 0x7fff;
            v->defs[v->ndefs++].name = name;
        }
        if (vd.vd_next == 0 || vd.vd_next > d->d_size - off)
            break;
        off += vd.vd_next;
    }
    return 0;
}

static int read_versions(struct elf_file *f, long nsyms, struct versions *v)
{
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(f, SHT_GNU_versym, &sh);
    if (scn) {
        if (!(v->versym = section_data(f, scn)))
            return -1;
        long n = entry_count(f, v->versym, ELF_T_HALF, ".gnu.version");
        if (n < 0)
            return -1;
        if (n < nsyms)
            return fail(f, ".gnu.version has %ld entries for %ld symbols", n, nsyms);
    }
    return read_verdefs(f, v);
}

/* The version of .dynsym entry i, as readelf shows it: name@@V (default) or name@V (hidden). */
static void set_version(const struct versions *v, int i, struct export *e)
{
    GElf_Versym vs;
    if (!v->versym || !gelf_getversym(v->versym, i, &vs))
        return;
    e->hidden = (vs & 0x8000) != 0;     /* the "hidden" bit: not the default version */
    unsigned ndx = vs & 0x7fff;
    for (size_t k = 0; ndx > VER_NDX_GLOBAL && k < v->ndefs; k++)
        if (v->defs[k].ndx == ndx)
            e->version = v->defs[k].name;
}

static int cmp_export(const void *a, const void *b)
{
    const struct export *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0 || x->version == y->version)
        return c;
    if (!x->version || !y->version)
        return x->version ? 1 : -1;
    return strcmp(x->version, y->version);
}

/* The exported symbols of .dynsym, sorted by name. */
int read_exports(struct elf_file *f, struct exports *out)
{
    GElf_Shdr sh;
    struct versions ver = { 0 };
    Elf_Scn *scn = find_section(f, SHT_DYNSYM, &sh);
    if (!scn)
        return 0;
    out->available = 1;
    Elf_Data *d = section_data(f, scn);
    long n = d ? entry_count(f, d, ELF_T_SYM, ".dynsym") : -1;
    int rc = n < 0 || read_versions(f, n, &ver) != 0 ? -1 : 0;
    if (rc == 0 && !(out->v = calloc((size_t)n + 1, sizeof *out->v)))
        rc = fail(f, "out of memory");
    for (long i = 1; rc == 0 && i < n; i++) {      /* entry 0 is the reserved null symbol */
        struct export *e = &out->v[out->n];
        if (!gelf_getsym(d, (int)i, &e->sym)) {
            rc = fail_elf(f, ".dynsym");
        } else if (is_exported(&e->sym)) {
            e->name = elf_strptr(f->elf, sh.sh_link, e->sym.st_name);
            if (!e->name)
                rc = fail(f, ".dynsym entry %ld: bad name offset 0x%x", i,
                          (unsigned)e->sym.st_name);
            set_version(&ver, (int)i, e);
            out->n++;
        }
    }
    free(ver.defs);
    if (rc == 0)
        qsort(out->v, out->n, sizeof *out->v, cmp_export);
    return rc;
}
