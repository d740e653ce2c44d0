/*
 * macho_trie_walk.c — visit every export of a Mach-O export trie (for plugin_addr_info, which
 * needs the nearest export below an address, not one name's).
 *
 * Also for `plugin symbols` (macho_describe.c), which lists them all.
 *
 * Depth-first with an explicit stack; each entry remembers how long the name was at that node,
 * so one name buffer serves the whole walk. The trie was checked first (macho_trie_check: every
 * node reached once, every offset inside), and every read here is bounded again. The buffer holds
 * as many bytes as the trie, enough for any name of a trie whose nodes do not overlap; a longer
 * name (only a hostile trie spells one) is skipped, not truncated.
 */
#include "core/debug.h"
#include "macho/macho.h"

#include <stdlib.h>
#include <string.h>

/* One node reached: where it is, and how its name is spelled (the parent's name + the edge). */
struct walk_node {
    size_t off, parent, namelen;
    const char *edge;
    size_t edgelen;
};

/* Spell node i's name into buf (namelen < bufsize). */
static void spell(const struct walk_node *nodes, size_t i, char *buf)
{
    buf[nodes[i].namelen] = '\0';
    for (; i; i = nodes[i].parent)
        memcpy(buf + nodes[i].namelen - nodes[i].edgelen, nodes[i].edge, nodes[i].edgelen);
}

int macho_trie_walk(const uint8_t *t, size_t size,
                    int (*visit)(void *ctx, const char *name, const struct macho_export *e), void *ctx)
{
    if (!t || !size)
        return 0;
    size_t name_size = size + 1;
    char *name = malloc(name_size);
    /* Each node is reached once (checked at load), and every node takes at least 2 bytes. */
    struct walk_node *nodes = malloc(size * sizeof *nodes);
    size_t *stack = malloc(size * sizeof *stack);
    if (!name || !nodes || !stack) {
        free(name);
        free(nodes);
        free(stack);
        return -1;
    }
    size_t nnodes = 0, depth = 0;
    int rc = 0;
    nodes[nnodes++] = (struct walk_node){ 0, 0, 0, "", 0 };
    stack[depth++] = 0;
    while (depth && !rc) {
        size_t me = stack[--depth], pos;
        struct macho_export e;
        if (!macho_trie_terminal(t, size, nodes[me].off, &e, &pos) || pos >= size) {
            rc = -1;
            break;
        }
        if (e.found) {
            spell(nodes, me, name);
            if ((rc = visit(ctx, name, &e)) != 0)
                break;
        }
        unsigned n = t[pos++];
        for (unsigned i = 0; i < n && !rc; i++) {
            const uint8_t *nul = pos < size ? memchr(t + pos, '\0', size - pos) : NULL;
            uint64_t child;
            if (!nul) {
                rc = -1;
                break;
            }
            const char *edge = (const char *)t + pos;
            size_t el = (size_t)(nul - (t + pos));
            pos += el + 1;
            if (!macho_uleb(t, size, &pos, &child) || child >= size || nnodes >= size) {
                rc = -1;
                break;
            }
            if (nodes[me].namelen + el >= name_size)
                continue;                               /* too long to name: skipped */
            nodes[nnodes] = (struct walk_node){ (size_t)child, me, nodes[me].namelen + el, edge, el };
            stack[depth++] = nnodes++;
        }
    }
    free(name);
    free(nodes);
    free(stack);
    return rc;
}
