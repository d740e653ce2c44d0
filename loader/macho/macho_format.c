/*
 * macho_format.c — the Mach-O front end as the core sees it: its table of operations
 * (core/format.h). Each operation is one of the Mach-O files' steps: macho_header.c and
 * macho_load.c read and decode, macho_load.c finds dependencies (@rpath, @loader_path) and runs
 * initializers and finalizers, macho_fixups.c binds, macho_find.c / macho_addr.c answer lookups.
 *
 * Mach-O images are not searched by other objects' references (find is NULL): ELF objects never
 * bind to them, and Mach-O binds go to other Mach-O images or to the host themselves.
 */
#include "core/debug.h"
#include "macho/macho.h"

#include <stdlib.h>

static int op_load_deps(struct load *ld, size_t idx)
{
    return macho_load_deps(ld, idx);
}

static int op_bind(struct load *ld, struct image *im, void **state)
{
    (void)state;
    return macho_apply_fixups(ld, im);
}

/* Mach-O has no symbol versions: "" is plugin_lookup too, any other version NOT_FOUND. */
static void *op_lookup(const struct image *im, const char *name, const char *version, struct diag *d)
{
    if (version && version[0]) {
        diag_fail_raw(d, PLUGIN_ERR_NOT_FOUND, "plugin: symbol \"%s@%s\" not found in plugin \"%s\": "
                      "Mach-O symbols have no versions", name, version, image_name(im));
        return NULL;
    }
    return macho_lookup(im, name, d);
}

static void op_release(struct image *im)
{
    struct macho *m = macho_of(im);
    if (!m)
        return;
    macho_tlv_forget(im);
    free(m->inits);
    free(m->terms);
    macho_free(m);
    free(m);
    im->fmt_data = NULL;
}

const struct format macho_format = {
    .name = "Mach-O",
    .debug_kind = PLUGIN_DEBUG_MACHO,
    .recognize = macho_sniff,
    .read = macho_read_image,
    .decode = macho_decode,
    .load_deps = op_load_deps,
    .bind = op_bind,
    .run_init = macho_run_init,
    .run_fini = macho_run_fini,
    .lookup = op_lookup,
    .nearest = macho_nearest,
    .release = op_release,
};
