/*
 * elf_load.c — the ELF front end as the core sees it: its table of operations (core/format.h),
 * and the answers it gives after publication (plugin_lookup).
 *
 * Each operation is one of the ELF files' steps: elf_header.c reads, elf_dynamic.c decodes,
 * elf_deps.c finds dependencies and checks versions, elf_reloc.c binds, eh_frame.c registers
 * unwind tables, elf_init.c runs initializers, elf_symtab.c and elf_addr.c answer lookups.
 */
#include "core/debug.h"
#include "elf/elf.h"

#include <string.h>

static bool op_recognize(struct source *s)
{
    unsigned char magic[SELFMAG];
    struct diag quiet = { .err = NULL };
    return s->size >= SELFMAG && source_read(s, 0, magic, SELFMAG, &quiet) == 0 &&
           memcmp(magic, ELFMAG, SELFMAG) == 0;
}

static int op_read(struct image *im, struct source *s, struct diag *d)
{
    return elf_read_headers(im, s, ELF_LOAD, d);
}

static int op_decode(struct image *im, struct diag *d)
{
    return elf_decode_dynamic(im, ELF_LOAD, d);
}

/* Before any binding: the versions each object needs are defined, every thread-local module has
 * its number (relocations of other objects may name it), and every unique symbol has its one
 * definition (elf_unique.c: the first object loaded that defines it, unless the host has one). */
static int op_prepare(struct load *ld, struct image *im)
{
    return elf_check_versions(ld, im) || elf_tls_register(im, ld->d) || elf_unique_register(ld, im) ? -1 : 0;
}

/* The open succeeded (its objects are published): its unique symbols become everyone's, and the
 * unwinders learn its tables. */
static void op_ready(struct load *ld)
{
    elf_unique_commit();
    eh_frame_register_all(ld);
}

/* plugin_lookup / plugin_lookup_version. A version lookup is dlvsym's: the definition whose
 * version is exactly that name, hidden ("@") versions included (glibc's _dl_vsym asks with a
 * hidden version, so a definition without a version name does not match; an object without
 * any version information matches on the name alone, as in glibc). A unique definition answers
 * the process's one (elf_unique.c), as dlsym does. */
static void *op_lookup(const struct image *im, const char *name, const char *version, struct diag *d)
{
    struct version want = { version, NULL, true, false };
    struct sym_query q;
    const Elf64_Sym *s = NULL;
    if (elf_of(im)->symtab) {
        sym_query_init(&q, name, version ? &want : NULL);
        q.newest = true;
        s = elf_find_symbol(im, &q);
    }
    if (!s) {
        diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: symbol \"%s%s%s\" not found in plugin \"%s\"", name,
                      version ? "@" : "", version ? version : "", image_name(im));
        return NULL;
    }
    struct resolved u;
    if (ELF64_ST_BIND(s->st_info) == STB_GNU_UNIQUE && elf_unique_get(name, &u) && u.def->fmt == &elf_format)
        im = u.def, s = u.sym;                                  /* the process's one definition */
    if (ELF64_ST_TYPE(s->st_info) == STT_TLS) {                 /* this thread's copy */
        void *addr = elf_tls_symbol_address(im, s);
        if (!addr)
            diag_fail_raw(d, PLUGIN_ERR_UNSUPPORTED, "plugin: symbol \"%s\" in \"%s\" is thread-local in an object "
                          "the system loader has; only our objects' thread-locals are served", name, image_name(im));
        return addr;
    }
    uint64_t a = elf_symbol_addr(im, s);
    if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC) {
        if (init_lookup_may_resolve(im, name, d))       /* PLUGIN_NO_RUN: not before its initializers */
            return NULL;
        a = im->arch->call_ifunc(a);
    }
    return (void *)(uintptr_t)a;
}

static void op_release(struct image *im)
{
    if (!elf_of(im))
        return;
    elf_unique_discard();                   /* a failed open: its unique entries go too */
    elf_tls_forget(im);
    elf_object_free(im);
}

const struct format elf_format = {
    .name = "ELF",
    .debug_kind = PLUGIN_DEBUG_ELF,
    .recognize = op_recognize,
    .read = op_read,
    .decode = op_decode,
    .load_deps = elf_load_deps,
    .search = elf_search_name,
    .prepare = op_prepare,
    .bind = elf_bind,
    .bind_done = elf_bind_done,
    .ready = op_ready,
    .run_init = elf_run_init,
    .run_fini = elf_run_fini,
    .exports = elf_exports_build,
    .lookup = op_lookup,
    .find = elf_find,
    .nearest = elf_nearest,
    .release = op_release,
};
