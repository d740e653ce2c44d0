/*
 * elf_addr.c — plugin_addr_info for ELF objects: the nearest exported symbol of one of ours, and
 * the system loader's object that contains an address.
 *
 * The symbol: the defined FUNC / OBJECT / IFUNC / COMMON symbols of the dynamic symbol table
 * covered by its hash tables (what plugin_lookup can find); one whose [value, value+size)
 * contains addr wins, else the nearest one below addr.
 *
 * The system loader's objects are walked with dl_iterate_phdr (which takes glibc's own lock for
 * the duration of the walk). The containing object's dynamic table is decoded into a temporary
 * image on the stack for the symbol scan, so the host list (rebuilt under the load lock) is not
 * touched: plugin_addr_info takes no lock of ours.
 */
#include "elf/elf.h"

#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rank of a candidate among symbols at the same address: global before weak, the default version
 * before a hidden one. */
static int sym_rank(const struct image *im, uint32_t i)
{
    const struct elf_object *o = elf_of(im);
    const Elf64_Sym *s = &o->symtab[i];
    int r = ELF64_ST_BIND(s->st_info) == STB_GLOBAL ? 2 : 0;
    if (!o->versym || !(o->versym[i] & 0x8000))
        r += 1;
    return r;
}

/* The nearest exported symbol of an ELF image at or below a. */
bool elf_nearest(const struct image *im, uintptr_t a, const char **name, uintptr_t *sym_addr)
{
    const struct elf_object *o = elf_of(im);
    const Elf64_Sym *best = NULL;
    bool best_in = false;
    int best_rank = -1;
    for (uint32_t i = 1; o->symtab && i < o->nsyms; i++) {
        const Elf64_Sym *s = &o->symtab[i];
        unsigned type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
        if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS || !s->st_name)
            continue;
        if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC && type != STT_COMMON)
            continue;
        if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
            continue;
        uintptr_t v = im->bias + (uintptr_t)s->st_value;
        if (v > a)
            continue;
        bool in = s->st_size && a - v < s->st_size;
        int rank = sym_rank(im, i);
        if (best) {
            uintptr_t bv = im->bias + (uintptr_t)best->st_value;
            if (best_in && !in)
                continue;                   /* a containing symbol beats a nearer one below */
            if (best_in == in && (v < bv || (v == bv && rank <= best_rank)))
                continue;
        }
        if (!elf_str(o, s->st_name))
            continue;
        best = s, best_in = in, best_rank = rank;
    }
    if (best) {
        *name = elf_str(o, best->st_name);
        *sym_addr = im->bias + (uintptr_t)best->st_value;
    }
    return best != NULL;
}

/* The main program's path (dl_iterate_phdr names it ""), resolved once and kept. */
static const char *exe_path(void)
{
    static char *cached;
    char *have = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (have)
        return have;
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *mine = strdup(n > 0 ? (buf[n] = '\0', buf) : "the main program");
    if (!mine)
        return "the main program";
    char *expected = NULL;
    if (!__atomic_compare_exchange_n(&cached, &expected, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(mine);
        return expected;
    }
    return mine;
}

struct host_search {
    uintptr_t addr;
    struct plugin_addr_info *info;
    bool found;
};

static int host_each(struct dl_phdr_info *dl, size_t size, void *arg)
{
    struct host_search *hs = arg;
    (void)size;
    struct segment segs[64];
    struct elf_object o;
    struct image im;
    memset(&im, 0, sizeof im);
    memset(&o, 0, sizeof o);
    im.fmt = &elf_format;
    im.fmt_data = &o;
    im.is_host = true;
    im.state = IMG_READY;
    im.arch = arch_native();
    im.bias = dl->dlpi_addr;
    im.segs = segs;
    const ElfW(Phdr) *dyn = NULL;
    for (size_t i = 0; i < dl->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &dl->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_memsz && im.nsegs < sizeof segs / sizeof segs[0])
            segs[im.nsegs++] = (struct segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
                                                 ph->p_flags, false };
        else if (ph->p_type == PT_DYNAMIC)
            dyn = ph;
    }
    if (!im.nsegs || !image_contains(&im, hs->addr))
        return 0;
    im.lo = segs[0].vaddr;
    im.hi = segs[im.nsegs - 1].vaddr + segs[im.nsegs - 1].memsz;
    hs->found = true;
    hs->info->path = dl->dlpi_name && dl->dlpi_name[0] ? dl->dlpi_name : exe_path();
    hs->info->base = (void *)dl->dlpi_addr;
    struct diag quiet = { .err = NULL };
    if (dyn && image_range_ok(&im, dyn->p_vaddr, dyn->p_memsz, RANGE_READ)) {
        o.dynamic = image_addr(&im, dyn->p_vaddr);
        o.ndynamic = dyn->p_memsz / sizeof(Elf64_Dyn);
        uintptr_t sa;
        if (elf_decode_host_dynamic(&im, &quiet) == 0 && elf_nearest(&im, hs->addr, &hs->info->symbol, &sa))
            hs->info->symbol_addr = (void *)sa;
    }
    free(o.versions);
    return 1;
}

bool elf_host_addr_info(uintptr_t addr, struct plugin_addr_info *info)
{
    struct host_search hs = { addr, info, false };
    dl_iterate_phdr(host_each, &hs);
    return hs.found;
}

