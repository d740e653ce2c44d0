/*
 * elf_describe.c — an ELF file described without loading it (plugin info, plugin symbols).
 *
 * The file is mapped read-only once (no copy) and the reader runs over it as it runs over a
 * loaded object: elf_read_headers, then elf_decode_dynamic, with image_addr reading each vaddr
 * from the file byte its segment maps there (core/image.c). Any CPU is accepted; nothing runs,
 * nothing is relocated. What this returns is what the loader would have seen.
 */
#include "elf/elf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void elf_describe_free(struct image *im)
{
    if (!im)
        return;
    if (im->fmt_data)
        elf_object_free(im);
    if (im->file_view && im->map_len)
        munmap((void *)(uintptr_t)im->file_view, im->map_len);
    free(im->segs);
    free(im->path);
    free(im);
}

/* The described image's bytes: the caller's buffer, or a read-only mapping of the whole file
 * (map_len records it). */
static int view_file(struct image *im, struct source *s, struct diag *d)
{
    if (s->size < SELFMAG)
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "too short to be an object file (%llu bytes)",
                         (unsigned long long)s->size);
    if (s->mem) {
        im->file_view = s->mem;
        return 0;
    }
    void *p = mmap(NULL, (size_t)s->size, PROT_READ, MAP_PRIVATE, s->fd, 0);
    if (p == MAP_FAILED)
        return diag_fail(d, PLUGIN_ERR_IO, s->name, "cannot map the file to read it");
    im->file_view = p;
    im->map_len = (size_t)s->size;
    return 0;
}

static struct image *describe(struct source *s, struct diag *d)
{
    struct image *im = calloc(1, sizeof *im);
    if (!im || !(im->path = strdup(s->name))) {
        free(im);
        diag_fail(d, PLUGIN_ERR_NOMEM, s->name, "out of memory");
        return NULL;
    }
    int rc = view_file(im, s, d);
    rc = rc ? rc : elf_read_headers(im, s, ELF_DESCRIBE, d);
    rc = rc ? rc : elf_decode_dynamic(im, ELF_DESCRIBE, d);
    if (rc) {
        elf_describe_free(im);
        return NULL;
    }
    return im;
}

struct image *elf_describe(const char *path, struct diag *d)
{
    struct source s;
    if (source_open_file(&s, path, d))
        return NULL;
    struct image *im = describe(&s, d);
    source_close(&s);
    return im;
}

struct image *elf_describe_memory(const void *data, size_t size, const char *name, struct diag *d)
{
    struct source s;
    source_open_memory(&s, data, size, name);
    return describe(&s, d);
}
