/*
 * host_exports.c — the exports a host registers (plugin_register_exports, PLUGIN_EXPORTS in
 * plugin.h): names and addresses that the plugins' imports bind to, right after the resolve
 * callback (core/resolve.c).
 *
 * What they are for: a -static executable has no dynamic symbol table, and a stripped one has no
 * symbol table at all, so nothing tells the loader where its printf or its own functions are;
 * the host names them. A dynamic host may register exports too (they then come before the global
 * scope, as the callback does).
 *
 * Each call is checked whole before anything is kept: every entry has a name and an address,
 * and a name registered twice (in the table or before) has one address. The names are copied
 * (one block per call), so the caller's table may go away. Kept for the life of the process, in
 * one hash table (core/symmap.h), under the load lock.
 */
#include "core/format.h"
#include "core/symmap.h"

#include <stdlib.h>
#include <string.h>

static struct symmap exports;

/* The table is usable: every entry named and with an address, one address per name. */
static int check_table(const struct plugin_export *table, size_t n, size_t *names_size, struct diag *d)
{
    *names_size = 0;
    if (!table && n)
        return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: plugin_register_exports: a NULL table of %zu entries", n);
    for (size_t i = 0; i < n; i++) {
        const struct plugin_export *e = &table[i];
        if (!e->name || !e->name[0] || !e->addr)
            return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: plugin_register_exports: entry %zu (%s) has %s", i,
                                 e->name ? e->name : "no name", e->name && e->name[0] ? "a NULL address" : "no name");
        const struct symmap_entry *old = symmap_get(&exports, e->name);
        for (size_t j = 0; j < i && !old; j++)
            if (strcmp(table[j].name, e->name) == 0 && table[j].addr != e->addr)
                return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: plugin_register_exports: %s is in the table "
                                     "twice, with two addresses (entries %zu and %zu)", e->name, j, i);
        if (old && old->value != (uint64_t)(uintptr_t)e->addr)
            return diag_fail_raw(d, PLUGIN_ERR_FORMAT, "plugin: plugin_register_exports: %s is already registered "
                                 "at %p, not %p", e->name, (void *)(uintptr_t)old->value, e->addr);
        size_t len = strlen(e->name) + 1;
        if (len > SIZE_MAX - *names_size)
            return diag_fail_raw(d, PLUGIN_ERR_NOMEM, "plugin: plugin_register_exports: the names are too long");
        *names_size += len;
    }
    return 0;
}

/* Copy the names into one block and enter every entry (room reserved first: nothing can fail
 * half-way). */
static int add_table(const struct plugin_export *table, size_t n, size_t names_size, struct diag *d)
{
    char *names = malloc(names_size ? names_size : 1);
    if (!names || symmap_reserve(&exports, n)) {
        free(names);
        return diag_fail_raw(d, PLUGIN_ERR_NOMEM, "plugin: plugin_register_exports: out of memory (%zu entries)", n);
    }
    bool used = false;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(table[i].name) + 1;
        memcpy(names, table[i].name, len);
        bool added;
        symmap_put(&exports, names, (uint64_t)(uintptr_t)table[i].addr, 0, &added);
        used |= added;
        names += len;
    }
    if (!used)
        free(names - names_size);           /* every name was there already: keep nothing */
    return 0;
}

PLUGIN_API int plugin_register_exports(const struct plugin_export *table, size_t n, plugin_error *err)
{
    plugin_error mine = { PLUGIN_OK, "" };
    struct diag d = { .err = &mine };
    size_t names_size;
    load_lock();
    int rc = check_table(table, n, &names_size, &d) || add_table(table, n, names_size, &d) ? -1 : 0;
    load_unlock();
    if (err)
        *err = mine;
    return rc;
}

bool host_exports_find(const char *name, uint64_t *addr)
{
    const struct symmap_entry *e = exports.count ? symmap_get(&exports, name) : NULL;
    if (e)
        *addr = e->value;
    return e != NULL;
}
