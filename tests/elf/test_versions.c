/*
 * test_versions.c — symbol versions (fixtures/deps/, built by the issue-5 section of mk/tests.mk):
 * plugin_lookup_version as dlvsym on a versioned fixture and on libc; glibc's rules for default,
 * hidden and VER_NDX_GLOBAL definitions; DT_VERNEED checks, VER_FLG_WEAK, and a dependency
 * without DT_VERDEF.
 *
 * The expected answers for libver.so are glibc's, measured with dlsym/dlvsym on glibc 2.36:
 *   ver_foo -> 2, ver_foo@V1 -> 1, ver_foo@V2 -> 2, ver_foo@V3 -> none,
 *   ver_hidden -> none, ver_hidden@V1 -> 3, ver_plain@V1 -> 4,
 *   ver_global -> 5, ver_global@V1 -> none, ver_global@libver.so (the base version) -> none.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <gnu/libc-version.h>

#include <dlfcn.h>
#include <elf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPS FIXTURE_DIR "/deps"

static int call_version(plugin *p, const char *name, const char *version)
{
    plugin_error err;
    int (*f)(void) = (int (*)(void))plugin_lookup_version(p, name, version, &err);
    if (!f) {
        cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s@%s: %s", name, version ? version : "(null)", err.message);
        cr_assert(strstr(err.message, name), "%s", err.message);
        return -1;
    }
    cr_assert_eq(err.code, PLUGIN_OK);
    return f();
}

Test(versions, fixture_has_the_versions)
{
    int bind;
    cr_assert(file_find_symbol(fixture("deps/libver.so"), "ver_foo", 1, &bind, NULL, NULL));
    uint64_t n;
    cr_assert(file_dyn_tag(fixture("deps/libver.so"), DT_VERDEFNUM, &n));
    cr_assert_eq(n, 3, "base, V1, V2: %llu", (unsigned long long)n);
}

Test(versions, lookup_version_is_dlvsym)
{
    plugin *p = open_fixture("deps/libver.so");
    struct { const char *name, *version; int want; } q[] = {
        { "ver_foo", NULL, 2 },        { "ver_foo", "V1", 1 },        { "ver_foo", "V2", 2 },
        { "ver_foo", "V3", -1 },       { "ver_hidden", NULL, -1 },    { "ver_hidden", "V1", 3 },
        { "ver_hidden", "V2", -1 },    { "ver_plain", "V1", 4 },      { "ver_plain", "V2", -1 },
        { "ver_global", NULL, 5 },     { "ver_global", "V1", -1 },    { "ver_global", "libver.so", -1 },
        { "ver_nothing", "V1", -1 },   { "ver_foo", "", -1 },
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        int got = call_version(p, q[i].name, q[i].version);
        cr_assert_eq(got, q[i].want, "%s@%s: got %d, glibc gives %d", q[i].name, q[i].version ? q[i].version : "(null)",
                     got, q[i].want);
    }
    /* The unversioned lookup is plugin_lookup's. */
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "ver_hidden", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert_eq(plugin_lookup(p, "ver_foo", NULL), plugin_lookup_version(p, "ver_foo", "V2", NULL));
    cr_assert_null(plugin_lookup_version(NULL, "ver_foo", "V1", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert_null(plugin_lookup_version(p, NULL, "V1", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
}

/* libc: plugin_lookup_version gives what dlvsym gives, for the default and the old versions. */
Test(versions, libc_versions_match_dlvsym)
{
    Dl_info info;
    /* libc's file: through a function no sanitizer intercepts (under ASan, &glob is libasan's). */
    cr_assert(dladdr((void *)&gnu_get_libc_version, &info) && info.dli_fname, "dladdr(gnu_get_libc_version)");
    plugin_error err;
    plugin *libc = plugin_open(info.dli_fname, &err);
    cr_assert_not_null(libc, "%s: %s", info.dli_fname, err.message);
    /* The oracle asks libc itself (RTLD_DEFAULT would find a sanitizer's interceptors first). */
    void *h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    cr_assert_not_null(h, "dlopen(%s, RTLD_NOLOAD)", info.dli_fname);

    void *glob_new = plugin_lookup_version(libc, "glob", "GLIBC_2.27", &err);
    cr_assert_not_null(glob_new, "%s", err.message);
    void *glob_old = plugin_lookup_version(libc, "glob", GLIBC_BASE, &err);
    cr_assert_not_null(glob_old, "%s", err.message);
    cr_assert_neq(glob_new, glob_old, "glob@GLIBC_2.27 and glob@" GLIBC_BASE " are different functions");
    cr_assert_eq(glob_new, dlvsym(h, "glob", "GLIBC_2.27"));
    cr_assert_eq(glob_old, dlvsym(h, "glob", GLIBC_BASE));
    cr_assert_eq(glob_new, plugin_lookup(libc, "glob", NULL));

    void *memcpy_new = plugin_lookup_version(libc, "memcpy", GLIBC_MEMCPY, &err);
    cr_assert_not_null(memcpy_new, "%s", err.message);
    cr_assert_eq(memcpy_new, dlvsym(h, "memcpy", GLIBC_MEMCPY));   /* IFUNC resolved */
    cr_assert_eq(memcpy_new, plugin_lookup(libc, "memcpy", NULL));
#if defined(__x86_64__)
    void *memcpy_old = plugin_lookup_version(libc, "memcpy", "GLIBC_2.2.5", &err);
    cr_assert_not_null(memcpy_old, "%s", err.message);
    cr_assert_neq(memcpy_old, memcpy_new);
    cr_assert_eq(memcpy_old, dlvsym(h, "memcpy", "GLIBC_2.2.5"));
#else
    cr_assert_null(plugin_lookup_version(libc, "memcpy", "GLIBC_2.2.5", &err), "aarch64 has one memcpy");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
#endif
    cr_assert_null(plugin_lookup_version(libc, "memcpy", "GLIBC_9.99", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "memcpy@GLIBC_9.99"), "%s", err.message);
    dlclose(h);
}

/* Objects without symbol versions: any version matches the name (glibc's check_match accepts an
 * unversioned definition for a versioned request when the object has no DT_VERSYM). */
Test(versions, unversioned_object_matches_any_version)
{
    plugin *p = open_fixture("basic.so");
    uint64_t v;
    if (file_dyn_tag(fixture("basic.so"), DT_VERSYM, &v))
        cr_skip_test("basic.so has DT_VERSYM");
    void *plain = plugin_lookup(p, "F", NULL);
    cr_assert_not_null(plain);
    cr_assert_eq(plugin_lookup_version(p, "F", "ANY_1", NULL), plain);
}

#if defined(__x86_64__)
#define MACHO_FIX "macho/fix.x86_64.bundle"
#else
#define MACHO_FIX "macho/fix.arm64.bundle"
#endif

/* What fixtures/macho's fix.c imports from its host (see tests/macho/test_macho.c). */
static int mh_add(int a, int b) { return a + b; }
static int mh_array[128];
static char mh_far[16];

static void *mh_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    return !strcmp(name, "mh_host_add") ? (void *)mh_add : !strcmp(name, "mh_host_array") ? (void *)mh_array
           : !strcmp(name, "mh_host_far") ? (void *)mh_far : NULL;
}

Test(versions, macho_has_no_versions)
{
    const struct plugin_options o = { .resolve = mh_resolve };
    plugin_error err;
    plugin *p = plugin_open_with(fixture(MACHO_FIX), &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    void *plain = must_lookup(p, "fix_value");
    cr_assert_eq(plugin_lookup_version(p, "fix_value", NULL, &err), plain);
    cr_assert_eq(err.code, PLUGIN_OK);
    cr_assert_eq(plugin_lookup_version(p, "fix_value", "", &err), plain);
    cr_assert_null(plugin_lookup_version(p, "fix_value", "V1", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
}

/* ---- DT_VERNEED: vuser.so needs prov_old@VPROV_1 and prov_new@VPROV_2 from libvprov.so ---- */

static plugin *open_vuser(const char *user, const char *provider_dir, plugin_error *err)
{
    const char *const paths[] = { provider_dir, NULL };
    struct plugin_options o = { .search_paths = paths, .flags = PLUGIN_NO_LD_LIBRARY_PATH };
    return plugin_open_with(user, &o, err);
}

Test(versions, required_versions_present)
{
    plugin_error err;
    plugin *p = open_vuser(fixture("deps/vuser.so"), DEPS "/vnew", &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "vuse"))(), 75);
}

Test(versions, missing_required_version_is_a_dependency_error)
{
    plugin_error err;
    cr_assert_null(open_vuser(fixture("deps/vuser.so"), DEPS "/vold", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
    cr_assert(strstr(err.message, "VPROV_2"), "%s", err.message);
    cr_assert(strstr(err.message, "libvprov.so"), "%s", err.message);
    /* A weak reference alone does not make the version requirement weak (GNU ld leaves
     * vna_flags 0): still refused, as glibc refuses it. */
    cr_assert_null(open_vuser(fixture("deps/vuser_weak.so"), DEPS "/vold", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "%s", err.message);
}

/* A provider without DT_VERDEF satisfies every requirement (glibc: "no version information
 * available", a warning), and its unversioned definitions match the versioned references. */
Test(versions, provider_without_verdef_loads)
{
    uint64_t v;
    cr_assert(!file_dyn_tag(DEPS "/vnone/libvprov.so", DT_VERDEF, &v));
    cr_assert(file_dyn_tag(DEPS "/vnone/libvprov.so", DT_VERSYM, &v), "vnone should have DT_VERSYM (libc references)");
    plugin_error err;
    plugin *p = open_vuser(fixture("deps/vuser.so"), DEPS "/vnone", &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "vuse"))(), 75);
}

/* Set VER_FLG_WEAK on the requirement of `version` in the file's .gnu.version_r. */
static void make_requirement_weak(uint8_t *f, size_t size, const char *version)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    cr_assert_geq(size, sizeof *eh);
    cr_assert_leq(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size);
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
    int done = 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_GNU_verneed)
            continue;
        cr_assert_lt(sh[i].sh_link, eh->e_shnum);
        const char *str = (const char *)f + sh[sh[i].sh_link].sh_offset;
        uint64_t off = sh[i].sh_offset;
        for (;;) {
            Elf64_Verneed *vn = (Elf64_Verneed *)(f + off);
            uint64_t aoff = off + vn->vn_aux;
            for (unsigned j = 0; j < vn->vn_cnt; j++) {
                Elf64_Vernaux *a = (Elf64_Vernaux *)(f + aoff);
                if (strcmp(str + a->vna_name, version) == 0) {
                    a->vna_flags |= VER_FLG_WEAK;
                    done++;
                }
                aoff += a->vna_next;
            }
            if (!vn->vn_next)
                break;
            off += vn->vn_next;
        }
    }
    cr_assert_eq(done, 1, "requirement %s not found", version);
}

Test(versions, weak_version_requirement_may_be_missing)
{
    size_t size;
    uint8_t *f = (uint8_t *)read_file(fixture("deps/vuser_weak.so"), &size);
    make_requirement_weak(f, size, "VPROV_2");
    char *dir = make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/vuser_weak.so", dir);
    write_file(path, f, size);

    plugin_error err;
    plugin *p = open_vuser(path, DEPS "/vold", &err);
    cr_assert_not_null(p, "%s", err.message);
    /* prov_new@VPROV_2 is not there: the weak reference is 0, so vuse() = prov_old() + 1000. */
    cr_assert_eq(((int (*)(void))must_lookup(p, "vuse"))(), 1005);
    free(f);
    free(dir);
}

/* The same weak requirement with a provider that has the version: the symbol binds. */
Test(versions, weak_version_requirement_binds_when_present)
{
    size_t size;
    uint8_t *f = (uint8_t *)read_file(fixture("deps/vuser_weak.so"), &size);
    make_requirement_weak(f, size, "VPROV_2");
    char *dir = make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/vuser_weak.so", dir);
    write_file(path, f, size);
    plugin_error err;
    plugin *p = open_vuser(path, DEPS "/vnew", &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "vuse"))(), 75);
    free(f);
    free(dir);
}
