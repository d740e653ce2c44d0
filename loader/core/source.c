/*
 * source.c — where an object's bytes come from: an open file descriptor or a caller's memory
 * buffer. Both give a size, so every read is range-checked against it in one place. The first
 * page of a file (its headers: ELF header and program headers, a Mach-O header and its load
 * commands, the magic every front end sniffs) is read once, with one pread, and served from
 * there (glibc's ld.so reads 832 bytes once for the same reason).
 */
#include "core/internal.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int source_open_file(struct source *s, const char *path, struct diag *d)
{
    memset(s, 0, offsetof(struct source, head));   /* the head buffer needs no clearing */
    s->name = path;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return diag_fail(d, PLUGIN_ERR_IO, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        int e = errno;
        source_close(s);
        return diag_fail(d, PLUGIN_ERR_IO, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        source_close(s);
        return diag_fail(d, PLUGIN_ERR_IO, path, "not a regular file");
    }
    s->size = (uint64_t)st.st_size;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return 0;
}

/* len bytes at off from the file itself, looping over short reads. */
static int read_fd(struct source *s, uint64_t off, void *out, size_t len, struct diag *d)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(s->fd, (char *)out + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return diag_fail(d, PLUGIN_ERR_IO, s->name, "read failed at offset 0x%llx: %s",
                             (unsigned long long)(off + done), n < 0 ? strerror(errno) : "end of file");
        done += (size_t)n;
    }
    return 0;
}

const uint8_t *source_head(struct source *s, size_t n, struct diag *d)
{
    if (n > SOURCE_HEAD || n > s->size) {
        diag_fail(d, PLUGIN_ERR_FORMAT, s->name, "read of %zu bytes at offset 0 is past the end of the file (size %llu)",
                  n, (unsigned long long)s->size);
        return NULL;
    }
    if (s->mem)
        return s->mem;
    if (!s->head_len) {
        size_t want = s->size < SOURCE_HEAD ? (size_t)s->size : SOURCE_HEAD;
        if (read_fd(s, 0, s->head, want, d))
            return NULL;
        s->head_len = (uint32_t)want;
    }
    return s->head;
}

void source_open_memory(struct source *s, const void *image, size_t size, const char *name)
{
    memset(s, 0, offsetof(struct source, head));   /* the head buffer needs no clearing */
    s->name = name;
    s->fd = -1;
    s->mem = image;
    s->size = size;
}

void source_close(struct source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

int source_read(struct source *s, uint64_t off, void *out, size_t len, struct diag *d)
{
    if (!range_in(off, len, s->size))
        return diag_fail(d, PLUGIN_ERR_FORMAT, s->name,
                         "read of %zu bytes at offset 0x%llx is past the end of the file (size %llu)",
                         len, (unsigned long long)off, (unsigned long long)s->size);
    if (s->mem) {
        memcpy(out, s->mem + off, len);
        return 0;
    }
    if (off + len <= SOURCE_HEAD) {
        const uint8_t *h = source_head(s, off + len, d);
        if (!h)
            return -1;
        memcpy(out, h + off, len);
        return 0;
    }
    return read_fd(s, off, out, len, d);
}
