/*
 * source.c — where an object's bytes come from: an open file descriptor or a caller's memory
 * buffer. Both give a size, so every read is range-checked against it in one place.
 */
#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int source_open_file(struct source *s, const char *path, struct diag *d)
{
    memset(s, 0, sizeof *s);
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

void source_open_memory(struct source *s, const void *image, size_t size, const char *name)
{
    memset(s, 0, sizeof *s);
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
