/*
 * elf_read.h — the reading half of `plugin info` / `plugin symbols`: an ELF file opened through
 * libelf and the pieces the reports need (dynamic table, relocation counts, exported symbols),
 * each checked before use. inspect_elf.c turns them into text or JSON.
 */
#ifndef PLUGIN_TOOLS_ELF_READ_H
#define PLUGIN_TOOLS_ELF_READ_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#define ABSENT UINT64_MAX           /* a dynamic entry the file does not have */
#define RELR_NO_ARCH UINT32_MAX     /* RELR entries of a CPU without a relocation table */

struct elf_file {
    const char *path;
    int fd;
    uint64_t size;          /* bytes in the file */
    Elf *elf;
    GElf_Ehdr eh;
    GElf_Phdr *ph;          /* the program headers, phnum of them */
    size_t phnum;
    size_t shnum;
    int quiet;              /* errors are not printed */
};

struct dynamic {
    int present;
    uint64_t strtab, strsz;
    uint64_t soname, runpath, rpath;        /* offsets in the string table */
    uint64_t *needed;                       /* offsets in the string table */
    size_t nneeded;
    uint64_t flags_1;
    uint64_t rela, relasz, rel, relsz, jmprel, pltrelsz, pltrel, relr, relrsz;
};

struct reloc_count {
    uint32_t type;
    uint64_t count;
};

struct reloc_tally {
    struct reloc_count *v;
    size_t n, cap;
    uint64_t relr;                          /* how many of the RELATIVE ones came from RELR */
};

struct export {
    const char *name;
    const char *version;        /* NULL: unversioned */
    int hidden;                 /* a non-default version, name@V rather than name@@V */
    GElf_Sym sym;
};

struct exports {
    int available;              /* 0: the file has no .dynsym section */
    struct export *v;
    size_t n;
};

/* Print "plugin: FILE: cause" to stderr (unless quiet). Returns -1. */
int fail(const struct elf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open path with libelf and check its header and program/section header tables. quiet: no
 * error output. 0 or -1; elf_file_close releases what it opened (also after a failure). */
int elf_file_open(struct elf_file *f, const char *path, int quiet);
void elf_file_close(struct elf_file *f);
/* size bytes at virtual address addr (through the PT_LOAD that maps it), or NULL. */
Elf_Data *addr_chunk(struct elf_file *f, uint64_t addr, uint64_t size, Elf_Type type, const char *what);
/* Collect the PT_DYNAMIC entries the reports use (absent entries are ABSENT). */
int scan_dynamic(struct elf_file *f, struct dynamic *d);
/* *out = the string at offset off of strtab (NULL when off is ABSENT); -1 when out of range. */
int dyn_string(struct elf_file *f, const Elf_Data *strtab, uint64_t off, const char *what, const char **out);
/* Count dynamic relocations by type (RELR entries as this CPU's RELATIVE). */
int count_relocs(struct elf_file *f, const struct dynamic *d, struct reloc_tally *t);
/* "R_X86_64_RELATIVE", or the number when the type or the CPU is unknown. */
const char *reloc_name(const struct elf_file *f, uint32_t type, char *buf, size_t bufsz);
/* The RELATIVE type of the file's CPU, or RELR_NO_ARCH. */
uint32_t relative_type(const struct elf_file *f);
/* The exported symbols of .dynsym (what plugin_lookup can find), sorted by name. */
int read_exports(struct elf_file *f, struct exports *out);

#endif /* PLUGIN_TOOLS_ELF_READ_H */
