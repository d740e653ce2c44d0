/*
 * init.c — run initializers, and finalizers at exit.
 *
 * Order (glibc's): every dependency before the objects that need it — a depth-first walk of
 * DT_NEEDED from the plugin, emitting an object after its dependencies (a cycle is broken where it
 * closes) — and within one object DT_INIT first, then DT_INIT_ARRAY in array order (the linker
 * has already sorted constructor priorities into that array). Each object is initialized once.
 * Like glibc, initializers receive (argc, argv, envp).
 *
 * Finalizers run at process exit (atexit), newest object first: DT_FINI_ARRAY in reverse order,
 * then DT_FINI.
 */
#include "core/internal.h"
#include "macho/macho.h"

#include <stdlib.h>

extern char **environ;

static int saved_argc;
static char **saved_argv;
static struct image *fini_head;     /* initialized images, newest first */

void init_capture_args(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc > 0 && argv) {
        saved_argc = argc;
        saved_argv = argv;
    }
}

#ifdef __GLIBC__
/* glibc passes (argc, argv, envp) to the initializers of every object, this library included,
 * both in a dynamic and in a -static executable. */
__attribute__((constructor)) static void capture_args(int argc, char **argv, char **envp)
{
    init_capture_args(argc, argv, envp);
}
#endif

int elf_check_init_tables(struct image *im, struct diag *d)
{
    static const struct { int tag, size_tag; const char *name; } arrays[] = {
        { DT_INIT_ARRAY, DT_INIT_ARRAYSZ, "DT_INIT_ARRAY" }, { DT_FINI_ARRAY, DT_FINI_ARRAYSZ, "DT_FINI_ARRAY" },
    };
    for (size_t i = 0; i < 2; i++) {
        int tag = arrays[i].tag, sz = arrays[i].size_tag;
        if (!dyn_has(im, tag))
            continue;
        if (im->dyn[sz] % sizeof(uint64_t) || im->dyn[tag] % sizeof(uint64_t) ||
            !image_range_ok(im, im->dyn[tag], im->dyn[sz], RANGE_READ))
            return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "%s (0x%llx, %llu bytes) is malformed", arrays[i].name,
                             (unsigned long long)im->dyn[tag], (unsigned long long)im->dyn[sz]);
    }
    if (dyn_has(im, DT_PREINIT_ARRAY) && im->dyn[DT_PREINIT_ARRAYSZ])
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, im->path, "has DT_PREINIT_ARRAY, which only executables may have");
    if ((dyn_has(im, DT_INIT) && !image_range_ok(im, im->dyn[DT_INIT], 1, RANGE_MAPPED)) ||
        (dyn_has(im, DT_FINI) && !image_range_ok(im, im->dyn[DT_FINI], 1, RANGE_MAPPED)))
        return diag_fail(d, PLUGIN_ERR_FORMAT, im->path, "DT_INIT or DT_FINI is outside the mapped segments");
    return 0;
}

typedef void (*init_fn)(int, char **, char **);
typedef void (*fini_fn)(void);

static void init_one(struct image *im, struct diag *d)
{
    im->state = IMG_INITIALIZING;
    if (im->macho)
        macho_run_init(im, saved_argc, saved_argv, environ, d);
    if (dyn_has(im, DT_INIT)) {
        diag_trace(d, "%s: calling DT_INIT at %p", im->path, image_addr(im, im->dyn[DT_INIT]));
        ((init_fn)image_addr(im, im->dyn[DT_INIT]))(saved_argc, saved_argv, environ);
    }
    if (dyn_has(im, DT_INIT_ARRAY)) {
        const uint64_t *a = image_addr(im, im->dyn[DT_INIT_ARRAY]);
        size_t n = im->dyn[DT_INIT_ARRAYSZ] / sizeof *a;
        for (size_t i = 0; i < n; i++) {
            if (a[i] == 0 || a[i] == UINT64_MAX)
                continue;
            diag_trace(d, "%s: calling DT_INIT_ARRAY[%zu] at 0x%llx", im->path, i, (unsigned long long)a[i]);
            ((init_fn)(uintptr_t)a[i])(saved_argc, saved_argv, environ);
        }
    }
    im->state = IMG_READY;
    im->fini_next = fini_head;
    fini_head = im;
}

static void fini_one(struct image *im)
{
    if (dyn_has(im, DT_FINI_ARRAY)) {
        const uint64_t *a = image_addr(im, im->dyn[DT_FINI_ARRAY]);
        for (size_t i = im->dyn[DT_FINI_ARRAYSZ] / sizeof *a; i-- > 0;)
            if (a[i] != 0 && a[i] != UINT64_MAX)
                ((fini_fn)(uintptr_t)a[i])();
    }
    if (dyn_has(im, DT_FINI))
        ((fini_fn)image_addr(im, im->dyn[DT_FINI]))();
}

static void run_finalizers(void)
{
    for (struct image *im = fini_head; im; im = im->fini_next)
        fini_one(im);
    fini_head = NULL;
}

static void visit(struct image *im, unsigned mark, struct diag *d)
{
    if (!im || im->is_host || im->visit == mark || im->state != IMG_RELOCATED)
        return;
    im->visit = mark;
    for (size_t i = 0; i < im->nneeded; i++)
        visit(im->needed[i], mark, d);
    init_one(im, d);
}

void init_run(struct load *ld)
{
    static bool registered;
    if (!registered)
        registered = atexit(run_finalizers) == 0;
    visit(ld->images[0], registry_new_mark(), ld->d);
    for (size_t i = 0; i < ld->nimages; i++)         /* not reachable from the root: still once */
        visit(ld->images[i], registry_new_mark(), ld->d);
}
