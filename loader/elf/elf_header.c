/*
 * elf_header.c — read and validate an ELF object's header and program headers.
 *
 * libelf (elfutils) reads the headers from memory: the first page of the file, which the source
 * read once (or, when the program headers lie further, one read up to their end), never a
 * mapping of the whole file; a memory image is read in place. This file
 * decides whether the object is something we will load, in the order a reader would check:
 * identification (magic, class, byte order, version) and the program header table's place,
 * checked on the raw bytes before libelf sees them (so that a short or odd file is refused in
 * words that name its defect, not libelf's), then the header (type, machine), then every
 * program header (ranges inside the file, alignment, flags), then the relations between them (PT_LOADs ascending and disjoint, PT_DYNAMIC and PT_GNU_RELRO inside a
 * PT_LOAD). Nothing is mapped until all of it holds.
 *
 * To describe a file (ELF_DESCRIBE, for plugin info) the same checks run, except the ones that
 * only say whether this process can load it: the CPU, the type (an executable is described),
 * the page-size alignment, writable-and-executable segments, an executable stack, PT_DYNAMIC.
 */
#include "elf/elf.h"

#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_ident(struct source *s, const unsigned char *id, struct diag *d)
{
    const struct arch *me = arch_native();
    if (id[EI_CLASS] != ELFCLASS64)
        return diag_fail(d, PLUGIN_ERR_ARCH, s->name,
                         "is a %s object (EI_CLASS %u); this process is 64-bit %s",
                         id[EI_CLASS] == ELFCLASS32 ? "32-bit" : "malformed", id[EI_CLASS], me->name);
    if (id[EI_DATA] != ELFDATA2LSB)
        return diag_fail(d, PLUGIN_ERR_ARCH, s->name,
                         "is not little-endian (EI_DATA %u); this process is little-endian %s",
                         id[EI_DATA], me->name);
    if (id[EI_VERSION] != EV_CURRENT)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "unknown ELF version %u", id[EI_VERSION]);
    return 0;
}

/* The program header table: a sane count, inside the file. */
static int check_phdr_table(struct source *s, uint64_t phoff, size_t phnum, struct diag *d)
{
    if (phnum == 0 || phnum > 4096)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "e_phnum %zu out of range (1..4096)", phnum);
    if (!range_in(phoff, (uint64_t)phnum * sizeof(Elf64_Phdr), s->size))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "program headers (e_phoff 0x%llx, %zu entries) extend past the end of the file (size %llu)",
                         (unsigned long long)phoff, phnum, (unsigned long long)s->size);
    return 0;
}

/* What libelf would refuse in words of its own ("invalid ELF file data"), checked first so that
 * the message names the defect: a file shorter than the ELF header, a bad identification, a
 * program header table that does not fit the file. (An e_phnum of PN_XNUM, whose real count is
 * in section header 0, is left to libelf and check_ehdr.) */
static int check_raw_header(struct source *s, struct diag *d)
{
    Elf64_Ehdr eh;
    if (s->size < sizeof eh)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "too short for an ELF header (%llu bytes, need %zu)",
                         (unsigned long long)s->size, sizeof eh);
    if (source_read(s, 0, &eh, sizeof eh, d) || check_ident(s, eh.e_ident, d))
        return -1;
    return eh.e_phnum == PN_XNUM ? 0 : check_phdr_table(s, eh.e_phoff, eh.e_phnum, d);
}

static int check_ehdr(struct source *s, const Elf64_Ehdr *eh, size_t phnum, bool load, struct diag *d)
{
    const struct arch *me = arch_native();
    char buf[16];
    if (eh->e_type == ET_EXEC && load)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name,
                         "is an executable (ET_EXEC), not a shared object");
    if (eh->e_type == ET_REL)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name,
                         "is a relocatable object (ET_REL); link it with -shared first");
    if (eh->e_type != ET_DYN && eh->e_type != ET_EXEC)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "e_type %u is not ET_DYN", eh->e_type);
    if (load && eh->e_machine != me->elf_machine)
        return diag_fail(d, PLUGIN_ERR_ARCH, s->name, "is built for %s (e_machine %u); this process is %s",
                         arch_machine_name(eh->e_machine, buf, sizeof buf), eh->e_machine, me->name);
    if (eh->e_version != EV_CURRENT)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "e_version %u is not EV_CURRENT", eh->e_version);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "e_phentsize %u is not %zu",
                         eh->e_phentsize, sizeof(Elf64_Phdr));
    if (eh->e_phoff % 8)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "e_phoff 0x%llx is not 8-byte aligned",
                         (unsigned long long)eh->e_phoff);
    return check_phdr_table(s, eh->e_phoff, phnum, d);
}

/* One PT_LOAD: inside the file, sizes consistent, alignment usable on this kernel, not W+X. */
static int check_load(struct source *s, const Elf64_Phdr *ph, size_t i, bool load, struct diag *d)
{
    uint64_t page = load ? vm_page_size() : 4096, end;     /* describing: the smallest page of any CPU */
    if (!range_in(ph->p_offset, ph->p_filesz, s->size))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "segment %zu (offset 0x%llx, filesz 0x%llx) extends past the end of the file (size %llu)",
                         i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
                         (unsigned long long)s->size);
    if (ph->p_filesz > ph->p_memsz)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "segment %zu: p_filesz 0x%llx is larger than p_memsz 0x%llx",
                         i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
    bool wraps = !add_ok(ph->p_vaddr, ph->p_memsz, &end);
    if (wraps || end > (1ULL << 47))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "segment %zu: p_vaddr 0x%llx + p_memsz 0x%llx %s", i, (unsigned long long)ph->p_vaddr,
                         (unsigned long long)ph->p_memsz,
                         wraps ? "overflows" : "ends above 2^47 (no user address is that high)");
    if (ph->p_align & (ph->p_align - 1))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "segment %zu: p_align 0x%llx is not a power of two",
                         i, (unsigned long long)ph->p_align);
    /* The ELF rule for loadable segments; it also keeps a table aligned in memory aligned in
     * the file, which a described file is read from. */
    if ((ph->p_vaddr - ph->p_offset) % page)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "segment %zu: vaddr 0x%llx and offset 0x%llx differ modulo the page size",
                         i, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_offset);
    if (!load)
        return 0;                   /* the rest says whether this kernel and process can map it */
    if (ph->p_align < page)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name,
                         "segment %zu: alignment 0x%llx is below the page size 0x%llx",
                         i, (unsigned long long)ph->p_align, (unsigned long long)page);
    char name[24];
    snprintf(name, sizeof name, "%zu", i);
    return policy_segment(s->name, name, ph->p_flags & (SEG_R | SEG_W | SEG_X), d);  /* W^X (core/policy.c) */
}

static int add_load(struct image *im, struct source *s, const Elf64_Phdr *ph, size_t i, bool load, struct diag *d)
{
    uint64_t page = vm_page_size();
    if (check_load(s, ph, i, load, d))
        return -1;
    if (ph->p_memsz == 0)
        return 0;                                   /* maps nothing */
    if (im->nsegs > 0) {
        const struct segment *prev = &im->segs[im->nsegs - 1];
        uint64_t prev_end = (prev->vaddr + prev->memsz + page - 1) & ~(page - 1);
        if (ph->p_vaddr < prev_end)
            return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                             "segment %zu (vaddr 0x%llx) overlaps or precedes the previous PT_LOAD", i,
                             (unsigned long long)ph->p_vaddr);
    }
    if (ph->p_align > im->align)
        im->align = ph->p_align;
    im->segs[im->nsegs++] = (struct segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                                              ph->p_flags, false };
    return 0;
}

/* A PT_DYNAMIC or PT_GNU_RELRO must describe memory that some PT_LOAD maps. */
static int check_inside(struct image *im, struct source *s, const Elf64_Phdr *ph, const char *what,
                        enum range_need need, struct diag *d)
{
    if (!image_range_ok(im, ph->p_vaddr, ph->p_memsz, need) || (need == RANGE_READ && ph->p_vaddr % 8))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "%s (vaddr 0x%llx, size 0x%llx) is misaligned or not inside a readable PT_LOAD", what,
                         (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz);
    return 0;
}

/* PT_GNU_RELRO starts inside a PT_LOAD and ends within that segment's last page: lld pads its
 * memsz to the page boundary, past the segment's own memsz. */
static int check_relro(struct image *im, struct source *s, const Elf64_Phdr *ph, struct diag *d)
{
    uint64_t page = vm_page_size(), end;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        uint64_t seg_end = (sg->vaddr + sg->memsz + page - 1) & ~(page - 1);
        if (ph->p_vaddr >= sg->vaddr && ph->p_vaddr < sg->vaddr + sg->memsz && add_ok(ph->p_vaddr, ph->p_memsz, &end) &&
            end <= seg_end)
            return 0;
    }
    return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "PT_GNU_RELRO (vaddr 0x%llx, size 0x%llx) is not inside a PT_LOAD",
                     (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz);
}

/* PT_TLS: its initial contents lie in a PT_LOAD; its size is at most 1 GiB, its alignment a
 * power of two of at most a page (what a thread's block is made with). One message per defect. */
static int tls_defect(struct image *im, struct source *s, const Elf64_Phdr *ph, struct diag *d)
{
    const char *f = s->name;
    if (ph->p_filesz > ph->p_memsz)
        return diag_fail(d, PLUGIN_ERR_FORMAT, f, "PT_TLS filesz 0x%llx is larger than its memsz 0x%llx",
                         (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
    if (ph->p_memsz > (1ULL << 30))
        return diag_fail(d, PLUGIN_ERR_FORMAT, f, "PT_TLS memsz 0x%llx is larger than the limit of 1 GiB",
                         (unsigned long long)ph->p_memsz);
    if (ph->p_align & (ph->p_align - 1))
        return diag_fail(d, PLUGIN_ERR_FORMAT, f, "PT_TLS alignment 0x%llx is not a power of two",
                         (unsigned long long)ph->p_align);
    if (ph->p_align > 4096)
        return diag_fail(d, PLUGIN_ERR_FORMAT, f, "PT_TLS alignment 0x%llx is larger than the limit of 4096",
                         (unsigned long long)ph->p_align);
    if (ph->p_filesz && !image_range_ok(im, ph->p_vaddr, ph->p_filesz, RANGE_MAPPED))
        return diag_fail(d, PLUGIN_ERR_FORMAT, f, "PT_TLS initial image (vaddr 0x%llx, filesz 0x%llx) is not inside a PT_LOAD",
                         (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_filesz);
    return 0;
}

static int check_tls(struct image *im, struct source *s, const Elf64_Phdr *ph, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (tls_defect(im, s, ph, d))
        return -1;
    o->tls.vaddr = ph->p_vaddr;
    o->tls.filesz = ph->p_filesz;
    o->tls.memsz = ph->p_memsz;
    o->tls.align = ph->p_align;
    o->tls.present = true;
    return 0;
}

static int walk_phdrs(struct image *im, struct source *s, const Elf64_Phdr *ph, size_t n, bool load, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    const Elf64_Phdr *dyn = NULL, *relro = NULL, *tls = NULL;
    for (size_t i = 0; i < n; i++) {
        switch (ph[i].p_type) {
        case PT_LOAD:
            if (add_load(im, s, &ph[i], i, load, d))
                return -1;
            break;
        case PT_DYNAMIC: dyn = &ph[i]; break;
        case PT_GNU_RELRO: relro = &ph[i]; break;
        case PT_TLS: tls = &ph[i]; break;
        case PT_GNU_STACK:
            if ((ph[i].p_flags & PF_X) && load)
                return policy_exec_stack(s->name, "PT_GNU_STACK with PF_X", d);
            break;
        default: break;
        }
    }
    if (im->nsegs == 0)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has no PT_LOAD segment");
    im->lo = im->segs[0].vaddr;
    im->hi = im->segs[im->nsegs - 1].vaddr + im->segs[im->nsegs - 1].memsz;
    if (!dyn && !load)
        return tls && check_tls(im, s, tls, d) ? -1 : 0;    /* a static executable: no dynamic table */
    if (!dyn)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "has no PT_DYNAMIC segment");
    if (check_inside(im, s, dyn, "PT_DYNAMIC", RANGE_READ, d))
        return -1;
    if (dyn->p_memsz < sizeof(Elf64_Dyn))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "PT_DYNAMIC is too small (%llu bytes)",
                         (unsigned long long)dyn->p_memsz);
    o->dynamic = (const Elf64_Dyn *)(uintptr_t)dyn->p_vaddr;   /* made a pointer once mapped */
    o->ndynamic = dyn->p_memsz / sizeof(Elf64_Dyn);
    o->has_dynamic = true;
    if (tls && check_tls(im, s, tls, d))
        return -1;
    if (relro) {
        if (check_relro(im, s, relro, d))
            return -1;
        im->relro_vaddr = relro->p_vaddr;
        im->relro_memsz = relro->p_memsz;
    }
    return 0;
}

static int with_libelf(struct image *im, struct source *s, Elf *e, bool load, struct diag *d)
{
    if (elf_kind(e) != ELF_K_ELF)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "not an ELF file");
    /* The identification was checked on the raw bytes (check_raw_header). */
    Elf64_Ehdr *eh = elf64_getehdr(e);
    size_t phnum = 0;
    if (!eh)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "bad ELF header: %s", elf_errmsg(-1));
    if (elf_getphdrnum(e, &phnum) != 0)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "bad program header count: %s", elf_errmsg(-1));
    if (check_ehdr(s, eh, phnum, load, d))
        return -1;
    Elf64_Phdr *ph = elf64_getphdr(e);
    if (!ph)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "bad program headers: %s", elf_errmsg(-1));
    /* Room for the PT_LOADs only; the headers themselves are kept only to be described (the
     * loader keeps what it needs of them: segments, dynamic table, RELRO, TLS). */
    struct elf_object *o = elf_of(im);
    size_t nloads = 0;
    for (size_t i = 0; i < phnum; i++)
        nloads += ph[i].p_type == PT_LOAD;
    im->segs = calloc(nloads ? nloads : 1, sizeof *im->segs);
    if (!load)
        o->phdrs = calloc(phnum ? phnum : 1, sizeof *o->phdrs);
    if (!im->segs || (!load && !o->phdrs))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    if (!load)
        memcpy(o->phdrs, ph, phnum * sizeof *ph);
    o->nphdrs = load ? 0 : phnum;
    o->eh = *eh;
    im->arch = load ? arch_native() : arch_for_elf_machine(eh->e_machine);
    return walk_phdrs(im, s, ph, phnum, load, d);
}

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ok;

static void libelf_init(void)
{
    libelf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

/* The bytes libelf reads the headers from: a memory image in place; for a file, its first page
 * (the source's head, read once) or, when the program header table ends further in, one read up
 * to its end. *owned is what to free. A header that is malformed is left to the checks. */
static int header_bytes(struct source *s, const uint8_t **p, size_t *n, uint8_t **owned, struct diag *d)
{
    *owned = NULL;
    if (s->mem) {
        *p = s->mem, *n = (size_t)s->size;
        return 0;
    }
    size_t head = s->size < SOURCE_HEAD ? (size_t)s->size : SOURCE_HEAD;
    if (!(*p = source_head(s, head, d)))
        return -1;
    *n = head;
    Elf64_Ehdr eh;
    uint64_t end;
    if (head < sizeof eh)
        return 0;
    memcpy(&eh, *p, sizeof eh);
    if (!add_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), &end) || end <= head || end > s->size)
        return 0;
    if (!(*owned = malloc((size_t)end)))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    if (source_read(s, 0, *owned, (size_t)end, d))
        return -1;
    *p = *owned, *n = (size_t)end;
    return 0;
}

int elf_read_headers(struct image *im, struct source *s, enum elf_purpose why, struct diag *d)
{
    pthread_once(&libelf_once, libelf_init);
    if (!libelf_ok)
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, s->name, "libelf version mismatch");
    im->fmt = &elf_format;
    if (!(im->fmt_data = calloc(1, sizeof(struct elf_object))))
        return diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
    unsigned char magic[4];
    if (s->size < 4 || source_read(s, 0, magic, 4, d))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "too short to be an object file (%llu bytes)",
                         (unsigned long long)s->size);
    if (memcmp(magic, ELFMAG, SELFMAG) != 0)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "not an ELF file (magic %02x %02x %02x %02x)", magic[0], magic[1], magic[2], magic[3]);
    const uint8_t *bytes;
    size_t n;
    uint8_t *owned;
    if (check_raw_header(s, d))
        return -1;
    if (header_bytes(s, &bytes, &n, &owned, d)) {
        free(owned);
        return -1;
    }
    Elf *e = elf_memory((char *)(uintptr_t)bytes, n);
    int rc = e ? with_libelf(im, s, e, why == ELF_LOAD, d)
               : diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "libelf cannot read it: %s", elf_errmsg(-1));
    elf_end(e);
    free(owned);
    return rc;
}
