/*
 * elf_init.c — an ELF object's initializers and finalizers (the order among objects is the
 * core's: core/init.c).
 *
 * Within one object: DT_INIT first, then DT_INIT_ARRAY in array order (the linker has already
 * sorted constructor priorities into that array), with (argc, argv, envp) like glibc. At exit:
 * DT_FINI_ARRAY in reverse order, then DT_FINI. The tables are checked when the object is
 * decoded (elf_check_init_tables), before anything is called.
 */
#include "elf/elf.h"

int elf_check_init_tables(struct image *im, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    static const struct { int tag, size_tag; const char *name; } arrays[] = {
        { DT_INIT_ARRAY, DT_INIT_ARRAYSZ, "DT_INIT_ARRAY" }, { DT_FINI_ARRAY, DT_FINI_ARRAYSZ, "DT_FINI_ARRAY" },
    };
    for (size_t i = 0; i < 2; i++) {
        int tag = arrays[i].tag, sz = arrays[i].size_tag;
        if (!dyn_has(o, tag))
            continue;
        if (o->dyn[sz] % sizeof(uint64_t) || o->dyn[tag] % sizeof(uint64_t) ||
            !image_range_ok(im, o->dyn[tag], o->dyn[sz], RANGE_READ))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "%s (0x%llx, %llu bytes) is malformed", arrays[i].name,
                             (unsigned long long)o->dyn[tag], (unsigned long long)o->dyn[sz]);
    }
    if (dyn_has(o, DT_PREINIT_ARRAY) && o->dyn[DT_PREINIT_ARRAYSZ])
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path, "has DT_PREINIT_ARRAY, which only executables may have");
    if ((dyn_has(o, DT_INIT) && !image_range_ok(im, o->dyn[DT_INIT], 1, RANGE_MAPPED)) ||
        (dyn_has(o, DT_FINI) && !image_range_ok(im, o->dyn[DT_FINI], 1, RANGE_MAPPED)))
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "DT_INIT or DT_FINI is outside the mapped segments");
    return 0;
}

typedef void (*init_fn)(int, char **, char **);
typedef void (*fini_fn)(void);

void elf_run_init(struct image *im, int argc, char **argv, char **envp, struct diag *d)
{
    struct elf_object *o = elf_of(im);
    if (dyn_has(o, DT_INIT)) {
        diag_trace_ev(d, TRACE_INIT, ev_init(im->path, "DT_INIT", 0, (uintptr_t)image_addr(im, o->dyn[DT_INIT])),
                      "%s: calling DT_INIT at %p", im->path, image_addr(im, o->dyn[DT_INIT]));
        ((init_fn)image_addr(im, o->dyn[DT_INIT]))(argc, argv, envp);
    }
    if (dyn_has(o, DT_INIT_ARRAY)) {
        const uint64_t *a = image_addr(im, o->dyn[DT_INIT_ARRAY]);
        size_t n = o->dyn[DT_INIT_ARRAYSZ] / sizeof *a;
        for (size_t i = 0; i < n; i++) {
            if (a[i] == 0 || a[i] == UINT64_MAX)
                continue;
            diag_trace_ev(d, TRACE_INIT, ev_init(im->path, "DT_INIT_ARRAY", i, a[i]),
                          "%s: calling DT_INIT_ARRAY[%zu] at 0x%llx", im->path, i, (unsigned long long)a[i]);
            ((init_fn)(uintptr_t)a[i])(argc, argv, envp);
        }
    }
}

void elf_run_fini(struct image *im)
{
    struct elf_object *o = elf_of(im);
    if (dyn_has(o, DT_FINI_ARRAY)) {
        const uint64_t *a = image_addr(im, o->dyn[DT_FINI_ARRAY]);
        for (size_t i = o->dyn[DT_FINI_ARRAYSZ] / sizeof *a; i-- > 0;)
            if (a[i] != 0 && a[i] != UINT64_MAX)
                ((fini_fn)(uintptr_t)a[i])();
    }
    if (dyn_has(o, DT_FINI))
        ((fini_fn)image_addr(im, o->dyn[DT_FINI]))();
}
