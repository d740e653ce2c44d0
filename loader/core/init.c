/*
 * init.c — run initializers, and finalizers at exit, in order among objects.
 *
 * Order (glibc's): every dependency before the objects that need it — a depth-first walk of the
 * dependencies from the plugin, emitting an object after its dependencies (a cycle is broken
 * where it closes). Each object is initialized once; what runs inside one object, and in which
 * order, is its front end's (fmt->run_init: ELF DT_INIT then DT_INIT_ARRAY; Mach-O its
 * initializer sections). Like glibc, initializers receive (argc, argv, envp).
 *
 * Finalizers run at process exit (atexit), newest object first (fmt->run_fini).
 */
#include "core/format.h"

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

static void init_one(struct image *im, struct diag *d)
{
    im->state = IMG_INITIALIZING;
    if (im->fmt->run_init)
        im->fmt->run_init(im, saved_argc, saved_argv, environ, d);
    im->state = IMG_READY;
    im->fini_next = fini_head;
    fini_head = im;
}

static void fini_one(struct image *im)
{
    if (im->fmt->run_fini)
        im->fmt->run_fini(im);
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
