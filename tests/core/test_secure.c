/*
 * test_secure.c — the security policy in secure mode (loader/core/policy.c, rule 7), in a process
 * the kernel really marked AT_SECURE: $(BUILD)/tests/secure_host (tests/secure_host.c) runs the
 * same steps twice, plainly and from a set-user-ID copy owned by root that nobody (uid 65534,
 * through setpriv) starts: the effective user differs from the real one, so the kernel sets
 * AT_SECURE, and the effective user (root) can still read the fixtures wherever the checkout is
 * (a checkout under /root is closed to nobody). The copy lives in a directory every user can
 * search, laid out like the build directory (tests/, and fixtures -> the fixtures), so that its
 * $ORIGIN and @executable_path lead where the original's do. In the aarch64 lane, under
 * qemu-user, binfmt_misc ignores the set-user-ID bit of the aarch64 program (its entry has no
 * 'C' flag), so the set-user-ID copy is of the emulator itself: the kernel marks the emulator's
 * process AT_SECURE and qemu hands that value to the program (and its glibc runs secure too).
 *
 * What must differ between the two runs (each open succeeds in the plain run):
 *   vuser.so         needs libvprov.so, found only through LD_LIBRARY_PATH (set by the host after
 *                    startup): ignored in secure mode;
 *   lonely.so        needs liblonely_dep.so, found only through the executable's DT_RPATH
 *                    '$ORIGIN/../fixtures/deps/elsewhere': not a system directory, dropped;
 *   origin_late.so   DT_RUNPATH '/$ORIGIN' ($ORIGIN not at the start of the element): dropped;
 *   relneed.so       DT_NEEDED "sub/librel.so", relative to the current directory: not opened;
 *   libexe_direct.dylib  LC_LOAD_DYLIB @executable_path/...: not followed.
 * and what must not: origin_plugin.so, DT_RUNPATH '$ORIGIN' (a library's leading $ORIGIN is
 * honoured by glibc in secure mode too), opened after origin_late.so (they share libsib.so).
 * Both runs have PLUGIN_DEBUG=files: the plain run prints its trace to stderr, the secure one
 * must print none (rule 7: it would give a privileged process's addresses away).
 * Needs root (chown); skipped otherwise, or when the kernel did not set AT_SECURE (a nosuid
 * file system).
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOST BUILD_DIR "/tests/secure_host"

#if defined(__x86_64__)
#define MACHO_CPU "x86_64"
#else
#define MACHO_CPU "arm64"
#endif

#define SETPRIV "/usr/bin/setpriv"

/* Copy src to dst, owned by root, set-user-ID. */
static void make_setuid_copy(const char *src, const char *dst)
{
    size_t size;
    char *b = read_file(src, &size);
    unlink(dst);
    write_file(dst, b, size);
    free(b);
    cr_assert_eq(chown(dst, 0, 0), 0, "chown %s: %s", dst, strerror(errno));
    cr_assert_eq(chmod(dst, 04755), 0, "chmod %s: %s", dst, strerror(errno));
}

/* The directory the set-user-ID copy runs from: /tmp/plugin-secure-XXXXXX (mode 0755) with
 * tests/ (0755) and fixtures -> FIXTURE_DIR. Returns it; *copy is where the copy goes. */
static char *make_layout(char *copy, size_t n)
{
    char tmpl[] = "/tmp/plugin-secure-XXXXXX", link[PATH_MAX];
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    dir = strdup(dir);
    snprintf(copy, n, "%s/tests", dir);
    snprintf(link, sizeof link, "%s/fixtures", dir);
    cr_assert(chmod(dir, 0755) == 0 && mkdir(copy, 0755) == 0 && symlink(FIXTURE_DIR, link) == 0,
              "%s: %s", dir, strerror(errno));
    snprintf(copy, n, "%s/tests/secure_host", dir);
    return dir;
}

static void remove_layout(char *dir, const char *copy)
{
    char path[PATH_MAX];
    unlink(copy);
    snprintf(path, sizeof path, "%s/fixtures", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/tests", dir);
    rmdir(path);
    rmdir(dir);
    free(dir);
}

#ifdef UNDER_QEMU
/* The emulator binfmt_misc runs aarch64 programs with (its "interpreter" line). */
static char *qemu_path(void)
{
    char *entry = read_file("/proc/sys/fs/binfmt_misc/qemu-aarch64", NULL), *line, real[PATH_MAX];
    cr_assert_not_null(line = strstr(entry, "interpreter "), "no interpreter in binfmt_misc's qemu-aarch64");
    line += strlen("interpreter ");
    line[strcspn(line, "\n")] = '\0';
    cr_assert_not_null(realpath(line, real), "%s: %s", line, strerror(errno));
    free(entry);
    return strdup(real);
}
#endif

/* The steps, after argv[0..first). */
static struct run run_steps(char **argv, int first)
{
    const char *steps[] = {
        "setenv", "LD_LIBRARY_PATH", FIXTURE_DIR "/deps/vnew",
        "open", FIXTURE_DIR "/deps/vuser.so",
        "open", FIXTURE_DIR "/deps/lonely.so",
        "open", FIXTURE_DIR "/origin/origin_late.so",
        "open", FIXTURE_DIR "/origin/origin_plugin.so",
        "chdir", FIXTURE_DIR "/secure",
        "open", FIXTURE_DIR "/secure/relneed.so",
        "open", FIXTURE_DIR "/macho/exepath." MACHO_CPU "/libexe_direct.dylib",
    };
    size_t n = sizeof steps / sizeof steps[0];
    for (size_t i = 0; i < n; i++)
        argv[first + i] = (char *)steps[i];
    argv[first + n] = NULL;
    return run_program(argv);
}

/* The line of the open of fixture name in out ("open PATH: ..."), checked to say ok or to be a
 * PLUGIN_ERR_DEPENDENCY. */
static void expect_open(const char *out, const char *name, bool ok, const char *mode)
{
    char key[PATH_MAX + 16];
    snprintf(key, sizeof key, "open %s/%s: ", FIXTURE_DIR, name);
    const char *line = strstr(out, key);
    cr_assert_not_null(line, "%s run: no line for %s in:\n%s", mode, name, out);
    line += strlen(key);
    char want[32];
    snprintf(want, sizeof want, "error %d ", (int)PLUGIN_ERR_DEPENDENCY);
    if (ok)
        cr_expect(!strncmp(line, "ok\n", 3), "%s run: %s should load: %.*s", mode, name, (int)strcspn(line, "\n"), line);
    else
        cr_expect(!strncmp(line, want, strlen(want)), "%s run: %s should not find its dependency: %.*s", mode, name,
                  (int)strcspn(line, "\n"), line);
}

Test(secure, set_user_id_process_restricts_search_paths, .timeout = 300)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a set-user-ID copy owned by another user");
    char *argv[32] = { HOST };
    setenv("PLUGIN_DEBUG", "files", 1);
    struct run plain = run_steps(argv, 1);
    cr_assert_eq(plain.code, 0, "plain run: exit %d\n%s%s", plain.code, plain.out, plain.err);
    cr_assert(!strncmp(plain.out, "secure=0\n", 9), "plain run is secure:\n%s", plain.out);

    if (access(SETPRIV, X_OK) != 0)
        cr_skip_test("needs " SETPRIV " (util-linux) to start the set-user-ID copy as nobody");
    char suid[PATH_MAX];
    char *dir = make_layout(suid, sizeof suid);
    char *sargv[40] = { SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", suid };
#ifdef UNDER_QEMU
    make_setuid_copy(qemu_path(), suid);
    sargv[5] = HOST;
    struct run sec = run_steps(sargv, 6);
#else
    make_setuid_copy(HOST, suid);
    struct run sec = run_steps(sargv, 5);
#endif
    remove_layout(dir, suid);
    cr_assert_eq(sec.code, 0, "set-user-ID run: exit %d\n%s%s", sec.code, sec.out, sec.err);
    if (strncmp(sec.out, "secure=1\n", 9) != 0)
        cr_skip_test("the kernel did not set AT_SECURE for the set-user-ID copy (a nosuid mount?): %s", sec.out);

    const char *names[] = { "deps/vuser.so", "deps/lonely.so", "origin/origin_late.so", "secure/relneed.so",
                            "macho/exepath." MACHO_CPU "/libexe_direct.dylib" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        expect_open(plain.out, names[i], true, "plain");
        expect_open(sec.out, names[i], false, "set-user-ID");
    }
    expect_open(plain.out, "origin/origin_plugin.so", true, "plain");
    expect_open(sec.out, "origin/origin_plugin.so", true, "set-user-ID");
    cr_expect(strstr(plain.err, ":\t") && strstr(plain.err, ": loading ("), "plain run: no PLUGIN_DEBUG lines:\n%s",
              plain.err);
    cr_expect(!strstr(sec.err, ":\t"), "set-user-ID run printed PLUGIN_DEBUG lines:\n%s", sec.err);
}
