/*
 * test_lookup.c — opening a plugin and finding its exports (fixtures/basic.c, weak.c, undef.c).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <elf.h>
#include <string.h>

/* The Go example: write the variable through its address, call the function that reads it. */
Test(lookup, go_style_variable_and_function)
{
    plugin *p = open_fixture("basic.so");
    int *v = must_lookup(p, "V");
    int (*f)(void) = (int (*)(void))must_lookup(p, "F");
    int *counter = must_lookup(p, "Counter");
    long (*add)(long, long) = (long (*)(long, long))must_lookup(p, "add");

    cr_assert_eq(*v, 1, "V's initial value (from .data) is %d", *v);
    cr_assert_eq(*counter, 0, ".bss not zero: %d", *counter);
    *v = 7;
    int got = f();
    cr_assert_eq(got, 73, "F saw V=7 and returned %d", got);
    *v = -2;
    cr_assert_eq(f(), -17);
    cr_assert_eq(*counter, 2, "F updated Counter %d times, want 2", *counter);
    cr_assert_eq(add(40, 2), 42);
    cr_assert_eq(add(-1099511627776L, 5), -1099511627771L);

    /* err may be NULL; the address is the same every time. */
    cr_assert_eq(plugin_lookup(p, "V", NULL), (void *)v);
    cr_assert_eq(plugin_lookup(p, "F", NULL), (void *)f);

    /* The variable lives in a writable, non-executable mapping, the function in an executable,
     * non-writable one. */
    char perms[5];
    cr_assert_eq(maps_perms_of(v, perms), 0);
    cr_assert(perms[0] == 'r' && perms[1] == 'w' && perms[2] != 'x', "V in %s", perms);
    cr_assert_eq(maps_perms_of((void *)f, perms), 0);
    cr_assert(perms[2] == 'x' && perms[1] != 'w', "F in %s", perms);

    const char *path = plugin_path(p);
    cr_assert_not_null(path);
    cr_assert_not_null(strstr(path, "basic.so"), "plugin_path: %s", path);
}

/* Hidden and local symbols exist in the file (.symtab; the linker turns hidden definitions
 * into locals) but not in .dynsym, and are not exports. */
Test(lookup, hidden_and_local_not_returned)
{
    const char *path = fixture("basic.so");
    const char *names[] = { "hidden_fn", "static_fn", "static_var" };
    for (size_t i = 0; i < 3; i++) {
        int bind;
        cr_assert(file_find_symbol(path, names[i], 0, &bind, NULL, NULL), "fixture lost %s",
                  names[i]);
        cr_assert_eq(bind, STB_LOCAL, "%s", names[i]);
        cr_assert_not(file_find_symbol(path, names[i], 1, NULL, NULL, NULL));
    }

    plugin *p = open_fixture("basic.so");
    int (*uses)(void) = (int (*)(void))must_lookup(p, "uses_private");
    cr_assert_eq(uses(), 99 + 5);       /* they are there and work */

    for (size_t i = 0; i < 3; i++) {
        plugin_error err;
        cr_assert_null(plugin_lookup(p, names[i], &err), "%s was returned", names[i]);
        cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s: code %d", names[i], err.code);
        cr_assert_not_null(strstr(err.message, names[i]), "message: %s", err.message);
    }
}

/* The same checks when the symbols ARE in the dynamic symbol table: a copy of basic.so whose
 * .dynsym entry for "add" is made hidden and the one for "uses_private" local. The loader must
 * look at visibility and binding, not only at the table. */
static void patch_dynsym(char *buf, size_t size, const char *name, int bind, int vis)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    cr_assert_leq(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size);
    Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        Elf64_Sym *sym = (Elf64_Sym *)(buf + sh[i].sh_offset);
        const char *str = buf + sh[sh[i].sh_link].sh_offset;
        for (size_t k = 1; k < sh[i].sh_size / sizeof *sym; k++) {
            if (strcmp(str + sym[k].st_name, name) == 0) {
                sym[k].st_info = ELF64_ST_INFO(bind, ELF64_ST_TYPE(sym[k].st_info));
                sym[k].st_other = (unsigned char)vis;
                return;
            }
        }
    }
    cr_assert_fail("%s not in .dynsym", name);
}

Test(lookup, hidden_and_local_dynsym_entries_not_returned)
{
    size_t size;
    char *image = read_file(fixture("basic.so"), &size);
    patch_dynsym(image, size, "add", STB_GLOBAL, STV_HIDDEN);
    patch_dynsym(image, size, "uses_private", STB_LOCAL, STV_DEFAULT);
    plugin_error err;
    plugin *p = plugin_open_memory(image, size, "basic-patched.so", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_not_null(plugin_lookup(p, "F", &err), "control: %s", err.message);
    cr_assert_null(plugin_lookup(p, "add", &err), "a hidden .dynsym entry was returned");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert_null(plugin_lookup(p, "uses_private", &err), "a local .dynsym entry was returned");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
}

Test(lookup, missing_symbol_not_found)
{
    const char *path = fixture("basic.so");
    plugin *p = open_fixture("basic.so");
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "NoSuchSymbol", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert_not_null(strstr(err.message, "NoSuchSymbol"), "message: %s", err.message);
    cr_assert_not_null(strstr(err.message, path), "message does not name %s: %s", path,
                       err.message);
    cr_assert_null(plugin_lookup(p, "NoSuchSymbol", NULL));
    cr_assert_null(plugin_lookup(p, "", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert_null(plugin_lookup(p, "V2", &err), "prefix/suffix confusion");
    cr_assert_null(plugin_lookup(p, "v", &err), "case confusion");

    /* A success after a failure clears the error. */
    cr_assert_not_null(plugin_lookup(p, "V", &err));
    cr_assert_eq(err.code, PLUGIN_OK);
    cr_assert_str_empty(err.message);
}

/* Undefined symbols of the object (its imports) are not its exports. */
Test(lookup, imports_are_not_exports)
{
    unsigned shndx;
    cr_assert(file_find_symbol(fixture("libc_user.so"), "strlen", 1, NULL, NULL, &shndx));
    cr_assert_eq(shndx, SHN_UNDEF);
    plugin *p = open_fixture("libc_user.so");
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "strlen", &err), "an import was returned");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
}

Test(lookup, weak_undefined_is_null)
{
    const char *path = fixture("weak.so");
    int bind;
    unsigned shndx;
    cr_assert(file_find_symbol(path, "plugin_test_absent_weak_fn", 1, &bind, NULL, &shndx));
    cr_assert(bind == STB_WEAK && shndx == SHN_UNDEF, "fixture: not a weak undefined symbol");
    cr_assert(file_find_symbol(path, "plugin_test_absent_weak_var", 1, &bind, NULL, &shndx));
    cr_assert(bind == STB_WEAK && shndx == SHN_UNDEF);

    plugin *p = open_fixture("weak.so");
    void *(*fn)(void) = (void *(*)(void))must_lookup(p, "weak_fn_address");
    void *(*var)(void) = (void *(*)(void))must_lookup(p, "weak_var_address");
    int (*call)(void) = (int (*)(void))must_lookup(p, "call_if_present");
    cr_assert_null(fn());
    cr_assert_null(var());
    cr_assert_eq(call(), -1);
}

Test(lookup, unresolved_strong_symbol_fails)
{
    const char *path = fixture("undef.so");
    unsigned shndx;
    int bind;
    cr_assert(file_find_symbol(path, "plugin_test_absent_strong", 1, &bind, NULL, &shndx));
    cr_assert(bind == STB_GLOBAL && shndx == SHN_UNDEF);

    for (int round = 0; round < 2; round++) {       /* the second open retries from scratch */
        plugin_error err;
        cr_assert_null(plugin_open(path, &err), "round %d: loaded with an unresolved symbol", round);
        cr_assert_eq(err.code, PLUGIN_ERR_UNDEFINED, "round %d: code %d: %s", round, err.code,
                     err.message);
        cr_assert_not_null(strstr(err.message, "plugin_test_absent_strong"), "message: %s",
                           err.message);
        cr_assert_not_null(strstr(err.message, "undef.so"), "message: %s", err.message);
    }
    cr_assert_null(plugin_open(path, NULL));
}

/* The resolve callback supplies what the process lacks; it is asked with the reference's
 * version (none here). After that the plugin is loaded, and a plain open returns it. */
static int absent_impl(int x) { return x * 100; }

struct seen {
    int asked;
    int version_was_null;
};

static void *resolve_absent(void *ctx, const char *name, const char *version)
{
    struct seen *s = ctx;
    if (strcmp(name, "plugin_test_absent_strong") == 0) {
        s->asked++;
        s->version_was_null = version == NULL;
        return (void *)absent_impl;
    }
    return NULL;
}

Test(lookup, resolve_supplies_missing_symbol)
{
    const char *path = fixture("undef.so");
    cr_assert_null(plugin_open(path, NULL));          /* first a failure, which must not stick */

    struct seen seen = { 0, 0 };
    struct plugin_options opts = { .resolve = resolve_absent, .resolve_ctx = &seen };
    plugin_error err;
    plugin *p = plugin_open_with(path, &opts, &err);
    cr_assert_not_null(p, "code %d: %s", err.code, err.message);
    cr_assert_geq(seen.asked, 1);
    cr_assert(seen.version_was_null, "an unversioned reference was given a version");
    int (*call)(int) = (int (*)(int))must_lookup(p, "call_absent");
    cr_assert_eq(call(3), 301);
    cr_assert_eq(*(int *)must_lookup(p, "undef_initialized"), 1);
    cr_assert_eq(plugin_open(path, &err), p, "loaded, but a plain open does not return it");
}
