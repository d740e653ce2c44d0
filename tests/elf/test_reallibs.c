/*
 * test_reallibs.c — libraries a Debian system ships, opened with plugin_open by their full
 * multiarch path (dependencies loaded or reused as ld.so would) and used through their real
 * functions found with plugin_lookup (issue 5, acceptance). libstdc++ is covered by test_cxx.c.
 *
 * Which path a test exercises depends on the process: plugin_open of a file the system loader
 * already mapped returns a handle over that object (correct: nothing is loaded twice). The test
 * binary links libelf, which needs libz, and Criterion brings libcrypto (libssh2) — in the x86-64
 * lane both are already here; in the aarch64 lane Criterion's copies come from the private
 * sysroot (other files), so the multiarch ones are really loaded by us. Each test says which it
 * saw, and the libz test always also loads a copy of the file (another inode), which the loader
 * must map, relocate and initialize itself.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIBDIR "/usr/lib/" NATIVE_MULTIARCH "/"

/* The file (symlinks resolved) is mapped in this process: /proc/self/maps names it. */
static int mapped_in_process(const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return 0;
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[PATH_MAX + 128];
    int hit = 0;
    while (!hit && fgets(line, sizeof line, f)) {
        char *name = strchr(line, '/');
        if (name) {
            name[strcspn(name, "\n")] = '\0';
            hit = strcmp(name, real) == 0;
        }
    }
    fclose(f);
    return hit;
}

/* The path of the mapping that contains addr ("" when none has one), into out[PATH_MAX]. */
static void mapping_path_of(const void *addr, char *out)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[PATH_MAX + 128];
    out[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || (uintptr_t)addr < lo || (uintptr_t)addr >= hi)
            continue;
        char *name = strchr(line, '/');
        if (name) {
            name[strcspn(name, "\n")] = '\0';
            snprintf(out, PATH_MAX, "%s", name);
        }
        break;
    }
    fclose(f);
}

static plugin *open_real(const char *path)
{
    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "%s: %s", path, err.message);
    return p;
}

/* ---- zlib ---- */

typedef unsigned long (*compress_bound_fn)(unsigned long);
typedef int (*compress2_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long, int);
typedef int (*uncompress_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long);

/* compress2 then uncompress 1 MiB with p's functions: the same bytes come back. */
static void zlib_round_trip(plugin *p)
{
    compress_bound_fn bound = (compress_bound_fn)must_lookup(p, "compressBound");
    compress2_fn compress2 = (compress2_fn)must_lookup(p, "compress2");
    uncompress_fn uncompress = (uncompress_fn)must_lookup(p, "uncompress");
    const char *(*version)(void) = (const char *(*)(void))must_lookup(p, "zlibVersion");
    cr_assert_eq(version()[0], '1', "zlibVersion() is \"%s\"", version());

    const unsigned long n = 1ul << 20;
    unsigned char *src = malloc(n), *back = malloc(n);
    uint32_t x = 12345;
    for (unsigned long i = 0; i < n; i++) {             /* text-like runs and noise */
        x = x * 1103515245u + 12345u;
        src[i] = (i / 4096) % 2 ? (unsigned char)(x >> 24) : (unsigned char)("plugin loader "[i % 14]);
    }
    unsigned long zcap = bound(n), zlen = zcap, blen = n;
    cr_assert_gt(zcap, n);
    unsigned char *z = malloc(zcap);
    cr_assert_eq(compress2(z, &zlen, src, n, 6), 0, "compress2 failed");
    cr_assert_lt(zlen, n, "1 MiB of half text did not shrink (%lu bytes)", zlen);
    cr_assert_eq(uncompress(back, &blen, z, zlen), 0, "uncompress failed");
    cr_assert_eq(blen, n);
    cr_assert_eq(memcmp(src, back, n), 0, "uncompressed bytes differ");
    free(src);
    free(back);
    free(z);
}

Test(reallibs, zlib_compress_uncompress_1mib)
{
    const char *path = LIBDIR "libz.so.1";
    /* x86-64 lane: libelf's libz is this file, so the handle is the system loader's object. In
     * the aarch64 lane the process has the sysroot's libz: this open maps the multiarch file. */
    int had = mapped_in_process(path);
    plugin *p = open_real(path);
    cr_assert(mapped_in_process(path), "%s is not mapped after the open", path);
    zlib_round_trip(p);

    /* Always a real load: a copy of the file is another inode, which nothing in the process
     * has. Its own calls between exported functions bind to the first libz in the process,
     * as under ld.so with RTLD_LOCAL; the entry points used here are the copy's. */
    char *dir = make_temp_dir();
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s/libz.so.1", dir);
    size_t size;
    char *bytes = read_file(path, &size);
    write_file(copy, bytes, size);
    free(bytes);
    plugin *c = open_real(copy);
    cr_assert_neq(c, p);
    char where[PATH_MAX];
    mapping_path_of(must_lookup(c, "compress2"), where);
    cr_assert_str_eq(where, copy, "compress2 of the copy lies in \"%s\"", where);
    zlib_round_trip(c);
    if (!had) {                 /* the multiarch file was ours too: compress2 lies in it */
        char real[PATH_MAX];
        cr_assert_not_null(realpath(path, real));
        mapping_path_of(must_lookup(p, "compress2"), where);
        cr_assert_str_eq(where, real);
    }
    free(dir);
}

/* ---- SQLite ---- */

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
#define SQLITE_OK   0
#define SQLITE_ROW  100
#define SQLITE_DONE 101

Test(reallibs, sqlite3_in_memory_create_insert_select)
{
    const char *path = LIBDIR "libsqlite3.so.0";
    cr_assert_not(mapped_in_process(path), "nothing in the test links SQLite: it must be loaded here");
    plugin *p = open_real(path);
    int (*open_db)(const char *, sqlite3 **) = (int (*)(const char *, sqlite3 **))must_lookup(p, "sqlite3_open");
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **) =
        (int (*)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **))must_lookup(
            p, "sqlite3_exec");
    int (*prepare)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **) =
        (int (*)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **))must_lookup(p, "sqlite3_prepare_v2");
    int (*step)(sqlite3_stmt *) = (int (*)(sqlite3_stmt *))must_lookup(p, "sqlite3_step");
    const unsigned char *(*column_text)(sqlite3_stmt *, int) =
        (const unsigned char *(*)(sqlite3_stmt *, int))must_lookup(p, "sqlite3_column_text");
    int (*column_int)(sqlite3_stmt *, int) = (int (*)(sqlite3_stmt *, int))must_lookup(p, "sqlite3_column_int");
    int (*finalize)(sqlite3_stmt *) = (int (*)(sqlite3_stmt *))must_lookup(p, "sqlite3_finalize");
    int (*close_db)(sqlite3 *) = (int (*)(sqlite3 *))must_lookup(p, "sqlite3_close");
    const char *(*errmsg)(sqlite3 *) = (const char *(*)(sqlite3 *))must_lookup(p, "sqlite3_errmsg");
    const char *(*libversion)(void) = (const char *(*)(void))must_lookup(p, "sqlite3_libversion");
    cr_assert_eq(libversion()[0], '3', "sqlite3_libversion() is \"%s\"", libversion());

    sqlite3 *db = NULL;
    cr_assert_eq(open_db(":memory:", &db), SQLITE_OK);
    char *msg = NULL;
    int rc = exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
                      "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (42, 'answer');", NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "exec: %s", msg ? msg : errmsg(db));

    sqlite3_stmt *st = NULL;
    cr_assert_eq(prepare(db, "SELECT v, k * 2, (SELECT count(*) FROM t) FROM t WHERE k = 42", -1, &st, NULL),
                 SQLITE_OK, "prepare: %s", errmsg(db));
    cr_assert_eq(step(st), SQLITE_ROW, "step: %s", errmsg(db));
    cr_assert_str_eq((const char *)column_text(st, 0), "answer");
    cr_assert_eq(column_int(st, 1), 84);
    cr_assert_eq(column_int(st, 2), 3);
    cr_assert_eq(step(st), SQLITE_DONE);
    cr_assert_eq(finalize(st), SQLITE_OK);
    cr_assert_eq(close_db(db), SQLITE_OK);
}

/* ---- OpenSSL's libcrypto ---- */

Test(reallibs, libcrypto_sha256_of_abc)
{
    const char *path = LIBDIR "libcrypto.so.3";
    /* x86-64 lane: Criterion's libssh2 has this file in the process already (the handle is the
     * system loader's object); aarch64 lane: Criterion's copy is the sysroot's, this one is
     * loaded here, its initializers run by us. */
    plugin *p = open_real(path);
    cr_assert(mapped_in_process(path));
    typedef const void *(*md_fn)(void);
    typedef int (*digest_fn)(const void *, size_t, unsigned char *, unsigned int *, const void *, void *);
    typedef unsigned char *(*sha256_fn)(const unsigned char *, size_t, unsigned char *);
    md_fn evp_sha256 = (md_fn)must_lookup(p, "EVP_sha256");
    digest_fn evp_digest = (digest_fn)must_lookup(p, "EVP_Digest");
    sha256_fn sha256 = (sha256_fn)must_lookup(p, "SHA256");

    static const unsigned char want[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    unsigned char md[64];
    unsigned int len = 0;
    cr_assert_eq(evp_digest("abc", 3, md, &len, evp_sha256(), NULL), 1, "EVP_Digest failed");
    cr_assert_eq(len, 32);
    cr_assert_eq(memcmp(md, want, 32), 0, "EVP_Digest(SHA-256, \"abc\") is not the known digest");
    memset(md, 0, sizeof md);
    cr_assert_eq(sha256((const unsigned char *)"abc", 3, md), md);
    cr_assert_eq(memcmp(md, want, 32), 0, "SHA256(\"abc\") is not the known digest");
}
