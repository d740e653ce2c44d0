/*
 * test_macho_dyld.c — the Mach-O front end answers as dyld does (issue 10), for the lane's CPU
 * (x86_64 natively, arm64 under qemu), with fixtures from fixtures/macho (mk/macho.mk):
 *
 *  - re-exports: a dylib that re-exports another whole (LC_REEXPORT_DYLIB) serves its exports to
 *    plugin_lookup and to the binds of a client linked against it alone; trie entries flagged
 *    EXPORT_SYMBOL_FLAGS_REEXPORT (written here by hand, lld cannot) lead to the dylib of their
 *    ordinal, under the same or another name; a bad ordinal is a FORMAT error;
 *  - weak definitions coalesce to the first image in load order that defines them, a non-weak
 *    definition first, for chained fixups (ordinal -3) and the weak-bind stream; an image of an
 *    earlier open comes first;
 *  - __mod_term_func runs at exit, last first, after the initializers (a child process);
 *  - @executable_path, in LC_LOAD_DYLIB and in LC_RPATH, is the test binary's directory;
 *  - on arm64 the resolve callback may supply a variadic function (an adapter that takes Apple's
 *    convention): its answer stands; x86_64 binds it too;
 *  - messages: an undefined import names the flat namespace or the dylib; an MH_EXECUTE says so;
 *  - exports whose Mach-O names lack the leading underscore are reached by plugin_lookup.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MCPU "x86_64"
#else
#define MCPU "arm64"
#endif

enum { LC_DYLD_EXPORTS_TRIE = 0x80000033, LC_DYLD_INFO_ONLY = 0x80000022, LC_LOAD_DYLIB = 0xc, LC_REEXPORT_DYLIB = 0x8000001f };

/* FIXTURE_DIR/macho/<name>, "%s" in name replaced by the lane's CPU. */
static const char *mfix(const char *fmt)
{
    char name[256], full[300];
    snprintf(name, sizeof name, fmt, MCPU);
    snprintf(full, sizeof full, "macho/%s", name);
    return fixture(full);
}

static plugin *open_ok(const char *path, const struct plugin_options *opts)
{
    plugin_error err;
    plugin *p = plugin_open_with(path, opts, &err);
    cr_assert_not_null(p, "%s: %s", path, err.message);
    return p;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Offset of the first load command cmd of a thin file, or 0. */
static size_t find_cmd(const uint8_t *b, size_t size, uint32_t cmd)
{
    cr_assert_eq(rd32(b), 0xfeedfacfu);
    size_t off = 32;
    for (uint32_t i = 0, n = rd32(b + 16); i < n; i++, off += rd32(b + off + 4)) {
        cr_assert_leq(off + 8, size);
        if (rd32(b + off) == cmd)
            return off;
    }
    return 0;
}

/* Copy fixture src into dir under its own file name; returns the copy's path (malloc'ed). */
static char *copy_into(const char *dir, const char *src, const uint8_t *bytes, size_t size)
{
    size_t n;
    char *own = NULL;
    if (!bytes)
        bytes = (const uint8_t *)(own = read_file(src, &n)), size = n;
    char *path = malloc(strlen(dir) + strlen(src) + 2);
    cr_assert_not_null(path);
    sprintf(path, "%s/%s", dir, strrchr(src, '/') + 1);
    write_file(path, bytes, size);
    free(own);
    return path;
}

static void expect_refused(const char *path, const struct plugin_options *opts, enum plugin_errc code,
                           const char *want)
{
    plugin_error err;
    cr_assert_null(plugin_open_with(path, opts, &err), "%s was loaded", path);
    cr_assert_eq(err.code, code, "code %d (%s): %s", err.code, plugin_strerror(err.code), err.message);
    cr_assert(strstr(err.message, want), "expected \"%s\" in: %s", want, err.message);
}

/* ---- re-exports ------------------------------------------------------------------------------- */

/* What resolve offers for libhost's names: never the right answer (binding must go through the
 * re-exporting dylib). */
static int decoy_value = -1;
static int decoy_twice(int x) { return -x; }
static void *decoy_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    if (!strcmp(name, "libhost_value"))
        return &decoy_value;
    if (!strcmp(name, "libhost_twice"))
        return (void *)decoy_twice;
    return NULL;
}
static const struct plugin_options decoy_opts = { .resolve = decoy_resolve };

/* librxclient binds libhost_twice and libhost_value by librx's ordinal: librx has neither, it
 * re-exports libhost. Before, the lookup stopped at librx and the decoy answered. */
Test(macho_dyld, reexported_dylib_serves_binds_and_lookups)
{
    plugin *client = open_ok(mfix("reexport.%s/librxclient.dylib"), &decoy_opts);
    plugin *rx = open_ok(mfix("reexport.%s/librx.dylib"), NULL);
    plugin *host = open_ok(mfix("reexport.%s/libhost.dylib"), NULL);
    int *value = must_lookup(host, "libhost_value");
    cr_assert_eq(((int (*)(int))must_lookup(client, "rc_call"))(5), 2 * 5 + 5);
    cr_assert_eq(((int *(*)(void))must_lookup(client, "rc_value_addr"))(), value, "bound to the decoy or elsewhere");
    cr_assert_eq(*(int **)must_lookup(client, "rc_value_ptr"), value);
    /* plugin_lookup on the re-exporter finds the re-exported dylib's definitions. */
    cr_assert_eq(must_lookup(rx, "libhost_value"), value);
    cr_assert_eq(must_lookup(rx, "libhost_twice"), must_lookup(host, "libhost_twice"));
    cr_assert_eq(((int (*)(void))must_lookup(rx, "rx_own"))(), 5);
    plugin_error err;
    cr_assert_null(plugin_lookup(rx, "no_such_symbol", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
}

/* A ULEB128 in exactly two bytes (a padded encoding, valid), for offsets known in advance. */
static size_t uleb2(uint8_t *p, unsigned v)
{
    cr_assert_lt(v, 1u << 14);
    p[0] = (uint8_t)(0x80 | (v & 0x7f));
    p[1] = (uint8_t)(v >> 7);
    return 2;
}

static size_t uleb(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        p[n] |= v ? 0x80 : 0;
        n++;
    } while (v);
    return n;
}

struct hand_export {
    const char *name;
    uint64_t flags, value;      /* value: an address, or for a re-export its ordinal */
    const char *import;         /* re-exports: the name in that dylib ("" the same) */
};

/* A trie of one root whose children are the whole names, each a leaf. */
static size_t write_trie(uint8_t *t, const struct hand_export *x, size_t n)
{
    size_t root = 2, leaf_at[8], pos;
    cr_assert_leq(n, 8u);
    for (size_t i = 0; i < n; i++)
        root += strlen(x[i].name) + 1 + 2;
    for (size_t i = 0, at = root; i < n; i++) {             /* each leaf: its size first, then where */
        uint8_t body[128];
        size_t b = uleb(body, x[i].flags);
        if (x[i].import) {
            b += uleb(body + b, x[i].value);
            strcpy((char *)body + b, x[i].import);
            b += strlen(x[i].import) + 1;
        } else {
            b += uleb(body + b, x[i].value);
        }
        leaf_at[i] = at;
        at += uleb(t + at, b);
        memcpy(t + at, body, b);
        at += b;
        t[at++] = 0;                                        /* no children */
        pos = at;
    }
    t[0] = 0;                                               /* the root: not a terminal */
    t[1] = (uint8_t)n;
    for (size_t i = 0, at = 2; i < n; i++) {
        strcpy((char *)t + at, x[i].name);
        at += strlen(x[i].name) + 1;
        at += uleb2(t + at, (unsigned)leaf_at[i]);
    }
    return pos;
}

/* The terminal of name in a trie (flags and address of a regular export). */
static bool trie_lookup(const uint8_t *t, size_t size, const char *name, uint64_t *flags, uint64_t *addr)
{
    size_t off = 0;
    for (;;) {
        size_t pos = off;
        uint64_t tsize = 0;
        for (unsigned sh = 0; t[pos] & 0x80 || (tsize |= (uint64_t)t[pos] << sh, false); sh += 7)
            tsize |= (uint64_t)(t[pos++] & 0x7f) << sh;
        pos++;
        if (!*name) {
            if (!tsize)
                return false;
            *flags = t[pos++];
            *addr = 0;
            for (unsigned sh = 0;; sh += 7) {
                *addr |= (uint64_t)(t[pos] & 0x7f) << sh;
                if (!(t[pos++] & 0x80))
                    return true;
            }
        }
        pos += tsize;
        unsigned nchild = t[pos++];
        bool next = false;
        for (unsigned i = 0; i < nchild && !next; i++) {
            const char *edge = (const char *)t + pos;
            pos += strlen(edge) + 1;
            uint64_t child = 0;
            for (unsigned sh = 0;; sh += 7) {
                child |= (uint64_t)(t[pos] & 0x7f) << sh;
                if (!(t[pos++] & 0x80))
                    break;
            }
            if (!strncmp(edge, name, strlen(edge))) {
                name += strlen(edge);
                off = child;
                next = true;
            }
        }
        if (!next || off >= size)
            return false;
    }
}

/* The library ordinal (1-based, among the dylib load commands) of the first command cmd. */
static unsigned dylib_ordinal(const uint8_t *b, uint32_t cmd)
{
    size_t off = 32;
    unsigned ord = 0;
    for (uint32_t i = 0, n = rd32(b + 16); i < n; i++, off += rd32(b + off + 4)) {
        uint32_t c = rd32(b + off);
        if (c == LC_LOAD_DYLIB || c == LC_REEXPORT_DYLIB || c == 0x80000018 || c == 0x80000023 || c == 0x20)
            ord++;
        if (c == cmd)
            return ord;
    }
    cr_assert_fail("no load command 0x%x", cmd);
    return 0;
}

/* librx with a hand-written export trie: its own rx_own, and re-export entries (one renamed, one
 * under the same name, one to a name libhost lacks, one with an ordinal out of range). */
static char *rx_with_reexport_entries(const char *dir)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("reexport.%s/librx.dylib"), &size);
    size_t c = find_cmd(b, size, LC_DYLD_EXPORTS_TRIE);
    cr_assert_neq(c, 0u);
    uint8_t *t = b + rd32(b + c + 8);
    uint32_t old_size = rd32(b + c + 12);
    uint64_t flags, own;
    cr_assert(trie_lookup(t, old_size, "_rx_own", &flags, &own), "no _rx_own in librx's trie");
    unsigned host = dylib_ordinal(b, LC_LOAD_DYLIB);
    const struct hand_export x[] = {
        { "_rx_own", 0, own, NULL },
        { "_rx_twice", 0x08, host, "_libhost_twice" },
        { "_libhost_value", 0x08, host, "" },
        { "_rx_missing", 0x08, host, "_no_such_symbol" },
        { "_rx_bad_ordinal", 0x08, 9, "" },
    };
    uint8_t fresh[512] = { 0 };
    size_t n = write_trie(fresh, x, sizeof x / sizeof x[0]);
    cr_assert_leq(n, old_size, "the new trie (%zu bytes) does not fit in the old one (%u)", n, old_size);
    memset(t, 0, old_size);
    memcpy(t, fresh, n);
    uint32_t n32 = (uint32_t)n;
    memcpy(b + c + 12, &n32, 4);
    char *path = copy_into(dir, "/librx.dylib", b, size);
    free(b);
    return path;
}

Test(macho_dyld, reexport_trie_entries_follow_their_ordinal_and_name)
{
    char *dir = make_temp_dir();
    char *rx_path = rx_with_reexport_entries(dir);
    free(copy_into(dir, mfix("reexport.%s/libhost.dylib"), NULL, 0));
    char *client_path = copy_into(dir, mfix("reexport.%s/librxclient.dylib"), NULL, 0);
    plugin *client = open_ok(client_path, &decoy_opts);
    plugin *rx = open_ok(rx_path, NULL);
    char host_path[4200];
    snprintf(host_path, sizeof host_path, "%s/libhost.dylib", dir);
    plugin *host = open_ok(host_path, NULL);
    int *value = must_lookup(host, "libhost_value");

    /* Renamed: rx_twice is libhost's libhost_twice. Same name: libhost_value. */
    cr_assert_eq(must_lookup(rx, "rx_twice"), must_lookup(host, "libhost_twice"));
    cr_assert_eq(((int (*)(int))must_lookup(rx, "rx_twice"))(21), 42);
    cr_assert_eq(must_lookup(rx, "libhost_value"), value);
    /* The client's binds: libhost_value through the trie entry, libhost_twice (no longer in the
     * trie) through LC_REEXPORT_DYLIB, rx_own from librx itself. */
    cr_assert_eq(((int *(*)(void))must_lookup(client, "rc_value_addr"))(), value);
    cr_assert_eq(((int (*)(int))must_lookup(client, "rc_call"))(5), 15);

    plugin_error err;
    cr_assert_null(plugin_lookup(rx, "rx_missing", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(rx, "rx_bad_ordinal", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT, "%s", err.message);
    cr_assert(strstr(err.message, "library ordinal 9"), "%s", err.message);
    free(rx_path);
    free(client_path);
    free(dir);
}

/* ---- weak definitions ------------------------------------------------------------------------- */

struct wk {
    int *root_shared, *dep_shared, *root_strong, *dep_strong;
};

static struct wk weak_addresses(plugin *root)
{
    return (struct wk){
        ((int *(*)(void))must_lookup(root, "wk_root_shared"))(), ((int *(*)(void))must_lookup(root, "wk_root_dep_shared"))(),
        ((int *(*)(void))must_lookup(root, "wk_root_strong"))(), ((int *(*)(void))must_lookup(root, "wk_root_dep_strong"))(),
    };
}

/* libwkroot (loaded first) and libwkdep both define wk_shared weakly: both use the root's.
 * wk_strong is weak in the root, not in libwkdep: both use libwkdep's. Before, each image kept
 * its own definition. */
static void check_coalesced(const char *root_fixture)
{
    plugin *root = open_ok(mfix(root_fixture), NULL);
    plugin *dep = open_ok(mfix("weak.%s/libwkdep.dylib"), NULL);
    struct wk a = weak_addresses(root);
    int *root_own = must_lookup(root, "wk_shared"), *dep_strong = must_lookup(dep, "wk_strong");
    cr_assert_eq(a.root_shared, root_own, "%s: the root's own code does not use its wk_shared", root_fixture);
    cr_assert_eq(a.dep_shared, root_own, "%s: libwkdep kept its own wk_shared (%p, the root's is %p)", root_fixture,
                 (void *)a.dep_shared, (void *)root_own);
    cr_assert_eq(*a.dep_shared, 1);
    cr_assert_eq(a.dep_strong, dep_strong);
    cr_assert_eq(a.root_strong, dep_strong, "%s: the root kept its weak wk_strong over libwkdep's non-weak one",
                 root_fixture);
    cr_assert_eq(*a.root_strong, 20);
}

Test(macho_dyld, weak_definitions_coalesce_chained_fixups)
{
    check_coalesced("weak.%s/libwkroot.dylib");
}

Test(macho_dyld, weak_definitions_coalesce_weak_bind_opcodes)
{
    check_coalesced("weak.%s/libwkroot.info.dylib");
}

/* libwkdep opened first, alone: later, libwkroot's weak wk_shared coalesces to it (the first in
 * load order), as dyld's list of loaded images puts earlier dlopens first. */
Test(macho_dyld, weak_definition_of_an_earlier_open_comes_first)
{
    plugin *dep = open_ok(mfix("weak.%s/libwkdep.dylib"), NULL);
    int *dep_shared = ((int *(*)(void))must_lookup(dep, "wk_dep_shared"))();
    cr_assert_eq(dep_shared, must_lookup(dep, "wk_shared"));
    plugin *root = open_ok(mfix("weak.%s/libwkroot.dylib"), NULL);
    struct wk a = weak_addresses(root);
    cr_assert_eq(a.root_shared, dep_shared, "the root uses its own wk_shared, not the earlier image's");
    cr_assert_eq(*a.root_shared, 2);
}

/* ---- finalizers ------------------------------------------------------------------------------- */

static int note_fd = -1;
static void mt_note(int n)
{
    char c = (char)('0' + n);
    if (write(note_fd, &c, 1) != 1)
        _exit(3);
}
static void *term_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    return !strcmp(name, "mt_note") ? (void *)mt_note : NULL;
}

/* A child opens libterm and exits: the initializer ran at the open (0), the three functions of
 * __mod_term_func ran at exit, last first (3 2 1). */
Test(macho_dyld, mod_term_funcs_run_at_exit_last_first)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    const char *path = mfix("libterm.%s.dylib");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        note_fd = fds[1];
        struct plugin_options o = { .resolve = term_resolve };
        plugin *p = plugin_open_with(path, &o, NULL);
        if (!p || *(int *)plugin_lookup(p, "mt_value", NULL) != 9)
            _exit(2);
        mt_note(8);                     /* the open has returned: finalizers come after this */
        exit(0);
    }
    close(fds[1]);
    char got[16] = "";
    size_t n = 0;
    ssize_t r;
    while (n < sizeof got - 1 && (r = read(fds[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    cr_assert_str_eq(got, "08321", "notes in the order %s (0: init, 8: open returned, 3 2 1: finalizers)", got);
}

/* ---- @executable_path ------------------------------------------------------------------------- */

/* Both fixtures are linked against a libhost named relative to the test binary's directory:
 * LC_LOAD_DYLIB @executable_path/../fixtures/macho/exepath.CPU/libhost.dylib, and
 * @rpath/libhost.dylib with LC_RPATH @executable_path/../fixtures/macho/twolevel.CPU. */
static void check_exepath(const char *fixture_name, const char *host_fixture)
{
    plugin *p = open_ok(mfix(fixture_name), &decoy_opts);
    plugin *h = open_ok(mfix(host_fixture), NULL);
    cr_assert_eq(((int (*)(int))must_lookup(p, "tl_call"))(5), 11, "%s: tl_call", fixture_name);
    cr_assert_eq(((int *(*)(void))must_lookup(p, "tl_host_value_addr"))(), must_lookup(h, "libhost_value"),
                 "%s is not bound to %s", fixture_name, host_fixture);
}

Test(macho_dyld, executable_path_in_load_dylib)
{
    check_exepath("exepath.%s/libexe_direct.dylib", "exepath.%s/libhost.dylib");
}

Test(macho_dyld, executable_path_in_rpath)
{
    check_exepath("exepath.%s/libexe_rpath.dylib", "twolevel.%s/libhost.dylib");
}

/* ---- a variadic function from the resolve callback -------------------------------------------- */

static int adapter_calls;

#if defined(__aarch64__)
/* Apple's arm64 caller passes printf's format in x0 and the variadic arguments on the stack, one
 * 8-byte slot each; as a Linux function, those slots are the parameters after the eighth. An
 * adapter for the fixture's call (an int and a string). */
static int apple_printf(const char *fmt, long x1, long x2, long x3, long x4, long x5, long x6, long x7,
                        long slot0, long slot1)
{
    (void)x1, (void)x2, (void)x3, (void)x4, (void)x5, (void)x6, (void)x7;
    adapter_calls++;
    return printf(fmt, (int)slot0, (const char *)slot1);
}
#else
/* x86_64: both systems pass variadic arguments alike; the callback's function is a plain one. */
static int apple_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    adapter_calls++;
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
#endif

static void *printf_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx, (void)version;
    return !strcmp(name, "printf") ? (void *)apple_printf : NULL;
}

Test(macho_dyld, variadic_function_from_the_resolve_callback_stands, .init = cr_redirect_stdout)
{
    struct plugin_options o = { .resolve = printf_resolve };
    plugin *p = open_ok(mfix("libprintf.%s.dylib"), &o);
    int (*pf)(int, const char *) = (int (*)(int, const char *))must_lookup(p, "pf_print");
    fflush(stdout);
    int n = pf(12345, "abc");
    fflush(stdout);
    cr_assert_eq(adapter_calls, 1, "the callback's printf was not the one bound");
    cr_assert_eq(n, (int)strlen("macho printf: 12345 abc ok\n"), "printf returned %d", n);
    cr_assert_stdout_eq_str("macho printf: 12345 abc ok\n");
}

/* ---- messages --------------------------------------------------------------------------------- */

/* Without the resolve callback, libfix's flat lookups (ordinal -2) find nothing. */
Test(macho_dyld, undefined_flat_import_names_the_flat_namespace)
{
    struct plugin_options none = { 0 };
    expect_refused(mfix("libfix.chained.%s.dylib"), &none, PLUGIN_ERR_UNDEFINED, "(flat namespace)");
    expect_refused(mfix("libfix.info.%s.dylib"), &none, PLUGIN_ERR_UNDEFINED, "(flat namespace)");
}

/* libhost with its libhost_twice renamed in the trie: libtwolevel's bind by ordinal 1 names the
 * dylib by its install name, and where it was loaded from. */
Test(macho_dyld, undefined_two_level_import_names_the_dylib)
{
    char *dir = make_temp_dir();
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("twolevel.%s/libhost.dylib"), &size);
    size_t c = find_cmd(b, size, LC_DYLD_INFO_ONLY);               /* built without -fixup_chains */
    cr_assert_neq(c, 0u);
    uint8_t *t = b + rd32(b + c + 40), *hit = memmem(t, rd32(b + c + 44), "twice", 6);   /* export_off, _size */
    cr_assert_not_null(hit, "no edge \"twice\" in libhost's trie");
    hit[4] = 'E';
    char *host = copy_into(dir, "/libhost.dylib", b, size);
    char *tl = copy_into(dir, mfix("twolevel.%s/libtwolevel.dylib"), NULL, 0);
    char want[4400];
    snprintf(want, sizeof want, "undefined symbol _libhost_twice (dylib @rpath/libhost.dylib, loaded from %s/", dir);
    struct plugin_options none = { 0 };
    expect_refused(tl, &none, PLUGIN_ERR_UNDEFINED, want);
    free(b);
    free(host);
    free(tl);
    free(dir);
}

/* The chained libfix with its file type changed to MH_EXECUTE (2). */
Test(macho_dyld, an_executable_is_named)
{
    size_t size;
    uint8_t *b = (uint8_t *)read_file(mfix("libfix.chained.%s.dylib"), &size);
    uint32_t execute = 2;
    memcpy(b + 12, &execute, 4);
    char *dir = make_temp_dir();
    char *path = copy_into(dir, "/libfix.exe", b, size);
    expect_refused(path, NULL, PLUGIN_ERR_UNSUPPORTED, "is MH_EXECUTE (an executable, not a dylib or bundle)");
    free(b);
    free(path);
    free(dir);
}

/* ---- export names without the leading underscore ---------------------------------------------- */

Test(macho_dyld, exports_without_a_leading_underscore_are_reached)
{
    plugin *p = open_ok(mfix("librawname.%s.dylib"), NULL);
    cr_assert_eq(*(int *)must_lookup(p, ".rn_dot_name"), 11);
    cr_assert_eq(*(int *)must_lookup(p, "rn_plain_name"), 12);
    cr_assert_eq(*(int *)must_lookup(p, "rn_value"), 15);
    /* "rn_shadow" is the C name of _rn_shadow; "\1" + a Mach-O name is that name as it is. */
    cr_assert_eq(*(int *)must_lookup(p, "rn_shadow"), 14);
    cr_assert_eq(*(int *)must_lookup(p, "\1rn_shadow"), 13);
    cr_assert_eq(*(int *)must_lookup(p, "\1_rn_shadow"), 14);
    cr_assert_eq(*(int *)must_lookup(p, "\1.rn_dot_name"), 11);
    cr_assert_eq(must_lookup(p, "\1_rn_value"), must_lookup(p, "rn_value"));
    plugin_error err;
    cr_assert_null(plugin_lookup(p, "_rn_value", &err), "a Mach-O name was taken for a C name");
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "\1rn_value", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
    cr_assert_null(plugin_lookup(p, "\1", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND, "%s", err.message);
}
