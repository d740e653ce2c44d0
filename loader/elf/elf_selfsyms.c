/*
 * elf_selfsyms.c — the symbol table of a -static executable, for the imports of its plugins.
 *
 * A static executable has no dynamic symbol table (or, a static PIE, an empty one): nothing in
 * memory says where its printf or its own functions are. Its file usually still has them all,
 * in .symtab (the linker keeps it unless the file is stripped). So, the first time a plugin's
 * import finds no definition anywhere else (core/resolve.c, step 5), this file reads
 * /proc/self/exe with libelf — the file the kernel started, whatever its name is now — and keeps
 * one hash table (core/symmap.h) of its definitions for the life of the process.
 *
 * What is taken: symbols with a name, defined in a section (not SHN_UNDEF, SHN_ABS or
 * SHN_COMMON), whose address lies inside one of the file's PT_LOAD segments (an IFUNC's resolver
 * in an executable one):
 *   - bound STB_GLOBAL, STB_WEAK or STB_GNU_UNIQUE, of type STT_FUNC, STT_OBJECT, STT_NOTYPE or
 *     STT_GNU_IFUNC, of every visibility: static glibc marks most of its own functions hidden
 *     (malloc and strlen are GLOBAL HIDDEN in a static executable's .symtab), and in a linked
 *     executable visibility says nothing more about who may call a function;
 *   - bound STB_LOCAL, of type STT_FUNC, STT_OBJECT or STT_GNU_IFUNC, when no global symbol has
 *     the name and no other local does: in a static PIE the linker turns every hidden symbol
 *     into a local one (malloc, __errno_location), and those names are unique. A name that two
 *     locals share (each file's static init) is ambiguous and not served.
 * Not taken: STT_TLS (a thread-local's address depends on the thread and its module, which this
 * table cannot give), sections, files, untyped locals (aarch64's $x and $d mapping symbols).
 * .dynsym is read only when there is no .symtab. A global name defined twice keeps its first
 * definition.
 *
 * The file is checked to be the running executable before anything is believed: its program
 * headers must be the ones the kernel reported (AT_PHDR, AT_PHNUM), byte for byte; the load bias
 * (a static PIE is relocated) is AT_PHDR minus the program headers' address in the file. Every
 * size, count, index and name offset is checked; a table that fails is not used (the trace says
 * why, and imports then stay undefined). So is one that cannot be read at all (a jail without
 * /proc: "just not available").
 *
 * IFUNCs (glibc's strlen, memcpy, ...): the symbol's value is the resolver. The implementation
 * the executable itself uses is the value its startup code stored in the GOT slot of the
 * IRELATIVE relocation whose addend is that resolver (.rela.plt / .rela.dyn): read from the slot,
 * that is exactly the host's choice, with no code run. A resolver that no IRELATIVE relocation
 * names (the executable links the function but never calls it) is called, once, at the first
 * lookup, the way ld.so calls resolvers (arch->call_ifunc); its CPU-feature data was set up at
 * startup, before the executable's own IRELATIVE relocations.
 */
#include "elf/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXE_PATH "/proc/self/exe"
#define EXE_MAX_SYMBOLS (1u << 24)      /* more is no executable's: the file is refused */
#define SELF_IFUNC 1u                   /* symmap flag: value is a resolver not called yet */
#define SELF_LOCAL 2u                   /* a local symbol's entry */
#define SELF_AMBIGUOUS 4u               /* a name two locals share: not served */

enum table_state { NOT_READ, READY, UNAVAILABLE };
static enum table_state state;
static struct symmap table;
static char *names;                     /* a copy of the string table: the table's names point here */
static char unavailable_why[200];       /* state UNAVAILABLE: why */

/* The file as it is being read: libelf's handle, and what the checks need. */
struct exe {
    Elf *e;
    uint64_t size;                      /* of the file */
    const Elf64_Phdr *ph;
    size_t phnum;
    uint64_t bias;
    struct irel { uint64_t resolver, slot; } *irel;     /* IRELATIVE relocations, by resolver */
    size_t nirel;
    char why[200];                      /* why the table is not available */
};

static int unavailable(struct exe *x, const char *fmt, const char *detail)
{
    snprintf(x->why, sizeof x->why, fmt, detail);
    return -1;
}

/* Whether [vaddr, vaddr + len) lies inside one PT_LOAD of the file (with flag, if flag != 0). */
static bool in_load(const struct exe *x, uint64_t vaddr, uint64_t len, uint32_t flag)
{
    for (size_t i = 0; i < x->phnum; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type == PT_LOAD && (!flag || (p->p_flags & flag)) && vaddr >= p->p_vaddr &&
            range_in(vaddr - p->p_vaddr, len, p->p_memsz))
            return true;
    }
    return false;
}

/* The program headers are the running executable's (AT_PHDR, AT_PHNUM); the load bias. */
static int check_identity(struct exe *x)
{
    const Elf64_Ehdr *eh = elf64_getehdr(x->e);
    if (!eh || (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) || eh->e_machine != arch_native()->elf_machine)
        return unavailable(x, "%s is not a 64-bit executable for this CPU", EXE_PATH);
    if (elf_getphdrnum(x->e, &x->phnum) != 0 || !(x->ph = elf64_getphdr(x->e)))
        return unavailable(x, "%s has no readable program headers", EXE_PATH);
    const void *mem = (const void *)getauxval(AT_PHDR);
    if (!mem || getauxval(AT_PHNUM) != x->phnum || memcmp(mem, x->ph, x->phnum * sizeof *x->ph) != 0)
        return unavailable(x, "%s: its program headers are not the running program's (AT_PHDR)", EXE_PATH);
    for (size_t i = 0; i < x->phnum; i++) {             /* where the headers are, in the file's terms */
        const Elf64_Phdr *p = &x->ph[i];
        uint64_t off = eh->e_phoff;
        if (p->p_type == PT_PHDR || (p->p_type == PT_LOAD && off >= p->p_offset && off - p->p_offset < p->p_filesz)) {
            uint64_t vaddr = p->p_type == PT_PHDR ? p->p_vaddr : p->p_vaddr + (off - p->p_offset);
            x->bias = (uint64_t)(uintptr_t)mem - vaddr;
            return 0;
        }
    }
    return unavailable(x, "%s: no segment holds its program headers", EXE_PATH);
}

/* A section's data, checked to lie in the file and to hold whole entries of entsize bytes. */
static const Elf_Data *section_data(struct exe *x, Elf_Scn *scn, const Elf64_Shdr *sh, size_t entsize)
{
    if (sh->sh_type == SHT_NOBITS || !range_in(sh->sh_offset, sh->sh_size, x->size) ||
        (entsize && (sh->sh_entsize != entsize || sh->sh_size % entsize)))
        return NULL;
    const Elf_Data *d = elf_getdata(scn, NULL);
    return d && d->d_buf && d->d_size == sh->sh_size ? d : NULL;
}

static int by_resolver(const void *a, const void *b)
{
    uint64_t x = ((const struct irel *)a)->resolver, y = ((const struct irel *)b)->resolver;
    return (x > y) - (x < y);
}

/* The IRELATIVE type of this CPU (from its relocation table); 0 when it has none. */
static uint32_t irelative_type(void)
{
    const struct arch *a = arch_native();
    for (size_t i = 0; i < a->ntypes; i++)
        if (a->types[i].kind == RK_IRELATIVE)
            return a->types[i].type;
    return 0;
}

/* Every IRELATIVE relocation of the file's SHT_RELA sections, sorted by resolver. */
static int collect_irelative(struct exe *x)
{
    uint32_t type = irelative_type();
    for (Elf_Scn *scn = NULL; type && (scn = elf_nextscn(x->e, scn));) {
        const Elf64_Shdr *sh = elf64_getshdr(scn);
        const Elf_Data *d = sh && sh->sh_type == SHT_RELA ? section_data(x, scn, sh, sizeof(Elf64_Rela)) : NULL;
        size_t n = d ? d->d_size / sizeof(Elf64_Rela) : 0;
        const Elf64_Rela *r = d ? d->d_buf : NULL;
        for (size_t i = 0; i < n; i++) {
            if (ELF64_R_TYPE(r[i].r_info) != type || !in_load(x, r[i].r_offset, 8, PF_W))
                continue;
            struct irel *g = realloc(x->irel, (x->nirel + 1) * sizeof *g);
            if (!g)
                return unavailable(x, "%s: out of memory", EXE_PATH);
            x->irel = g;
            x->irel[x->nirel++] = (struct irel){ (uint64_t)r[i].r_addend, r[i].r_offset };
        }
    }
    if (x->nirel)
        qsort(x->irel, x->nirel, sizeof *x->irel, by_resolver);
    return 0;
}

/* Whether s is a definition this table serves (see the top comment); locals only when local. */
static bool serves(const struct exe *x, const Elf64_Sym *s, const char *strs, size_t strsz, bool local)
{
    unsigned bind = ELF64_ST_BIND(s->st_info), type = ELF64_ST_TYPE(s->st_info);
    bool global = bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE;
    if ((local ? bind != STB_LOCAL : !global) || s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE ||
        s->st_name == 0 || s->st_name >= strsz || !memchr(strs + s->st_name, '\0', strsz - s->st_name))
        return false;
    if (type == STT_GNU_IFUNC)
        return in_load(x, s->st_value, 1, PF_X);
    return (type == STT_FUNC || type == STT_OBJECT || (type == STT_NOTYPE && !local)) &&
           in_load(x, s->st_value, 0, 0);
}

/* The value of an IFUNC: the implementation the executable's IRELATIVE slot holds, else the
 * resolver (flagged SELF_IFUNC, called at the first lookup). */
static uint64_t ifunc_value(const struct exe *x, uint64_t resolver, uint32_t *flags, size_t *from_slots)
{
    struct irel key = { resolver, 0 };
    const struct irel *r = x->nirel ? bsearch(&key, x->irel, x->nirel, sizeof key, by_resolver) : NULL;
    uint64_t chosen = 0;
    if (r)
        memcpy(&chosen, (const void *)(uintptr_t)(r->slot + x->bias), sizeof chosen);
    if (chosen && in_load(x, chosen - x->bias, 1, PF_X)) {
        ++*from_slots;
        return chosen;
    }
    *flags = SELF_IFUNC;
    return resolver + x->bias;
}

/* The symbol table to read: .symtab, else .dynsym; its symbols and its string table. */
static int find_symbols(struct exe *x, const Elf_Data **syms, const Elf_Data **strs, const char **kind)
{
    size_t shnum;
    Elf_Scn *best = NULL;
    const Elf64_Shdr *bsh = NULL;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(x->e, scn));) {
        const Elf64_Shdr *sh = elf64_getshdr(scn);
        if (sh && (sh->sh_type == SHT_SYMTAB || (sh->sh_type == SHT_DYNSYM && !best)))
            best = scn, bsh = sh;
    }
    if (!best)
        return unavailable(x, "%s has no symbol table (stripped?)", EXE_PATH);
    *kind = bsh->sh_type == SHT_SYMTAB ? ".symtab" : ".dynsym";
    Elf_Scn *link = elf_getshdrnum(x->e, &shnum) == 0 && bsh->sh_link < shnum ? elf_getscn(x->e, bsh->sh_link) : NULL;
    const Elf64_Shdr *lsh = link ? elf64_getshdr(link) : NULL;
    if (!(*syms = section_data(x, best, bsh, sizeof(Elf64_Sym))) || !lsh || lsh->sh_type != SHT_STRTAB ||
        !(*strs = section_data(x, link, lsh, 0)) || (*strs)->d_size == 0)
        return unavailable(x, "%s: its symbol table or string table is malformed", *kind);
    if ((*syms)->d_size / sizeof(Elf64_Sym) > EXE_MAX_SYMBOLS)
        return unavailable(x, "%s: more than 16M symbols", *kind);
    return 0;
}

/* Enter the globals (local false) or the locals the table serves. A local whose name is there
 * already: after a global, ignored; after another local, the name becomes ambiguous. */
static void enter(struct exe *x, const Elf_Data *syms, const Elf_Data *strs, bool local, size_t *nifunc,
                  size_t *from_slots)
{
    const Elf64_Sym *s = syms->d_buf;
    size_t n = syms->d_size / sizeof *s;
    for (size_t i = 0; i < n; i++) {
        if (!serves(x, &s[i], strs->d_buf, strs->d_size, local))
            continue;
        uint32_t flags = local ? SELF_LOCAL : 0;
        size_t slot = 0;
        bool ifunc = ELF64_ST_TYPE(s[i].st_info) == STT_GNU_IFUNC, added;
        uint64_t value = ifunc ? ifunc_value(x, s[i].st_value, &flags, &slot) : s[i].st_value + x->bias;
        struct symmap_entry *e = symmap_put(&table, names + s[i].st_name, value, flags, &added);
        if (!added && local && (e->flags & SELF_LOCAL))
            e->flags |= SELF_AMBIGUOUS;
        *nifunc += ifunc && added;
        *from_slots += added ? slot : 0;
    }
}

/* Every definition the table serves, globals first; names point into the kept copy of the
 * strings. */
static int fill(struct exe *x, const Elf_Data *syms, const Elf_Data *strs, size_t *nifunc, size_t *from_slots)
{
    const Elf64_Sym *s = syms->d_buf;
    size_t n = syms->d_size / sizeof *s, wanted = 0;
    for (size_t i = 0; i < n; i++)
        wanted += serves(x, &s[i], strs->d_buf, strs->d_size, false) ||
                  serves(x, &s[i], strs->d_buf, strs->d_size, true);
    if (!(names = malloc(strs->d_size)) || symmap_reserve(&table, wanted))
        return unavailable(x, "%s: out of memory", EXE_PATH);
    memcpy(names, strs->d_buf, strs->d_size);
    enter(x, syms, strs, false, nifunc, from_slots);
    enter(x, syms, strs, true, nifunc, from_slots);
    return 0;
}

/* Read the executable's table into `table`; -1 with x->why when it is not available. */
static int read_exe(struct exe *x, struct diag *d)
{
    int fd = open(EXE_PATH, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = unavailable(x, EXE_PATH ": %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    x->size = (uint64_t)st.st_size;
    elf_version(EV_CURRENT);                    /* idempotent: the reader may not have run yet */
    x->e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const Elf_Data *syms, *strs;
    const char *kind = "";
    size_t nifunc = 0, from_slots = 0;
    int rc = !x->e || elf_kind(x->e) != ELF_K_ELF || gelf_getclass(x->e) != ELFCLASS64
                 ? unavailable(x, "%s: libelf cannot read it as a 64-bit ELF file", EXE_PATH)
                 : check_identity(x) || collect_irelative(x) || find_symbols(x, &syms, &strs, &kind) ||
                           fill(x, syms, strs, &nifunc, &from_slots) ? -1 : 0;
    if (rc == 0)
        diag_trace(d, TRACE_BINDINGS, "the executable's symbol table: %s %s, %zu definitions (%zu IFUNCs, %zu of them from "
                   "their IRELATIVE slots), load bias 0x%llx", EXE_PATH, kind, table.count, nifunc, from_slots,
                   (unsigned long long)x->bias);
    elf_end(x->e);
    close(fd);
    free(x->irel);
    return rc;
}

bool elf_exe_symbol(const char *name, uint64_t *addr, struct diag *d)
{
    if (state == NOT_READ) {
        struct exe x = { .why = "" };
        state = read_exe(&x, d) == 0 ? READY : UNAVAILABLE;
        if (state == UNAVAILABLE) {
            symmap_free(&table);
            free(names);
            names = NULL;
            snprintf(unavailable_why, sizeof unavailable_why, "%s", x.why);
            diag_trace(d, TRACE_BINDINGS, "the executable's symbol table is not available: %s", x.why);
        }
    }
    struct symmap_entry *e = state == READY ? symmap_get(&table, name) : NULL;
    if (!e || (e->flags & SELF_AMBIGUOUS))
        return false;
    if (e->flags & SELF_IFUNC) {                /* no IRELATIVE slot chose it: ask the resolver, once */
        e->value = arch_native()->call_ifunc(e->value);
        e->flags &= ~SELF_IFUNC;
        diag_trace(d, TRACE_BINDINGS, "  %s is an IFUNC of the executable: its resolver chose 0x%llx", name,
                   (unsigned long long)e->value);
    }
    *addr = e->value;
    return true;
}

const char *elf_exe_symbols_unavailable(void)
{
    return state == UNAVAILABLE ? unavailable_why : NULL;
}
