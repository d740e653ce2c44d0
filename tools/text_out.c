/*
 * text_out.c — strings from untrusted files, printed safely to stdout as text or JSON.
 */
#include "text_out.h"

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
