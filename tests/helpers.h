/*
 * helpers.h — shared by every test file (tests/<folder>/test_*.c, compiled into the one test binary).
 *
 * FIXTURE_DIR, PLUGIN_CLI, BUILD_DIR and SOURCE_DIR (the checkout) are absolute paths given by
 * mk/tests.mk.
 */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must be defined by the build (mk/tests.mk)"
#endif

/* The lane: what this test binary was compiled for, and the other CPU (fixtures/foreign.c and
 * the cross fixture are built for it). The suite is the same in both lanes; where a fact differs
 * by CPU (names, directories, glibc's oldest symbol version), the test uses these. */
#if defined(__x86_64__)
#define NATIVE_CPU      "x86-64"          /* as `plugin info` and the loader's messages say it */
#define NATIVE_EM       EM_X86_64
#define OTHER_EM        EM_AARCH64
#define NATIVE_RELOC    "R_X86_64_"
#define NATIVE_MULTIARCH "x86_64-linux-gnu"
#define OTHER_CPU       "aarch64"
#define OTHER_RELOC     "R_AARCH64_"
#define CROSS_FIXTURE   "cross_aarch64.so"
#define GLIBC_BASE      "GLIBC_2.2.5"     /* the first symbol version of this glibc port */
#define GLIBC_MEMCPY    "GLIBC_2.14"      /* memcpy's default version */
#elif defined(__aarch64__)
#define NATIVE_CPU      "aarch64"
#define NATIVE_EM       EM_AARCH64
#define OTHER_EM        EM_X86_64
#define NATIVE_RELOC    "R_AARCH64_"
#define NATIVE_MULTIARCH "aarch64-linux-gnu"
#define OTHER_CPU       "x86-64"
#define OTHER_RELOC     "R_X86_64_"
#define CROSS_FIXTURE   "cross_x86_64.so"
#define GLIBC_BASE      "GLIBC_2.17"      /* the port began at 2.17: memcpy has one version */
#define GLIBC_MEMCPY    "GLIBC_2.17"
#else
#error "tests support x86-64 and aarch64"
#endif

/* Absolute path of a fixture: fixture("basic.so") -> FIXTURE_DIR "/basic.so". Returns a string
 * that lives until the process exits. */
const char *fixture(const char *name);

/* plugin_open(fixture(name)); the test fails (with the loader's message) when it fails. */
plugin *open_fixture(const char *name);
/* plugin_lookup that must succeed. */
void *must_lookup(plugin *p, const char *name);

/* Whole file into a malloc'ed buffer (NUL-terminated, size without the NUL). Aborts the test on
 * error. */
char *read_file(const char *path, size_t *size);
/* Write size bytes to path (created 0644, truncated). Aborts the test on error. */
void write_file(const char *path, const void *data, size_t size);

/* A fresh directory under /tmp (removed by nobody: tests run in throw-away processes and /tmp
 * is cleaned by the system). Returns a malloc'ed path. */
char *make_temp_dir(void);

/* /proc/self/maps as one malloc'ed string, with the lines of the mappings that change on their
 * own ([heap], [stack]) left out, so that two snapshots around an operation are equal when the
 * operation left no mapping behind. */
char *maps_snapshot(void);
/* Number of open file descriptors (entries of /proc/self/fd, not counting the one used to
 * read it). */
int count_fds(void);
/* The permissions ("r-xp") of the mapping that contains addr, copied into perms[5]; 0, or -1
 * when no mapping contains it. */
int maps_perms_of(const void *addr, char perms[5]);
/* Number of lines of /proc/self/maps that are writable and executable at once. Copies the
 * first such line (if any) into first[256]. */
int count_wx_mappings(char first[256]);

/* The first string of /proc/self/cmdline (this process's argv[0]), malloc'ed. */
char *self_argv0(void);

/* Read an ELF file with libelf: the value of the first dynamic entry with the given tag.
 * Returns 1 and stores it in *val when present, 0 when absent. Aborts the test when the file
 * cannot be read. */
int file_dyn_tag(const char *path, int64_t tag, uint64_t *val);
/* The string of a dynamic entry whose value is a DT_STRTAB offset (DT_NEEDED, DT_RUNPATH,
 * DT_SONAME), the index-th such entry; malloc'ed, or NULL when there is none. */
char *file_dyn_string(const char *path, int64_t tag, int index);
/* Look a symbol up in .symtab (or .dynsym when dynamic is non-zero). Returns 1 and fills
 * bind/vis/shndx (any may be NULL) when found, 0 otherwise. */
int file_find_symbol(const char *path, const char *name, int dynamic,
                    int *bind, int *vis, unsigned *shndx);
/* The st_value of a symbol of .symtab (or .dynsym); 1 when found. */
int file_symbol_value(const char *path, const char *name, int dynamic, uint64_t *value);
/* Names of the undefined symbols of .dynsym (other than the null symbol), space-separated with
 * a trailing space, in one malloc'ed string ("" when there are none). */
char *file_undefined_dynsyms(const char *path);
/* The name of a function (STT_FUNC) of .symtab at value, malloc'ed; NULL when there is none. */
char *file_function_at(const char *path, uint64_t value);
/* 1 when the object has a program header of the given type, and its vaddr/memsz then. */
int file_phdr(const char *path, uint32_t type, uint64_t *vaddr, uint64_t *memsz);
/* 1 when the object has a section of that name with bytes in the file: its offset and size. */
int file_section(const char *path, const char *name, uint64_t *offset, uint64_t *size);
/* The PT_LOAD that contains vaddr: 1 and its vaddr/memsz, or 0 when none does. */
int file_load_containing(const char *path, uint64_t vaddr, uint64_t *seg_vaddr, uint64_t *seg_memsz);
/* The largest p_align of the PT_LOAD segments (0 when there are none). */
uint64_t file_load_align(const char *path);
/* e_machine of an ELF file. */
unsigned file_machine(const char *path);
/* Number of relocations of the given type in the SHT_RELA sections (.rela.dyn, .rela.plt). */
long file_reloc_count(const char *path, uint32_t type);
/* Number of those relocations whose place (r_offset) lies in a PT_LOAD that is not writable. */
long file_relocs_into_readonly(const char *path);
/* Number of those relocations (any type) against the .dynsym symbol of that name. */
long file_relocs_against(const char *path, const char *symbol);
/* The type (STT_FUNC, STT_GNU_IFUNC, ...) of a symbol of .symtab (or .dynsym); -1 when absent. */
int file_symbol_type(const char *path, const char *name, int dynamic);

/* Run argv[0] (a path) with argv, stdin from /dev/null; capture stdout and stderr into
 * malloc'ed strings (either pointer may be NULL to discard). Returns the wait status as given
 * by waitpid, or -1 when the program could not be started. */
int run_capture(char *const argv[], char **out, char **err);

/* One run of a program: exit code (-1 if it did not exit normally), stdout, stderr (malloc'ed). */
struct run {
    int code;
    char *out, *err;
};
/* run_capture of argv; the test fails when the program cannot be started. */
struct run run_program(char *const argv[]);

/* The text of an open's trace events, one line each (plugin_options .trace = trace_collect and
 * .trace_ctx = a struct tracebuf, zeroed). Lines past the buffer are dropped. */
struct tracebuf {
    char text[32768];
    size_t len;
};
void trace_collect(void *ctx, const struct plugin_trace_event *ev);

#endif
