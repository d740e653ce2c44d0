/*
 * text_out.c — strings from untrusted files, printed safely to stdout as text or JSON, and the
 * tool's failure reports (stderr, or JSON on stdout under --json).
 */
#include "text_out.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void put_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            printf("\\x%02x", *p);
        else
            putchar(*p);
}

/* Length of the valid UTF-8 sequence that starts with the non-ASCII byte at p, or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;  /* no overlong forms, */
    unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;  /* surrogates or > U+10FFFF */
    if (n == 0 || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void put_json(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p >= 0x80 ? utf8_len(p) : 0;
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p++);
        else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && n == 0))
            printf("\\u%04x", *p++);
        else if (n > 0)
            p += fwrite(p, 1, n, stdout);
        else
            putchar(*p++);
    }
    putchar('"');
}

static bool json_errors;

void out_json_errors(bool on)
{
    json_errors = on;
}

const char *out_code_name(enum plugin_errc code)
{
    switch (code) {
    case PLUGIN_OK:              return "PLUGIN_OK";
    case PLUGIN_ERR_IO:          return "PLUGIN_ERR_IO";
    case PLUGIN_ERR_FORMAT:      return "PLUGIN_ERR_FORMAT";
    case PLUGIN_ERR_ARCH:        return "PLUGIN_ERR_ARCH";
    case PLUGIN_ERR_UNSUPPORTED: return "PLUGIN_ERR_UNSUPPORTED";
    case PLUGIN_ERR_DEPENDENCY:  return "PLUGIN_ERR_DEPENDENCY";
    case PLUGIN_ERR_UNDEFINED:   return "PLUGIN_ERR_UNDEFINED";
    case PLUGIN_ERR_NOT_FOUND:   return "PLUGIN_ERR_NOT_FOUND";
    case PLUGIN_ERR_NOMEM:       return "PLUGIN_ERR_NOMEM";
    case PLUGIN_ERR_POLICY:      return "PLUGIN_ERR_POLICY";
    }
    return "PLUGIN_ERR_UNKNOWN";
}

void out_error(enum plugin_errc code, const char *message)
{
    if (!json_errors) {
        fprintf(stderr, "%s\n", message);
        return;
    }
    printf("{\"error\": {\"code\": \"%s\", \"number\": %d, \"message\": ", out_code_name(code), (int)code);
    put_json(message);
    puts("}}");
}

void out_errorf(enum plugin_errc code, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    out_error(code, line);
}
