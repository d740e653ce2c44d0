/*
 * image.c — questions about one image's address space, for every format: does a range lie in
 * one of its segments (as a table, as a place to write, ...), where is a vaddr, what is it called.
 *
 * An image is either mapped (memory = bias + vaddr) or only described from its file (file_view:
 * plugin info / plugin symbols), in which case a vaddr inside a segment's file data is read from
 * the file's byte at segment offset + (vaddr - segment vaddr). The range checks are the same
 * either way, so a reader validates a described file exactly as it validates a mapped one.
 */
#include "core/internal.h"

bool image_range_ok(const struct image *im, uint64_t vaddr, uint64_t len, enum range_need need)
{
    uint64_t end;
    if (!add_ok(vaddr, len, &end))
        return false;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        uint64_t size = need == RANGE_READ || need == RANGE_TABLE ? sg->filesz : sg->memsz;
        if (vaddr < sg->vaddr || end > sg->vaddr + size)
            continue;
        switch (need) {
        case RANGE_MAPPED: return true;
        case RANGE_READ:   return (sg->flags & SEG_R) != 0;
        case RANGE_TABLE:  return (sg->flags & SEG_R) && (im->is_host || !(sg->flags & SEG_W));
        case RANGE_WRITE:  return (sg->flags & SEG_W) != 0 && !im->file_view;
        }
    }
    return false;
}

void *image_file_addr(const struct image *im, uint64_t vaddr)
{
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if (vaddr >= sg->vaddr && vaddr - sg->vaddr < sg->filesz)
            return (void *)(uintptr_t)(im->file_view + sg->offset + (vaddr - sg->vaddr));
    }
    return NULL;                                /* not reached after a range check */
}

const char *image_name(const struct image *im)
{
    return im->path && im->path[0] ? im->path : "the main program";
}
