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
 * pc-relative or data-relative (relative to .eh_frame_hdr), and .eh_frame must hold what libgcc
 * reads of it when anything in the process throws: a chain of records inside one readable
 * segment ending with a zero terminator, each FDE's CIE pointer leading to a CIE met before it,
 * each CIE's augmentation inside its record with an FDE encoding libgcc can read, and each FDE
 * long enough for its pc_begin and pc_range (see "what libgcc reads" below). An
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

/* ---- .eh_frame: what libgcc reads of it without running the object's code ----
 *
 * When any code of the process throws (or calls backtrace()), libgcc's _Unwind_Find_FDE sorts
 * every registered table it has not seen yet (init_object -> classify_object_over_fdes,
 * add_fdes), whatever object the thrown-from code is in. It walks the records up to the zero
 * terminator; for each FDE it follows the CIE pointer, parses that CIE's augmentation for the
 * FDE pointer encoding ('R', skipping 'P', 'L', 'B'), and reads the FDE's pc_begin and pc_range
 * in that encoding. An encoding libgcc does not know makes it abort(); a CIE pointer or a length
 * that leads out of the table makes it read wild memory. So every one of those reads is checked
 * here, before the table is handed over. (The call-frame instructions themselves are read only
 * when a frame of this object is being unwound, i.e. when its code is on the stack.) */

#define DW_EH_PE_uleb128 0x01
#define DW_EH_PE_udata2  0x02
#define DW_EH_PE_sleb128 0x09
#define DW_EH_PE_sdata2  0x0a
#define DW_EH_PE_indirect 0x80

struct cie {                            /* a CIE seen in the walk */
    uint64_t off;                       /* its record's offset from the start of .eh_frame */
    uint64_t min_fde;                   /* the least length of its FDEs: CIE pointer, pc_begin and
                                           pc_range in its FDE encoding (4 for DW_EH_PE_omit) */
};

struct eh_walk {
    const uint8_t *first;               /* .eh_frame */
    struct cie *cies;                   /* in the order met: increasing offsets */
    size_t ncies, cap;
    struct cie last;                    /* the CIE the previous FDE used (off UINT64_MAX: none) */
};

/* Skip one LEB128 number in [*q, end). */
static bool skip_leb(const uint8_t **q, const uint8_t *end)
{
    for (const uint8_t *p = *q; p < end; p++)
        if (!(*p & 0x80)) {
            *q = p + 1;
            return true;
        }
    return false;
}

/* Bytes of a value in encoding enc, as libgcc's size_of_encoded_value: 0 where it would abort. */
static unsigned encoded_size(uint8_t enc)
{
    switch (enc & 0x07) {
    case DW_EH_PE_absptr: return 8;
    case DW_EH_PE_udata2: return 2;
    case DW_EH_PE_udata4: return 4;
    case DW_EH_PE_udata8: return 8;
    default:              return 0;
    }
}

/* An FDE pointer encoding libgcc reads without aborting or dereferencing: a fixed-size value,
 * absolute or pc-, text- or data-relative (libgcc's base_from_object knows no other; aligned is
 * refused too), never indirect. DW_EH_PE_omit is fine: libgcc then ignores the whole table. */
static bool fde_encoding_ok(uint8_t enc)
{
    if (enc == DW_EH_PE_omit)
        return true;
    uint8_t app = enc & 0x70, fmt = enc & 0x0f;
    return !(enc & DW_EH_PE_indirect) && app <= DW_EH_PE_datarel &&
           (fmt == DW_EH_PE_absptr || fmt == DW_EH_PE_udata2 || fmt == DW_EH_PE_udata4 ||
            fmt == DW_EH_PE_udata8 || fmt == DW_EH_PE_sdata2 || fmt == DW_EH_PE_sdata4 ||
            fmt == DW_EH_PE_sdata8);
}

/* The personality pointer ('P'): encoding byte, then the value, skipped as libgcc skips it (it
 * masks off DW_EH_PE_indirect and never dereferences it here). */
static bool skip_personality(const uint8_t **q, const uint8_t *end)
{
    if (*q >= end)
        return false;
    uint8_t enc = **q & 0x7f;
    (*q)++;
    if ((enc & 0x70) == 0x50)           /* DW_EH_PE_aligned: not emitted by any linker; refused */
        return false;
    switch (enc & 0x0f) {
    case DW_EH_PE_uleb128:
    case DW_EH_PE_sleb128:
        return skip_leb(q, end);
    case DW_EH_PE_absptr: case DW_EH_PE_udata2: case DW_EH_PE_udata4: case DW_EH_PE_udata8:
    case DW_EH_PE_sdata2: case DW_EH_PE_sdata4: case DW_EH_PE_sdata8:
        if ((uint64_t)(end - *q) < encoded_size(enc))
            return false;
        *q += encoded_size(enc);
        return true;
    default:                            /* libgcc would abort() */
        return false;
    }
}

/* The CIE body [q, end) (after its id word): the FDE encoding libgcc's get_cie_encoding finds. */
static const char *parse_cie(const uint8_t *q, const uint8_t *end, uint8_t *fde_enc)
{
    if (q >= end)
        return "a CIE has no version";
    uint8_t version = *q++;
    const uint8_t *aug = q, *nul = memchr(q, 0, (size_t)(end - q));
    if (!nul)
        return "a CIE's augmentation string runs past its record";
    q = nul + 1;
    *fde_enc = DW_EH_PE_absptr;
    if (version >= 4) {
        if (end - q < 2)
            return "a CIE's address size runs past its record";
        if (q[0] != 8 || q[1] != 0) {
            *fde_enc = DW_EH_PE_omit;   /* libgcc gives up on the table: harmless */
            return NULL;
        }
        q += 2;
    }
    if (aug[0] != 'z')
        return NULL;
    /* code alignment, data alignment, return address column (a byte in version 1), length */
    if (!skip_leb(&q, end) || !skip_leb(&q, end) || (version == 1 ? q++ >= end : !skip_leb(&q, end)) ||
        !skip_leb(&q, end))
        return "a CIE's header runs past its record";
    for (const uint8_t *a = aug + 1;; a++) {
        if (*a == 'R') {
            if (q >= end)
                return "a CIE's FDE encoding runs past its record";
            *fde_enc = *q;
            return fde_encoding_ok(*q) ? NULL : "a CIE gives an FDE encoding the unwinder does not read";
        }
        if (*a == 'P' && !skip_personality(&q, end))
            return "a CIE's personality pointer is malformed or runs past its record";
        if ((*a == 'L' || *a == 'B') && q++ >= end)
            return "a CIE's augmentation data runs past its record";
        if (*a != 'P' && *a != 'L' && *a != 'B')
            return NULL;                /* end of the string, or a letter libgcc stops at */
    }
}

static const char *add_cie(struct eh_walk *w, uint64_t off, const uint8_t *body, const uint8_t *end)
{
    uint8_t enc;
    const char *bad = parse_cie(body, end, &enc);
    if (bad)
        return bad;
    if (w->ncies == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct cie *g = realloc(w->cies, cap * sizeof *g);
        if (!g)
            return "out of memory";
        w->cies = g;
        w->cap = cap;
    }
    uint64_t min = enc == DW_EH_PE_omit ? 4 : 4 + 2 * (uint64_t)encoded_size(enc);
    w->cies[w->ncies++] = (struct cie){ off, min };
    return NULL;
}

/* The CIE at offset off, met before: a binary search (the walk keeps the last one used, which
 * consecutive FDEs nearly always share). */
static const struct cie *cie_at(const struct eh_walk *w, uint64_t off)
{
    size_t lo = 0, hi = w->ncies;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->cies[mid].off == off)
            return &w->cies[mid];
        if (w->cies[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* One FDE of len bytes (after its length word) at offset off: its CIE pointer leads to a CIE,
 * and it has room for pc_begin and pc_range in that CIE's encoding. */
static inline const char *check_fde(struct eh_walk *w, uint64_t off, uint32_t id, uint64_t len)
{
    if (id > off + 4)
        return "an FDE's CIE pointer leads before .eh_frame";
    uint64_t cie = off + 4 - id;
    if (cie != w->last.off) {
        const struct cie *c = cie_at(w, cie);
        if (!c)
            return "an FDE's CIE pointer does not lead to a CIE";
        w->last = *c;
    }
    return len < w->last.min_fde ? "an FDE is too short for its pc_begin and pc_range" : NULL;
}

/* One record at p (left bytes to the segment's end); *size its whole size, 0 for the terminator. */
static inline const char *check_record(struct eh_walk *w, const uint8_t *p, uint64_t left, uint64_t *size)
{
    uint32_t len, id;
    if (left < 4)
        return ".eh_frame runs off its segment without a terminator";
    memcpy(&len, p, 4);
    *size = 0;
    if (len == 0)
        return NULL;
    if (len == 0xffffffffu)             /* libgcc's walk would add 4 GiB to its pointer */
        return "a record has a 64-bit length, which the unwinder cannot walk";
    if (len < 4 || len > left - 4)
        return "a record's length runs past its segment";
    memcpy(&id, p + 4, 4);
    *size = 4 + (uint64_t)len;
    uint64_t off = (uint64_t)(p - w->first);
    return id == 0 ? add_cie(w, off, p + 8, p + 4 + len) : check_fde(w, off, id, len);
}

/* .eh_frame at vaddr: records inside one readable segment, ending with a zero length word (where
 * libgcc's walk stops), each checked as libgcc will read it (above). The walk is memory-bound:
 * the pages are mapped ahead (EH_AHEAD) and the lines asked for ahead (EH_PREFETCH). NULL: good. */
static const char *eh_frame_bad(const struct image *im, uint64_t vaddr)
{
    uint64_t end = 0;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if ((sg->flags & SEG_R) && vaddr >= sg->vaddr && vaddr - sg->vaddr < sg->filesz)
            end = sg->vaddr + sg->filesz;
    }
    if (!end || im->file_view)              /* only mapped images are registered */
        return ".eh_frame lies outside its readable segments";
    struct eh_walk w = { .first = image_addr(im, vaddr), .last = { UINT64_MAX, 0 } };
    const uint8_t *p = w.first, *stop = image_addr(im, end);
    const char *bad = NULL;
    while (p < stop) {                      /* each record is at least 8 bytes: the walk ends */
        const uint8_t *chunk = stop - p > EH_AHEAD ? p + EH_AHEAD : stop;
        vm_prefetch(im, vaddr + (uint64_t)(p - w.first), (uint64_t)(chunk - p));
        while (p < chunk) {
            uint64_t size;
            __builtin_prefetch((const void *)((uintptr_t)p + EH_PREFETCH));    /* never faults */
            if ((bad = check_record(&w, p, (uint64_t)(stop - p), &size)) != NULL || size == 0)
                goto done;
            p += size;
        }
    }
    bad = ".eh_frame runs off its segment without a terminator";
done:
    free(w.cies);
    return bad;
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
    const char *bad = eh_frame_bad(im, ptr);
    if (bad) {
        *why = bad;
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
    diag_trace(ld->d, TRACE_FILES, "unwind tables: __register_frame of %s (%zu earlier tables registered with it)", where,
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
                diag_trace(ld->d, TRACE_FILES, "%s: unwind tables not registered: %s", im->path, why);
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
        diag_trace(ld->d, TRACE_FILES, "unwind tables: no __register_frame in the process; %zu table(s) not registered",
                   nframes - first_new);
    else
        diag_trace(ld->d, TRACE_FILES, "unwind tables: %zu registered with %zu unwinder(s)", nframes - first_new, nunwinders);
}
