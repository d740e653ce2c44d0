/*
 * macho_exports.c — the export trie (LC_DYLD_EXPORTS_TRIE, or the export part of LC_DYLD_INFO).
 *
 * A trie node is: terminal size (ULEB128); when non-zero, the export's flags and address (or,
 * for a re-export, a dylib ordinal and a name; for a stub-and-resolver, a second address); then a
 * child count and, for each child, an edge label (a C string) and the child's offset (ULEB128).
 * Looking up "_F" follows the edges whose labels spell it.
 *
 * The trie is untrusted: every ULEB128 read is bounded by the trie's size and by 10 bytes, every
 * offset is checked, and at load time the whole trie is walked once with a visited mark per node,
 * so a trie that reaches a node twice (a cycle) is refused before any lookup can loop.
 */
#include "macho/macho.h"

#include <stdlib.h>
#include <string.h>

bool macho_uleb(const uint8_t *p, size_t size, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *pos < size && shift < 64; shift += 7) {
        uint8_t b = p[(*pos)++];
        uint64_t part = (uint64_t)(b & 0x7f);
        if (shift == 63 && part > 1)
            return false;                       /* does not fit 64 bits */
        v |= part << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool macho_sleb(const uint8_t *p, size_t size, size_t *pos, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        if (*pos >= size || shift >= 64)
            return false;
        b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~0ULL << shift;                    /* sign-extend */
    *out = (int64_t)v;
    return true;
}

/* The C string at *pos, inside size; advances past its NUL. */
static const char *cstring(const uint8_t *p, size_t size, size_t *pos)
{
    const uint8_t *nul = *pos < size ? memchr(p + *pos, '\0', size - *pos) : NULL;
    if (!nul)
        return NULL;
    const char *s = (const char *)p + *pos;
    *pos = (size_t)(nul - p) + 1;
    return s;
}

bool macho_trie_terminal(const uint8_t *t, size_t size, size_t off, struct macho_export *e, size_t *children)
{
    size_t pos = off;
    uint64_t tsize;
    memset(e, 0, sizeof *e);
    if (!macho_uleb(t, size, &pos, &tsize) || tsize > size - pos)
        return false;
    *children = pos + tsize;
    if (!tsize)
        return true;
    size_t end = pos + tsize;
    e->found = true;
    if (!macho_uleb(t, end, &pos, &e->flags))
        return false;
    if (e->flags & MACHO_EXPORT_REEXPORT)
        return macho_uleb(t, end, &pos, &e->ordinal) && (e->reexport_name = cstring(t, end, &pos)) != NULL;
    if (!macho_uleb(t, end, &pos, &e->address))
        return false;
    if (e->flags & MACHO_EXPORT_STUB_AND_RESOLVER)
        return macho_uleb(t, end, &pos, &e->resolver);
    return true;
}

/* Walk every node once (explicit stack; a node reached twice is a cycle or a shared subtree). */
int macho_trie_check(const uint8_t *t, size_t size, size_t *nexports, const char *file, struct diag *d)
{
    *nexports = 0;
    if (!size)
        return 0;
    uint8_t *seen = calloc(size, 1);
    size_t *stack = malloc(size * sizeof *stack), depth = 0;
    int rc = 0;
    if (!seen || !stack)
        rc = diag_fail(d, PLUGIN_ERR_NOMEM, file, "out of memory");
    if (!rc)
        stack[depth++] = 0;
    while (!rc && depth) {
        size_t off = stack[--depth], pos;
        struct macho_export e;
        if (seen[off]) {
            rc = diag_fail(d, PLUGIN_ERR_FORMAT, file, "export trie reaches node 0x%zx twice (a cycle)", off);
            break;
        }
        seen[off] = 1;
        if (!macho_trie_terminal(t, size, off, &e, &pos) || pos >= size) {
            rc = diag_fail(d, PLUGIN_ERR_FORMAT, file, "export trie node at 0x%zx is malformed", off);
            break;
        }
        *nexports += e.found;
        unsigned n = t[pos++];
        for (unsigned i = 0; i < n && !rc; i++) {
            uint64_t child;
            const char *edge = cstring(t, size, &pos);
            if (!edge || !edge[0] || !macho_uleb(t, size, &pos, &child) || child >= size || depth >= size)
                rc = diag_fail(d, PLUGIN_ERR_FORMAT, file, "export trie node at 0x%zx has a bad child %u", off, i);
            else
                stack[depth++] = (size_t)child;
        }
    }
    free(seen);
    free(stack);
    return rc;
}

bool macho_trie_find(const uint8_t *t, size_t size, const char *name, struct macho_export *out)
{
    size_t off = 0, len = strlen(name);
    memset(out, 0, sizeof *out);
    for (size_t steps = 0; size && steps <= len + 1; steps++) {
        size_t pos;
        if (!macho_trie_terminal(t, size, off, out, &pos) || pos >= size)
            return false;
        if (!*name)
            return out->found;
        out->found = false;
        unsigned n = t[pos++];
        bool next = false;
        for (unsigned i = 0; i < n && !next; i++) {
            uint64_t child;
            const char *edge = cstring(t, size, &pos);
            if (!edge || !macho_uleb(t, size, &pos, &child) || child >= size)
                return false;
            size_t el = strlen(edge);
            if (el && strncmp(edge, name, el) == 0) {
                name += el;
                off = (size_t)child;
                next = true;
            }
        }
        if (!next)
            return false;
    }
    return false;
}
