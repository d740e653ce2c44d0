/*
 * eh_frame.c — make the unwind tables of the objects we load visible to the unwinder.
 *
 * C++ exceptions, backtrace() and _Unwind_Backtrace find a frame's FDE through libgcc's unwinder
 * (libgcc_s.so.1), which looks in the objects registered with __register_frame first and then in
 * the objects glibc lists (dl_iterate_phdr). Ours are not in glibc's list, so each ELF image we
 * load with PT_GNU_EH_FRAME is registered: the .eh_frame_hdr's eh_frame_ptr gives .eh_frame,
 * whose start is passed to __register_frame once the image is relocated and protected and before
 * any initializer runs (an initializer may throw and catch).
 *
 * Which unwinders: every copy of libgcc's unwinder in the process that we can find —
 *   - the host's __register_frame (resolve_host_name: the resolve callback, then the objects the
 *     system loader has; the libgcc_s.so.1 glibc loaded for the executable or for itself);
 *   - the __register_frame of any image we loaded ourselves (libgcc_s.so.1 loaded by us as a
 *     dependency when the process had none: our C++ plugins then throw through that copy).
 * An unwinder seen for the first time gets every .eh_frame registered so far, so the order of
 * opens does not matter. Limits: a copy that appears later without any further plugin_open
 * (glibc loads its own libgcc_s.so.1 lazily for backtrace() or pthread_cancel when the process
 * had none) knows nothing of our objects until the next open; and a process with no
 * __register_frame at all (a -static host without libgcc's unwinder, and no resolve callback
 * supplying it) gets no registration: nothing is done, silently (a trace line says so).
 * Registrations are never undone: plugins are never unloaded.
 *
 * Everything read is bounds-checked: the ELF and program headers are read from the mapped first
 * segment (the loader keeps no copy of them), PT_GNU_EH_FRAME must lie in a readable segment, the
 * eh_frame_ptr encoding must be one of absptr/udata4/sdata4/udata8/sdata8 applied absolutely,
 * pc-relative or data-relative (relative to .eh_frame_hdr), and .eh_frame must be a chain of
 * records inside one readable segment ending with a zero terminator (libgcc reads up to it). An
 * image whose tables fail any check is not registered (a trace line names the reason); the open
 * goes on, as ld.so ignores PT_GNU_EH_FRAME.
 *
 * Called with the load lock held (the lists below are only touched under it).
 */
#include "elf/elf.h"

#include <stdlib.h>
#include <string.h>

#define DW_EH_PE_absptr  0x00
#define DW_EH_PE_udata4  0x03
#define DW_EH_PE_udata8  0x04
#define DW_EH_PE_sdata4  0x0b
#define DW_EH_PE_sdata8  0x0c
#define DW_EH_PE_pcrel   0x10
#define DW_EH_PE_datarel 0x30
#define DW_EH_PE_omit    0xff

#define EH_MAX_RECORDS   (1u << 22)      /* a bound on the walk of .eh_frame */
#define EH_PREFETCH      (16u << 10)     /* and asks the CPU for the bytes 16 KiB ahead: 10% off a
                                            libLLVM open (16-64 KiB measured alike, none 10% slower) */
#define EH_AHEAD         (256u << 10)    /* the walk maps 256 KiB ahead at a time (its length is
                                            known only at its end): a page fault each otherwise */

typedef void (*register_fn)(const void *);

static const void **frames;             /* every .eh_frame registered, in order */
static size_t nframes, capframes;
static register_fn *unwinders;          /* every __register_frame used so far */
static size_t nunwinders, capunwinders;

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* Copy len bytes at vaddr of im into out, when they lie in a readable file-backed part. */
static bool read_at(const struct image *im, uint64_t vaddr, void *out, size_t len)
{
    if (!image_range_ok(im, vaddr, len, RANGE_READ))
        return false;
    memcpy(out, image_addr(im, vaddr), len);
    return true;
}

/* PT_GNU_EH_FRAME of im, from the program headers as mapped (the first PT_LOAD at file offset 0
 * holds them in every object a linker makes). 1: found; 0: none or unreadable (*why says). */
static int find_eh_frame_hdr(const struct image *im, uint64_t *vaddr, uint64_t *memsz, const char **why)
{
    const struct segment *first = NULL;
    for (size_t i = 0; i < im->nsegs && !first; i++)
        if (im->segs[i].offset == 0)
            first = &im->segs[i];
    Elf64_Ehdr eh;
    if (!first || !read_at(im, first->vaddr, &eh, sizeof eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        *why = "its ELF header is not mapped";
        return 0;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM) {
        *why = "its program headers are not where the ELF header says";
        return 0;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        uint64_t at;
        if (!add_ok(eh.e_phoff, (uint64_t)i * sizeof ph, &at) || at >= first->filesz ||
            !read_at(im, first->vaddr + at, &ph, sizeof ph)) {
            *why = "its program headers are not mapped";
            return 0;
        }
        if (ph.p_type == PT_GNU_EH_FRAME) {
            *vaddr = ph.p_vaddr;
            *memsz = ph.p_memsz;
            return 1;
        }
    }
    *why = NULL;                        /* no PT_GNU_EH_FRAME: nothing to say */
    return 0;
}

/* One value encoded as enc at vaddr (field of .eh_frame_hdr at hdr). */
static bool decode_ptr(const struct image *im, uint8_t enc, uint64_t vaddr, uint64_t hdr, uint64_t *out)
{
    uint64_t v;
    switch (enc & 0x0f) {
    case DW_EH_PE_absptr:
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8: {
        uint64_t u;
        if (!read_at(im, vaddr, &u, sizeof u))
            return false;
        v = u;
        break;
    }
    case DW_EH_PE_udata4: {
        uint32_t u;
        if (!read_at(im, vaddr, &u, sizeof u))
            return false;
        v = u;
        break;
    }
    case DW_EH_PE_sdata4: {
        int32_t s;
        if (!read_at(im, vaddr, &s, sizeof s))
            return false;
        v = (uint64_t)(int64_t)s;
        break;
    }
    default:
        return false;
    }
    switch (enc & 0xf0) {               /* DW_EH_PE_indirect (0x80) and the rest: refused */
    case DW_EH_PE_absptr:  *out = v; return true;          /* a link-time address (a vaddr) */
    case DW_EH_PE_pcrel:   *out = vaddr + v; return true;
    case DW_EH_PE_datarel: *out = hdr + v; return true;
    default:               return false;
    }
}

/* .eh_frame at vaddr is a chain of records inside one readable segment, ending with a zero
 * length word (where libgcc's walk stops). The segment is found once; each record is then
 * checked against its end (a large library has tens of thousands of records). */
static bool eh_frame_ok(const struct image *im, uint64_t vaddr)
{
    uint64_t end = 0;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if ((sg->flags & SEG_R) && vaddr >= sg->vaddr && vaddr - sg->vaddr < sg->filesz)
            end = sg->vaddr + sg->filesz;
    }
    if (!end || im->file_view)              /* only mapped images are registered */
        return false;
    const uint8_t *first = image_addr(im, vaddr), *p = first, *stop = image_addr(im, end);
    for (uint32_t n = 0; n < EH_MAX_RECORDS && p < stop;) {
        const uint8_t *chunk = stop - p > EH_AHEAD ? p + EH_AHEAD : stop;
        vm_prefetch(im, vaddr + (uint64_t)(p - first), (uint64_t)(chunk - p));
        for (; p < chunk && n < EH_MAX_RECORDS; n++) {
            uint32_t len32;
            uint64_t left = (uint64_t)(stop - p), len, hdr = 4;
            if (left < 4)
                return false;
            if (left > EH_PREFETCH)         /* the walk is memory-bound: ask for the lines ahead */
                __builtin_prefetch(p + EH_PREFETCH);
            memcpy(&len32, p, 4);
            if (len32 == 0)
                return true;
            len = len32;
            if (len32 == 0xffffffffu) {
                if (left < 12)
                    return false;
                memcpy(&len, p + 4, 8);
                hdr = 12;
            }
            if (len < 4 || len > left - hdr)
                return false;
            p += hdr + len;
        }
    }
    return false;
}

/* Memory address of im's .eh_frame, or NULL (with a reason in *why when there is one). */
static const void *eh_frame_of(const struct image *im, const char **why)
{
    uint64_t hdr, hdrsz, ptr;
    if (!find_eh_frame_hdr(im, &hdr, &hdrsz, why))
        return NULL;
    uint8_t head[4];                    /* version, eh_frame_ptr_enc, fde_count_enc, table_enc */
    if (hdrsz < sizeof head || !read_at(im, hdr, head, sizeof head)) {
        *why = "PT_GNU_EH_FRAME lies outside its readable segments";
        return NULL;
    }
    if (head[0] != 1) {
        *why = "its .eh_frame_hdr has an unknown version";
        return NULL;
    }
    if (head[1] == DW_EH_PE_omit) {
        *why = NULL;                    /* no .eh_frame at all */
        return NULL;
    }
    if (!decode_ptr(im, head[1], hdr + 4, hdr, &ptr)) {
        *why = "its eh_frame_ptr has an unsupported encoding or lies outside the object";
        return NULL;
    }
    if (!eh_frame_ok(im, ptr)) {
        *why = ".eh_frame is not a terminated chain of records inside one readable segment";
        return NULL;
    }
    uint32_t first;
    if (!read_at(im, ptr, &first, sizeof first) || first == 0) {
        *why = NULL;                    /* empty .eh_frame: __register_frame would ignore it */
        return NULL;
    }
    return image_addr(im, ptr);
}

static bool known_unwinder(register_fn fn)
{
    for (size_t i = 0; i < nunwinders; i++)
        if (unwinders[i] == fn)
            return true;
    return false;
}

/* A __register_frame seen for the first time: remember it and give it every frame so far. */
static void add_unwinder(struct load *ld, register_fn fn, const char *where)
{
    if (!fn || known_unwinder(fn) || !grow((void **)&unwinders, &capunwinders, nunwinders, sizeof *unwinders))
        return;
    unwinders[nunwinders++] = fn;
    diag_trace(ld->d, "unwind tables: __register_frame of %s (%zu earlier tables registered with it)", where,
               nframes);
    for (size_t i = 0; i < nframes; i++)
        fn(frames[i]);
}

void eh_frame_register_all(struct load *ld)
{
    size_t first_new = nframes;
    for (size_t i = 0; i < ld->nimages; i++) {
        const struct image *im = ld->images[i];
        const char *why = NULL;
        if (im->fmt != &elf_format)
            continue;
        const void *f = eh_frame_of(im, &why);
        if (!f) {
            if (why)
                diag_trace(ld->d, "%s: unwind tables not registered: %s", im->path, why);
            continue;
        }
        if (!grow((void **)&frames, &capframes, nframes, sizeof *frames))
            continue;               /* out of memory: this image's frames stay invisible */
        frames[nframes++] = f;
    }
    if (nframes == first_new)
        return;                     /* nothing new (Mach-O only, or no tables): ask nobody */

    /* Old unwinders get the new tables; new unwinders (below) get all of them. */
    for (size_t u = 0; u < nunwinders; u++)
        for (size_t i = first_new; i < nframes; i++)
            unwinders[u](frames[i]);
    uint64_t addr;
    const char *where;
    if (resolve_host_name(ld, "__register_frame", &addr, &where))
        add_unwinder(ld, (register_fn)(uintptr_t)addr, where);
    struct sym_query q;
    sym_query_init(&q, "__register_frame", NULL);
    q.newest = true;
    for (size_t i = 0; i < ld->nimages; i++) {
        const struct image *im = ld->images[i];
        const Elf64_Sym *s = im->fmt != &elf_format || !elf_of(im)->symtab ? NULL : elf_find_symbol(im, &q);
        if (s && ELF64_ST_TYPE(s->st_info) == STT_FUNC)
            add_unwinder(ld, (register_fn)(uintptr_t)elf_symbol_addr(im, s), im->path);
    }
    if (nunwinders == 0)
        diag_trace(ld->d, "unwind tables: no __register_frame in the process; %zu table(s) not registered",
                   nframes - first_new);
    else
        diag_trace(ld->d, "unwind tables: %zu registered with %zu unwinder(s)", nframes - first_new, nunwinders);
}
