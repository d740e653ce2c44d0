/*
 * elf_tls.c — thread-local storage of the ELF objects we load (PT_TLS).
 *
 * Each object with PT_TLS becomes one of our modules (loader/core/tls.c): every thread gets its own
 * block, made from the template on that thread's first access. Module numbers handed to code are
 * TLS_MODULE_BASE + n, so they can never be mistaken for glibc's (small, dense) module ids.
 *
 * The access models and their relocations:
 *   general/local dynamic: a GOT pair {module, offset} (DTPMOD64/DTPOFF64, AArch64 TLS_DTPMOD/
 *     TLS_DTPREL) passed to __tls_get_addr. The object's __tls_get_addr binds to ours, which
 *     serves our modules and forwards glibc's module ids to glibc's __tls_get_addr.
 *   TLS descriptors (TLSDESC): a GOT pair {resolver, argument}; code calls the resolver, which
 *     returns the variable's offset from the thread pointer and keeps every other register
 *     (arch/<cpu>/tlv.c). Our modules get the dynamic resolver; a variable in glibc's static TLS
 *     gets the static one with the offset precomputed.
 *   initial exec: a GOT entry holding the offset from the thread pointer (TPOFF64, TLS_TPREL).
 *     A module in glibc's static TLS has a fixed offset already. One of ours is given one, as
 *     glibc's dlopen does, at the first such relocation that names it: its block is carved out
 *     of the static TLS pool the host reserved (core/static_tls.c, PLUGIN_STATIC_TLS_POOL), if
 *     its object is loaded by this open (no code of it ran: no thread has a block of it yet) and
 *     its initial image is all zero (the pool is zero in every thread). From then on every path
 *     to the module (__tls_get_addr, descriptors, lookups) gives that static address.
 */
#include "elf/elf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_MODULE_BASE 0x40000000ULL
#define DESC_OFFSET_BITS 40         /* dynamic TLSDESC argument: module << 40 | offset */

struct tls_index {                  /* the argument of __tls_get_addr */
    uint64_t module, offset;
};

extern char plugin_tlsdesc_static[], plugin_tlsdesc_dynamic[];
void *elf_tlsdesc_address(const uint64_t *desc) __attribute__((visibility("hidden")));

static void *(*glibc_tls_get_addr)(struct tls_index *);
static void (*glibc_static_info)(size_t *size, size_t *align);

int elf_tls_register(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    size_t id;
    if (!o->tls.present || o->tls.id)
        return 0;
    if (tls_module_add(image_addr(im, o->tls.vaddr), o->tls.filesz, o->tls.memsz, o->tls.align, &id))
        return diag_fail(d, PLUGIN_ERR_NOMEM, im->path, "too many modules with thread-local storage");
    o->tls.id = id + 1;
    arch_tlv_init();
    diag_trace(d, TRACE_FILES, "%s: thread-local block of %llu bytes is module 0x%llx", im->path,
               (unsigned long long)o->tls.memsz, (unsigned long long)(TLS_MODULE_BASE + id));
    return 0;
}

void elf_tls_forget(struct image *im)
{
    struct elf_object *o = elf_of(im);
    if (o->tls.id)
        tls_module_forget(o->tls.id - 1);
}

/* The x86-64 psABI allows __tls_get_addr to be called with a misaligned stack (old GCC did). */
#if defined(__x86_64__)
__attribute__((force_align_arg_pointer))
#endif
static void *plugin_tls_get_addr(struct tls_index *ti)
{
    if (ti->module >= TLS_MODULE_BASE)
        return tls_block((size_t)(ti->module - TLS_MODULE_BASE)) + ti->offset;
    if (!glibc_tls_get_addr) {
        fprintf(stderr, "plugin: __tls_get_addr for glibc module %llu, but glibc's is not in the process\n",
                (unsigned long long)ti->module);
        abort();
    }
    return glibc_tls_get_addr(ti);
}

void *elf_tls_get_addr_function(void)
{
    return (void *)plugin_tls_get_addr;
}

void *elf_tlsdesc_address(const uint64_t *desc)
{
    uint64_t arg = desc[1];
    return tls_block((size_t)(arg >> DESC_OFFSET_BITS)) + (arg & ((1ULL << DESC_OFFSET_BITS) - 1));
}

void *elf_tls_symbol_address(const struct image *im, const Elf64_Sym *sym)
{
    const struct elf_object *o = elf_of(im);
    return o->tls.id ? tls_block(o->tls.id - 1) + sym->st_value : NULL;
}

/* glibc's helpers, found once through the process's symbols (never dlsym). */
static void find_glibc_helpers(struct load *ld)
{
    uint64_t a;
    const char *where;
    if (!glibc_tls_get_addr && resolve_host_name(ld, "__tls_get_addr", &a, &where))
        glibc_tls_get_addr = (void *(*)(struct tls_index *))(uintptr_t)a;
    if (!glibc_static_info && resolve_host_name(ld, "_dl_get_tls_static_info", &a, &where))
        glibc_static_info = (void (*)(size_t *, size_t *))(uintptr_t)a;
}

/* Is the host module's block in glibc's static TLS (same offset from tp in every thread)? */
static bool host_static_tls(const struct image *def)
{
    size_t size = 0, align = 0;
    if (!elf_of(def)->tls.host_static || !glibc_static_info)
        return false;
    glibc_static_info(&size, &align);
    intptr_t off = elf_of(def)->tls.host_tpoff;
#if defined(__x86_64__)
    return off < 0 && (size_t)-off <= size;             /* variant II: below the thread pointer */
#else
    return off > 0 && (size_t)off < size;               /* variant I: above it */
#endif
}

struct tls_target {
    const struct image *def;        /* the defining object (NULL: none, weak undefined) */
    uint64_t value;                 /* the symbol's offset in its module's block */
};

static int tls_target(struct load *ld, struct image *im, uint32_t symidx, struct tls_target *t)
{
    struct resolved r;
    if (symidx == 0) {
        *t = (struct tls_target){ im, 0 };
        return 0;
    }
    if (elf_resolve_symbol(ld, im, symidx, &r))
        return -1;
    const Elf64_Sym *sym = r.sym;               /* r.def is ELF: ELF references bind to ELF */
    if (sym && ELF64_ST_TYPE(sym->st_info) != STT_TLS)
        return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "TLS relocation against a non-TLS symbol");
    if (!sym && r.addr)
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                         "a thread-local symbol cannot come from the resolve callback");
    *t = (struct tls_target){ r.def, sym ? sym->st_value : 0 };
    return 0;
}

static int module_of(struct load *ld, struct image *im, const struct tls_target *t, uint64_t *mod)
{
    const struct image *def = t->def;
    if (def && !def->is_host && elf_of(def)->tls.id) {
        *mod = TLS_MODULE_BASE + elf_of(def)->tls.id - 1;
        return 0;
    }
    if (def && def->is_host && elf_of(def)->tls.host_modid) {
        *mod = elf_of(def)->tls.host_modid;
        return 0;
    }
    return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "TLS relocation names %s, which has no PT_TLS",
                     def ? image_name(def) : "no object");
}

/* Does [tpoff, tpoff + size) lie in static TLS: inside the block of an object the system loader
 * placed there (in a -static executable, every block is)? The pool of a host that registered
 * something else (a heap buffer, a dynamic-TLS variable) is refused here, before any use. */
static bool in_static_tls(struct load *ld, intptr_t tpoff, size_t size)
{
    size_t n;
    struct image **hosts = host_images(&n);
    for (size_t i = 0; i < n; i++) {
        const struct elf_object *h = elf_of(hosts[i]);
        if (!h->tls.host_static || !(ld->static_host || host_static_tls(hosts[i])) || tpoff < h->tls.host_tpoff)
            continue;
        uint64_t at = (uint64_t)(tpoff - h->tls.host_tpoff);       /* offset inside that block */
        if (at <= h->tls.memsz && size <= h->tls.memsz - at)
            return true;
    }
    return false;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Why module def cannot be made static (NULL: it can): initial-exec code bakes its offset in,
 * so no thread may have a dynamic block of it yet, and its image must suit the pool. */
static const char *image_refusal(const struct image *def, char *buf, size_t len)
{
    const struct elf_object *o = elf_of(def);
    if (def->state != IMG_MAPPED)
        return "an earlier open loaded it with dynamic thread-local storage, already in use";
    if (!all_zero(image_addr(def, o->tls.vaddr), o->tls.filesz)) {
        snprintf(buf, len, "its initial image (%llu bytes of .tdata) is not all zero: the static TLS pool starts "
                 "zero in every thread, and threads cannot be given another image", (unsigned long long)o->tls.filesz);
        return buf;
    }
    if (o->tls.align > PLUGIN_STATIC_TLS_ALIGN) {
        snprintf(buf, len, "its alignment %llu is larger than the static TLS pool's %u",
                 (unsigned long long)o->tls.align, PLUGIN_STATIC_TLS_ALIGN);
        return buf;
    }
    return NULL;
}

/* The pool had no room: say how much is needed and how to reserve it. */
static const char *pool_refusal(const struct image *def, char *buf, size_t len)
{
    const struct elf_object *o = elf_of(def);
    unsigned long long need = o->tls.memsz, align = o->tls.align ? o->tls.align : 1;
    size_t total, left;
    tls_static_usage(&total, &left);
    if (!total)
        snprintf(buf, len, "its block needs %llu bytes (alignment %llu) and the host reserved no static TLS pool: "
                 "reserve one with PLUGIN_STATIC_TLS_POOL(bytes) in the executable (plugin.h), of at least %llu "
                 "bytes", need, align, need);
    else
        snprintf(buf, len, "its block needs %llu bytes (alignment %llu), more than the host's static TLS pool has "
                 "free (%zu of %zu bytes): reserve more with PLUGIN_STATIC_TLS_POOL(bytes) in the executable "
                 "(plugin.h)", need, align, left, total);
    return buf;
}

/* The offset from the thread pointer of one of our modules, made static now if it is not yet. */
static int own_tpoff(struct load *ld, struct image *im, const struct image *def, const char *what, intptr_t *off)
{
    const struct elf_object *o = elf_of(def);
    size_t id = o->tls.id - 1;
    char why[320];
    if (tls_module_static(id, off))
        return 0;
    const char *refusal = image_refusal(def, why, sizeof why);
    if (!refusal && tls_module_make_static(id, off))
        refusal = pool_refusal(def, why, sizeof why);
    if (refusal)
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path, "%s: initial-exec thread-local access to %s "
                         "(DF_STATIC_TLS) needs static TLS: %s", what, image_name(def), refusal);
    if (!in_static_tls(ld, *off, o->tls.memsz))
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path, "%s: the static TLS pool the host registered "
                         "(thread pointer %+lld) is not in static TLS: it must be an initial-exec __thread "
                         "array (PLUGIN_STATIC_TLS_POOL)", what, (long long)*off);
    diag_trace(ld->d, TRACE_FILES, "%s: thread-local block of %llu bytes is in the static TLS pool at thread pointer %+lld",
               image_name(def), (unsigned long long)o->tls.memsz, (long long)*off);
    return 0;
}

/* One of our modules already served from the static TLS pool (its descriptors need no lookup). */
static bool own_static(const struct image *def, intptr_t *off)
{
    return def && !def->is_host && elf_of(def)->tls.id && tls_module_static(elf_of(def)->tls.id - 1, off);
}

static int tpoff_of(struct load *ld, struct image *im, const struct tls_target *t, const char *what,
                    intptr_t *off)
{
    if (t->def && t->def->is_host && host_static_tls(t->def)) {
        *off = elf_of(t->def)->tls.host_tpoff;
        return 0;
    }
    if (t->def && !t->def->is_host && elf_of(t->def)->tls.id)
        return own_tpoff(ld, im, t->def, what, off);
    return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path,
                     "%s: initial-exec thread-local access to %s, which is not in static TLS (rebuild "
                     "it with -ftls-model=global-dynamic)", what,
                     t->def ? image_name(t->def) : "an undefined symbol");
}

int elf_tls_relocate(struct load *ld, struct image *im, const struct reloc_type *rt, uint32_t symidx,
                     uint64_t where, int64_t addend)
{
    const struct arch *a = im->arch;
    struct tls_target t;
    uint64_t v[2];
    intptr_t off;
    find_glibc_helpers(ld);
    if (tls_target(ld, im, symidx, &t))
        return -1;
    if (rt->type == a->tls.dtpmod) {
        if (module_of(ld, im, &t, &v[0]))
            return -1;
    } else if (rt->type == a->tls.dtpoff) {
        v[0] = t.value + (uint64_t)addend;
    } else if (rt->type == a->tls.tpoff) {
        if (tpoff_of(ld, im, &t, rt->name, &off))
            return -1;
        v[0] = (uint64_t)off + t.value + (uint64_t)addend;
    } else if (rt->type == a->tls.desc) {
        uint64_t mod, o = t.value + (uint64_t)addend;
        if ((t.def && t.def->is_host) || own_static(t.def, &off)) {
            if (t.def->is_host && tpoff_of(ld, im, &t, rt->name, &off))
                return -1;
            v[0] = (uint64_t)(uintptr_t)plugin_tlsdesc_static, v[1] = (uint64_t)off + o;
        } else {
            if (module_of(ld, im, &t, &mod) || o >> DESC_OFFSET_BITS)
                return diag_fail(ld->d, PLUGIN_ERR_FORMAT, im->path, "%s: bad module or offset", rt->name);
            v[0] = (uint64_t)(uintptr_t)plugin_tlsdesc_dynamic;
            v[1] = (mod - TLS_MODULE_BASE) << DESC_OFFSET_BITS | o;
        }
    } else {
        return diag_fail(ld->d, PLUGIN_ERR_UNSUPPORTED, im->path, "%s at 0x%llx is not supported in a shared object",
                         rt->name, (unsigned long long)where);
    }
    memcpy(image_addr(im, where), v, rt->width);
    return 0;
}
