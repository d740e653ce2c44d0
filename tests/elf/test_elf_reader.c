/*
 * test_elf_reader.c — the ELF reader on hostile layouts, through both of its users: the loader
 * (plugin_open_memory) and the CLI (plugin info / plugin symbols read the same reader).
 *
 * A GNU hash table whose chains cross a hole between two segments: the chain of the largest
 * bucket lies in the second segment (so a check that starts there passes), the chain of a smaller
 * bucket starts in the hole. A lookup through the smaller bucket would read unmapped memory. The
 * object is built here, for this lane's CPU, from nothing but the ELF header types.
 */
#include <criterion/criterion.h>

#include "helpers.h"
#include "core/exports.h"
#include "elf/elf.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

enum {
    A_SIZE = 0x1000,                 /* PT_LOAD R at vaddr 0: headers and the GNU hash header */
    B_OFF = 0x1000, B_VADDR = 0x3000, B_SIZE = 0xd000,   /* PT_LOAD R, after a two-page hole */
    C_OFF = 0xe000, C_VADDR = 0x12000, C_SIZE = 0x1000,  /* PT_LOAD RW: the dynamic table */
    FILE_SIZE = 0xf000,
    HASH = 0xfe0,                    /* header 16, bloom 8, two buckets 8: chains start at 0x1000 */
    SYMTAB = 0x3100, STRTAB = 0xff00,
    BIG_BUCKET = 1 + (B_VADDR - 0x1000) / 4,   /* its chain word is B's first word */
};

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

static void phdr(Elf64_Phdr *p, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t size)
{
    *p = (Elf64_Phdr){ type, flags, off, vaddr, vaddr, size, size, type == PT_LOAD ? 0x1000 : 8 };
}

/* The object: "probe" hashes to the small bucket, whose chain word (vaddr 0x1000) is in the hole. */
static uint8_t *chain_in_a_hole(void)
{
    uint8_t *f = calloc(1, FILE_SIZE);
    cr_assert_not_null(f);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_DYN;
    eh->e_machine = NATIVE_EM;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 4;
    Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof *eh);
    phdr(&ph[0], PT_LOAD, PF_R, 0, 0, A_SIZE);
    phdr(&ph[1], PT_LOAD, PF_R, B_OFF, B_VADDR, B_SIZE);
    phdr(&ph[2], PT_LOAD, PF_R | PF_W, C_OFF, C_VADDR, C_SIZE);
    phdr(&ph[3], PT_DYNAMIC, PF_R | PF_W, C_OFF, C_VADDR, 6 * sizeof(Elf64_Dyn));

    uint32_t *h = (uint32_t *)(f + HASH);
    h[0] = 2, h[1] = 1, h[2] = 1, h[3] = 6;    /* nbuckets, symoffset, bloom words, bloom shift */
    memset(&h[4], 0xff, 8);                     /* a bloom filter that lets every name through */
    uint32_t small = gnu_hash("probe") % 2;
    h[6 + small] = 1;
    h[6 + !small] = BIG_BUCKET;
    *(uint32_t *)(f + B_OFF) = 1;               /* the big bucket's chain ends at once */
    memcpy(f + B_OFF + (STRTAB - B_VADDR), "\0probe", 7);

    Elf64_Dyn *dyn = (Elf64_Dyn *)(f + C_OFF);
    dyn[0] = (Elf64_Dyn){ DT_GNU_HASH, { HASH } };
    dyn[1] = (Elf64_Dyn){ DT_SYMTAB, { SYMTAB } };
    dyn[2] = (Elf64_Dyn){ DT_SYMENT, { sizeof(Elf64_Sym) } };
    dyn[3] = (Elf64_Dyn){ DT_STRTAB, { STRTAB } };
    dyn[4] = (Elf64_Dyn){ DT_STRSZ, { 16 } };
    dyn[5] = (Elf64_Dyn){ DT_NULL, { 0 } };
    return f;
}

Test(elf_reader, gnu_hash_chains_must_lie_in_one_segment)
{
    uint8_t *f = chain_in_a_hole();
    plugin_error err;
    plugin *p = plugin_open_memory(f, FILE_SIZE, "chain-in-a-hole", NULL, &err);
    if (p)
        plugin_lookup(p, "probe", &err);        /* before the fix: a read in the hole (SIGSEGV) */
    cr_assert_null(p, "an object whose hash chains cross a hole was loaded");
    cr_expect_eq(err.code, PLUGIN_ERR_FORMAT, "code %d: %s", err.code, err.message);
    cr_expect(strstr(err.message, "chain-in-a-hole: DT_GNU_HASH chains (2049 words) are not inside one read-only segment"),
              "message: %s", err.message);

    /* The CLI reads the same reader: it refuses the file with the same words, in one line. */
    char *dir = make_temp_dir(), path[4200];
    snprintf(path, sizeof path, "%s/hole.so", dir);
    write_file(path, f, FILE_SIZE);
    char *argv[] = { PLUGIN_CLI, "symbols", path, NULL }, *out = NULL, *errs = NULL;
    int status = run_capture(argv, &out, &errs);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "plugin symbols: status 0x%x, stdout %s", status, out);
    cr_expect(strstr(errs, "DT_GNU_HASH chains (2049 words)") != NULL && strchr(errs, '\n') == strrchr(errs, '\n'),
              "stderr: %s", errs);
    cr_expect_str_empty(out);
    free(out);
    free(errs);
    free(dir);
    free(f);
}

/* A PT_LOAD whose file offset is not congruent to its vaddr modulo the page size: the ELF rule,
 * which also keeps an aligned table aligned in the file that plugin info reads (the fuzzer found
 * the describe path reading the dynamic table misaligned). Refused by both users alike. */
Test(elf_reader, segment_offset_must_match_its_vaddr_modulo_the_page)
{
    size_t size;
    char *f = read_file(fixture("cli_sample.so"), &size);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
    Elf64_Phdr *ph = (Elf64_Phdr *)(f + eh->e_phoff);
    size_t moved = eh->e_phnum;
    for (size_t i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset >= 2 && (ph[i].p_flags & PF_W))
            moved = i;
    cr_assert_lt(moved, eh->e_phnum, "cli_sample.so has no writable PT_LOAD");
    ph[moved].p_offset -= 2;

    plugin_error err;
    cr_expect_null(plugin_open_memory(f, size, "shifted", NULL, &err));
    cr_expect(strstr(err.message, "differ modulo the page size") != NULL, "open: %s", err.message);

    char *dir = make_temp_dir(), path[4200];
    snprintf(path, sizeof path, "%s/shifted.so", dir);
    write_file(path, f, size);
    char *argv[] = { PLUGIN_CLI, "info", path, NULL }, *out = NULL, *errs = NULL;
    int status = run_capture(argv, &out, &errs);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "plugin info: status 0x%x, stdout %s", status, out);
    cr_expect(strstr(errs, "differ modulo the page size") != NULL, "stderr: %s", errs);
    free(out);
    free(errs);
    free(dir);
    free(f);
}

/* plugin_lookup answers from a table built for it (core/exports.h, filled by elf_exports.c). For
 * every name an object's symbol table holds, the table must give exactly what the symbol search
 * gives for an unversioned lookup of the default version (which is how the table decides): that
 * definition's address, "ask" for an IFUNC or thread-local one, and a miss when the search finds
 * nothing. Objects with many versions and duplicates: libver.so (hidden and default versions of
 * one name), libcrypto (5,000 versioned exports), libc as the system loader's object (IFUNCs). */
static size_t table_equals_search(plugin *p, const char *what)
{
    struct image *im = (struct image *)p;
    const struct elf_object *o = elf_of(im);
    cr_assert_null(plugin_lookup(p, "plugin_no_such_symbol_anywhere", NULL));   /* builds the table */
    const struct export_table *t = exports_of(im);
    cr_assert_not_null(t, "%s: no table", what);
    size_t checked = 0, asked = 0;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const char *name = elf_str(o, o->symtab[i].st_name);
        if (!name || !name[0])
            continue;
        struct sym_query q;
        sym_query_init(&q, name, NULL);
        q.newest = true;
        const Elf64_Sym *want = elf_find_symbol(im, &q);
        uintptr_t addr = 0;
        enum export_answer a = exports_find(t, name, &addr);
        int type = want ? ELF64_ST_TYPE(want->st_info) : STT_NOTYPE;
        if (!want)
            cr_assert_eq(a, EXPORT_MISSING, "%s: %s: in the table, not found by the search", what, name);
        else if (type == STT_GNU_IFUNC || type == STT_TLS) {
            cr_assert_eq(a, EXPORT_ASK, "%s: %s: an IFUNC or TLS definition not marked ask", what, name);
            asked++;
        } else
            cr_assert(a == EXPORT_ADDRESS && addr == elf_symbol_addr(im, want),
                      "%s: %s: table gives %d %#lx, the search symbol %ld at %#lx", what, name, (int)a,
                      (unsigned long)addr, (long)(want - o->symtab), (unsigned long)elf_symbol_addr(im, want));
        if (a == EXPORT_ADDRESS)
            cr_assert_eq(plugin_lookup(p, name, NULL), (void *)addr, "%s: %s: plugin_lookup disagrees", what, name);
        checked++;
    }
    cr_assert_gt(checked, 0, "%s: no symbol checked", what);
    cr_log_info("%s: %zu names checked, %zu marked ask", what, checked, asked);
    uintptr_t addr;
    cr_expect_eq(exports_find(t, "plugin_no_such_symbol_anywhere", &addr), EXPORT_MISSING, "%s", what);
    cr_expect_eq(exports_find(t, "", &addr), EXPORT_MISSING, "%s: the empty name was found", what);
    return asked;
}

Test(elf_reader, lookup_table_answers_as_the_symbol_search)
{
    table_equals_search(open_fixture("deps/libver.so"), "libver.so");
    plugin_error err;
    plugin *crypto = plugin_open("/usr/lib/" NATIVE_MULTIARCH "/libcrypto.so.3", &err);
    cr_assert_not_null(crypto, "%s", err.message);
    table_equals_search(crypto, "libcrypto.so.3");
    plugin *libc = plugin_open("/lib/" NATIVE_MULTIARCH "/libc.so.6", &err);  /* the system loader's */
    cr_assert_not_null(libc, "%s", err.message);
    cr_expect_gt(table_equals_search(libc, "libc.so.6"), 0, "libc's IFUNCs (memcpy, ...) are not marked ask");
    void *(*copy)(void *, const void *, size_t) = (void *(*)(void *, const void *, size_t))plugin_lookup(libc, "memcpy", NULL);
    char dst[4] = "", src[4] = "abc";
    cr_assert_not_null(copy, "memcpy (an IFUNC, answered by its resolver) not found");
    cr_expect_str_eq(copy(dst, src, sizeof src), "abc");
}

/* The filter over the host objects' names (elf_host.c) never turns away a name one of them
 * defines: every name of libc's dynamic symbol table passes. It turns away most other names
 * (its false positives are a few percent): made-up ones mostly fail it. It exists once the list
 * has been walked enough times; the walks below make sure. */
Test(elf_reader, host_filter_passes_every_host_name)
{
    plugin_error err;
    plugin *libc = plugin_open("/lib/" NATIVE_MULTIARCH "/libc.so.6", &err);
    cr_assert_not_null(libc, "%s", err.message);
    struct sym_query q;
    for (int i = 0; i < 300; i++) {
        sym_query_init(&q, "memcpy", NULL);
        cr_assert(host_may_define(&q), "memcpy turned away");
    }
    const struct elf_object *o = elf_of((const struct image *)libc);
    size_t checked = 0;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const char *name = elf_str(o, o->symtab[i].st_name);
        if (!name || !name[0] || o->symtab[i].st_shndx == SHN_UNDEF)
            continue;
        sym_query_init(&q, name, NULL);
        cr_assert(host_may_define(&q), "libc's %s turned away by the host filter", name);
        checked++;
    }
    cr_assert_gt(checked, 1000, "only %zu libc names", checked);
    int rejected = 0;
    for (int i = 0; i < 1000; i++) {
        char name[64];
        snprintf(name, sizeof name, "plugin_test_no_such_name_%d", i);
        sym_query_init(&q, name, NULL);
        rejected += !host_may_define(&q);
    }
    cr_expect_gt(rejected, 500, "the host filter turned away only %d of 1000 made-up names", rejected);
}

/* Interposition and self-binding (fixtures/interpose.c) once the host filter exists, so that the
 * root's references to its own definitions may take the short way (elf_resolve.c,
 * binds_to_itself): abs must still bind to libc's, own_answer to the plugin's, and the trace
 * says only own_answer went the short way. glibc's dlopen of the same file (the oracle) agrees. */
struct self_lines { int own, abs; };
static void on_self_trace(void *ctx, const struct plugin_trace_event *ev)
{
    const char *line = ev->text;
    struct self_lines *l = ctx;
    l->own += strstr(line, "bound own_answer to itself") != NULL;
    l->abs += strstr(line, "bound abs to itself") != NULL;
}

Test(elf_reader, own_definitions_bind_to_themselves_unless_a_host_has_them)
{
    plugin_error err;
    cr_assert_not_null(plugin_open(fixture("basic.so"), &err), "%s", err.message);  /* the host list */
    struct sym_query q;
    for (int i = 0; i < 300; i++) {                 /* enough host walks to build the filter */
        sym_query_init(&q, "memcpy", NULL);
        cr_assert(host_may_define(&q));
    }
    struct self_lines l = { 0, 0 };
    struct plugin_options opts = { .trace = on_self_trace, .trace_ctx = &l };
    plugin *p = plugin_open_with(fixture("interpose.so"), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    int (*abs_of)(int) = (int (*)(int))must_lookup(p, "abs_of");
    int (*call_own)(void) = (int (*)(void))must_lookup(p, "call_own");
    cr_expect_eq(abs_of(-5), 5, "the plugin's abs() was not interposed by libc's");
    cr_expect_eq(call_own(), 7);
    cr_expect_eq(l.own, 1, "own_answer did not take the short way");
    cr_expect_eq(l.abs, 0, "abs, which libc defines, took the short way");

    void *h = dlopen(fixture("interpose.so"), RTLD_NOW | RTLD_LOCAL);      /* the oracle */
    cr_assert_not_null(h, "%s", dlerror());
    int (*g_abs_of)(int) = (int (*)(int))dlsym(h, "abs_of");
    int (*g_call_own)(void) = (int (*)(void))dlsym(h, "call_own");
    cr_assert(g_abs_of && g_call_own);
    cr_expect_eq(g_abs_of(-5), abs_of(-5), "glibc binds abs differently");
    cr_expect_eq(g_call_own(), call_own(), "glibc binds own_answer differently");
}
