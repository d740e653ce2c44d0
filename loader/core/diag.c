/*
 * diag.c — errors.
 *
 * Every failure in the loader ends in diag_fail, which writes one line naming the file, the
 * cause and the offending value into the caller's plugin_error (if it gave one). Nothing is
 * printed here; trace events (and PLUGIN_DEBUG, the only output the library makes on its own)
 * are trace.c's.
 */
#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vfill(struct diag *d, enum plugin_errc code, const char *prefix,
                  const char *fmt, va_list ap)
{
    if (!d->err)
        return;
    d->err->code = code;
    size_t n = 0;
    if (prefix)
        n = (size_t)snprintf(d->err->message, sizeof d->err->message, "%s", prefix);
    if (n < sizeof d->err->message)
        vsnprintf(d->err->message + n, sizeof d->err->message - n, fmt, ap);
}

int diag_fail(struct diag *d, enum plugin_errc code, const char *file, const char *fmt, ...)
{
    if (!d->err)
        return -1;                  /* nobody asked why: no formatting */
    char prefix[300];
    snprintf(prefix, sizeof prefix, "plugin: %s: ", file ? file : "(unnamed)");
    va_list ap;
    va_start(ap, fmt);
    vfill(d, code, prefix, fmt, ap);
    va_end(ap);
    return -1;
}

int diag_fail_raw(struct diag *d, enum plugin_errc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfill(d, code, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

void diag_ok(struct diag *d)
{
    if (d->err) {
        d->err->code = PLUGIN_OK;
        d->err->message[0] = '\0';
    }
}
