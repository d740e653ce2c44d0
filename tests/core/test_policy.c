/*
 * test_policy.c — the security policy (loader/core/policy.c, plugin.h "Security policy"):
 *   - W^X and RELRO after every fixture: each object file under the fixtures directory is
 *     opened in a child process of its own, and /proc/self/maps must then have no mapping both
 *     writable and executable (whether the open succeeded or not), and the RELRO pages of an
 *     ELF object that loaded must not be writable;
 *   - an executable stack is refused;
 *   - PLUGIN_TRUSTED_FILES_ONLY: owner and mode of the plugin and its dependencies, read from
 *     the opened descriptor;
 *   - PLUGIN_CONFINE_DEPS: dependencies only from search_paths, symlinks resolved.
 * Text relocations: tests/core/test_errors.c; RELRO's own fixtures: tests/core/test_protect.c;
 * secure mode: tests/core/test_secure.c.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MACHO_CPU "x86_64"
#else
#define MACHO_CPU "arm64"
#endif

/* ---- W^X and RELRO after every fixture ------------------------------------------------------ */

struct found {
    char **paths;
    size_t n, cap;
};

static bool is_object_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 3 && !strcmp(name + n - 3, ".so")) || (n > 6 && !strcmp(name + n - 6, ".dylib")) ||
           (n > 7 && !strcmp(name + n - 7, ".bundle"));
}

/* Every .so, .dylib and .bundle under dir, but the initializer-order graphs (initgraph/: 560
 * objects from one source, fixtures/initgraph/node.c; their own test loads them all). */
static void collect(const char *dir, struct found *f)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "initgraph"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect(path, f);
        } else if (S_ISREG(st.st_mode) && is_object_name(e->d_name)) {
            if (f->n == f->cap)
                f->paths = realloc(f->paths, (f->cap = f->cap ? 2 * f->cap : 64) * sizeof *f->paths);
            f->paths[f->n++] = strdup(path);
        }
    }
    closedir(d);
}

/* From the file: PT_GNU_RELRO's range, when the first PT_LOAD is at vaddr 0 (all of ours) so
 * that the mapping of file offset 0 is the load bias. */
static bool relro_of(const char *path, uint64_t *vaddr, uint64_t *memsz)
{
    size_t size;
    char *b = read_file(path, &size);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)b;
    bool ok = false, first = true;
    if (size >= sizeof *eh && !memcmp(b, ELFMAG, SELFMAG) && eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= size) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(b + eh->e_phoff);
        for (int i = 0; i < eh->e_phnum; i++) {
            if (ph[i].p_type == PT_LOAD && first)
                first = false, ok = ph[i].p_vaddr == 0 && ph[i].p_offset == 0;
            if (ph[i].p_type == PT_GNU_RELRO)
                *vaddr = ph[i].p_vaddr, *memsz = ph[i].p_memsz;
        }
    }
    free(b);
    return ok && *memsz;
}

/* The start of the mapping of path's file offset 0 (the load bias of an object whose first
 * PT_LOAD is at vaddr 0), or 0. */
static uintptr_t mapped_base(const char *real)
{
    char *maps = read_file("/proc/self/maps", NULL), *save = NULL;
    uintptr_t base = 0;
    for (char *line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long lo, hi, off;
        char perms[5], file[PATH_MAX];
        if (sscanf(line, "%lx-%lx %4s %lx %*s %*s %4095s", &lo, &hi, perms, &off, file) == 5 && off == 0 &&
            !strcmp(file, real) && (!base || lo < base))
            base = lo;
    }
    free(maps);
    return base;
}

/* What one child saw. */
struct verdict {
    char loaded;                /* 'y' or 'n' */
    char wx[256];               /* the first writable and executable mapping, or "" */
    char relro[300];            /* a RELRO page still writable, or "" */
};

/* The RELRO pages of path, mapped at base, are not writable; else a note in out. */
static void check_relro(const char *real, uint64_t vaddr, uint64_t memsz, char out[300])
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), base = mapped_base(real);
    uintptr_t a = (base + vaddr) & ~(page - 1), e = (base + vaddr + memsz) & ~(page - 1);
    for (uintptr_t p = a; base && p < e; p += page) {
        char perms[5];
        if (maps_perms_of((void *)p, perms) != 0 || perms[1] == 'w') {
            snprintf(out, 300, "RELRO page 0x%lx (vaddr 0x%lx) is %s", (unsigned long)p,
                     (unsigned long)(p - base), perms);
            return;
        }
    }
    if (!base)
        snprintf(out, 300, "no mapping of file offset 0 found");
}

/* Open path in a child (output silenced); what it saw comes back through a pipe. */
static struct verdict try_in_child(const char *path)
{
    struct verdict v = { 'n', "", "" };
    uint64_t rv = 0, rm = 0;
    bool relro = relro_of(path, &rv, &rm);
    char real[PATH_MAX];
    cr_assert_not_null(realpath(path, real));
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(2);
        alarm(60);
        v.loaded = plugin_open(path, NULL) ? 'y' : 'n';
        count_wx_mappings(v.wx);
        if (v.loaded == 'y' && relro)
            check_relro(real, rv, rm, v.relro);
        _exit(write(fds[1], &v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], &v, sizeof v);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert_eq(got, (ssize_t)sizeof v, "%s: the child died (status 0x%x) before reporting", path, status);
    return v;
}

Test(policy, no_mapping_writable_and_executable_after_any_fixture, .timeout = 600)
{
    struct found f = { 0 };
    collect(FIXTURE_DIR, &f);
    size_t elf = 0, macho = 0, relro = 0;
    for (size_t i = 0; i < f.n; i++) {
        struct verdict v = try_in_child(f.paths[i]);
        cr_expect_str_empty(v.wx, "after opening %s: writable and executable: %s", f.paths[i], v.wx);
        cr_expect_str_empty(v.relro, "after opening %s: %s", f.paths[i], v.relro);
        size_t len = strlen(f.paths[i]);
        bool is_macho = strcmp(f.paths[i] + len - 3, ".so") != 0;
        if (v.loaded == 'y')
            is_macho ? macho++ : elf++;
        uint64_t a, b;
        relro += v.loaded == 'y' && !is_macho && relro_of(f.paths[i], &a, &b);
    }
    /* What loads here: most ELF fixtures (not the refused ones, not those for the other CPU or
     * that need a resolve callback or a static TLS pool), the Mach-O ones of this CPU. */
    cr_assert_geq(elf, 45, "only %zu of the %zu fixtures loaded as ELF", elf, f.n);
    cr_assert_geq(macho, 16, "only %zu Mach-O fixtures of " MACHO_CPU " loaded", macho);
    cr_assert_geq(relro, 45, "only %zu loaded ELF fixtures had their RELRO checked", relro);
}

/* ---- executable stack ----------------------------------------------------------------------- */

/* The PT_GNU_STACK header of an ELF image in memory, or NULL. */
static Elf64_Phdr *gnu_stack(char *b)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
    Elf64_Phdr *ph = (Elf64_Phdr *)(b + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_GNU_STACK)
            return &ph[i];
    return NULL;
}

Test(policy, executable_stack_is_refused)
{
    const char *path = fixture("execstack.so");
    size_t size;
    char *b = read_file(path, &size);
    Elf64_Phdr *st = gnu_stack(b);
    cr_assert(st && (st->p_flags & PF_X), "execstack.so does not ask for an executable stack");

    plugin_error err;
    int fds = count_fds();
    cr_assert_null(plugin_open(path, &err), "an object asking for an executable stack was loaded");
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, path), "message: %s", err.message);
    cr_assert_not_null(strstr(err.message, "executable stack"), "message: %s", err.message);
    cr_assert_eq(count_fds(), fds, "a descriptor was left open");
    char perms[5];
    int here;
    cr_assert_eq(maps_perms_of(&here, perms), 0);
    cr_assert_neq(perms[2], 'x', "the stack became executable (%s)", perms);

    /* The same bytes without PF_X load: the flag alone was the reason. */
    st->p_flags &= ~(Elf64_Word)PF_X;
    plugin *p = plugin_open_memory(b, size, "execstack-cleared.so", NULL, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "execstack_value"))(), 7);
    free(b);
}

/* ---- PLUGIN_TRUSTED_FILES_ONLY -------------------------------------------------------------- */

/* A copy of a fixture at dir/name with the given mode; its path (malloc'ed). */
static char *copy_fixture(const char *dir, const char *fix, const char *name, mode_t mode)
{
    char *dst;
    size_t size;
    cr_assert_geq(asprintf(&dst, "%s/%s", dir, name), 0);
    char *b = read_file(fixture(fix), &size);
    write_file(dst, b, size);
    free(b);
    cr_assert_eq(chmod(dst, mode), 0);
    return dst;
}

static plugin *open_flags(const char *path, unsigned flags, const char *search, plugin_error *err)
{
    const char *sp[] = { search, NULL };
    struct plugin_options o = { .search_paths = search ? sp : NULL, .flags = flags };
    return plugin_open_with(path, &o, err);
}

static void expect_policy(const char *path, unsigned flags, const char *search, const char *who, const char *why)
{
    plugin_error err;
    int fds = count_fds();
    char *maps = maps_snapshot();
    cr_assert_null(open_flags(path, flags, search, &err), "%s was loaded", path);
    cr_assert_eq(err.code, PLUGIN_ERR_POLICY, "%s: code %d: %s", path, err.code, err.message);
    cr_assert_not_null(strstr(err.message, who), "message does not name %s: %s", who, err.message);
    cr_assert_not_null(strstr(err.message, why), "message does not say \"%s\": %s", why, err.message);
    cr_assert_eq(count_fds(), fds, "a descriptor was left open");
    char *after = maps_snapshot();
    cr_assert_str_eq(after, maps, "a mapping was left behind");
    free(after);
    free(maps);
}

Test(policy, trusted_files_only_refuses_files_others_can_write)
{
    char *dir = make_temp_dir();
    char *ok = copy_fixture(dir, "basic.so", "ok.so", 0644);
    char *other = copy_fixture(dir, "basic.so", "other.so", 0666);
    char *group = copy_fixture(dir, "basic.so", "group.so", 0664);
    plugin_error err;
    cr_assert_not_null(open_flags(ok, PLUGIN_TRUSTED_FILES_ONLY, NULL, &err), "%s", err.message);
    expect_policy(other, PLUGIN_TRUSTED_FILES_ONLY, NULL, other, "writable by others");
    expect_policy(group, PLUGIN_TRUSTED_FILES_ONLY, NULL, group, "writable by its group");
    /* Without the flag the same file loads: the flag is what refused it. */
    cr_assert_not_null(open_flags(other, 0, NULL, &err), "%s", err.message);
}

Test(policy, trusted_files_only_refuses_files_of_other_users)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give a file to another user (chown)");
    char *dir = make_temp_dir();
    char *mine = copy_fixture(dir, "basic.so", "mine.so", 0644);
    char *theirs = copy_fixture(dir, "counter.so", "theirs.so", 0644);
    cr_assert_eq(chown(theirs, 65534, 65534), 0, "chown: %s", strerror(errno));
    plugin_error err;
    cr_assert_not_null(open_flags(mine, PLUGIN_TRUSTED_FILES_ONLY, NULL, &err), "%s", err.message);
    expect_policy(theirs, PLUGIN_TRUSTED_FILES_ONLY, NULL, theirs, "owned by uid 65534");
}

/* A dependency is checked like the plugin: lonely.so needs liblonely_dep.so, here writable by
 * anyone. The plugin loaded from memory is the caller's bytes (not checked); its dependency
 * file still is. */
Test(policy, trusted_files_only_checks_every_dependency)
{
    char *dir = make_temp_dir();
    char *root = copy_fixture(dir, "deps/lonely.so", "lonely.so", 0644);
    char *dep = copy_fixture(dir, "deps/elsewhere/liblonely_dep.so", "liblonely_dep.so", 0666);
    expect_policy(root, PLUGIN_TRUSTED_FILES_ONLY, dir, dep, "writable by others");

    size_t size;
    char *image = read_file(root, &size);
    const char *sp[] = { dir, NULL };
    struct plugin_options o = { .search_paths = sp, .flags = PLUGIN_TRUSTED_FILES_ONLY };
    plugin_error err;
    cr_assert_null(plugin_open_memory(image, size, root, &o, &err), "the untrusted dependency was loaded");
    cr_assert_eq(err.code, PLUGIN_ERR_POLICY, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, dep), "message: %s", err.message);

    cr_assert_eq(chmod(dep, 0644), 0);
    plugin *p = plugin_open_memory(image, size, root, &o, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "lonely"))(), 42);
    free(image);
}

/* The test is on the descriptor that is mapped: a symlink (mode 0777 to lstat) to a trusted file
 * loads, a trusted-looking name that is a symlink to an untrusted file does not, and the
 * directories on the way are not looked at (a world-writable directory holding a trusted file). */
Test(policy, trusted_files_only_checks_the_opened_file)
{
    char *dir = make_temp_dir(), link[PATH_MAX], link2[PATH_MAX];
    char *ok = copy_fixture(dir, "basic.so", "ok.so", 0644);
    char *bad = copy_fixture(dir, "counter.so", "bad.so", 0666);
    snprintf(link, sizeof link, "%s/link-to-ok.so", dir);
    snprintf(link2, sizeof link2, "%s/link-to-bad.so", dir);
    cr_assert_eq(symlink(ok, link), 0);
    cr_assert_eq(symlink(bad, link2), 0);
    plugin_error err;
    cr_assert_not_null(open_flags(link, PLUGIN_TRUSTED_FILES_ONLY, NULL, &err), "%s", err.message);
    expect_policy(link2, PLUGIN_TRUSTED_FILES_ONLY, NULL, link2, "writable by others");

    char *open_dir = make_temp_dir();
    cr_assert_eq(chmod(open_dir, 0777), 0);
    char *inside = copy_fixture(open_dir, "weak.so", "weak.so", 0644);
    cr_assert_not_null(open_flags(inside, PLUGIN_TRUSTED_FILES_ONLY, NULL, &err), "%s", err.message);
}

/* ---- PLUGIN_CONFINE_DEPS -------------------------------------------------------------------- */

Test(policy, confine_deps_loads_from_search_paths)
{
    plugin_error err;
    plugin *p = open_flags(fixture("deps/lonely.so"), PLUGIN_CONFINE_DEPS, fixture("deps/elsewhere"), &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "lonely"))(), 42);
    /* Objects the process already has are reused: libc_user.so needs libc.so.6, found in the
     * process, not in any directory. */
    cr_assert_not_null(open_flags(fixture("libc_user.so"), PLUGIN_CONFINE_DEPS, NULL, &err), "%s", err.message);
}

/* LD_LIBRARY_PATH and DT_RUNPATH are not searched: each alone finds the dependency without the
 * flag (the controls, last: a dependency once loaded is reused by name). */
Test(policy, confine_deps_ignores_other_search_paths)
{
    cr_assert_eq(setenv("LD_LIBRARY_PATH", fixture("deps/elsewhere"), 1), 0);
    plugin_error err;
    cr_assert_null(open_flags(fixture("deps/lonely.so"), PLUGIN_CONFINE_DEPS, NULL, &err), "LD_LIBRARY_PATH was used");
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "code %d: %s", err.code, err.message);
    cr_assert_not_null(strstr(err.message, "PLUGIN_CONFINE_DEPS"), "message: %s", err.message);
    cr_assert_null(open_flags(fixture("origin/origin_plugin.so"), PLUGIN_CONFINE_DEPS, NULL, &err),
                   "DT_RUNPATH was used");
    cr_assert_eq(err.code, PLUGIN_ERR_DEPENDENCY, "code %d: %s", err.code, err.message);

    cr_assert_not_null(open_flags(fixture("deps/lonely.so"), 0, NULL, &err), "%s", err.message);
    cr_assert_not_null(open_flags(fixture("origin/origin_plugin.so"), PLUGIN_CONFINE_DEPS, fixture("origin"), &err),
                       "%s", err.message);
}

/* The file must lie beneath a search_paths directory once resolved: a symlink there that leads
 * outside is refused (and names where it leads); one that stays inside is fine. */
Test(policy, confine_deps_resolves_symlinks)
{
    char *dir = make_temp_dir(), link[PATH_MAX], real[PATH_MAX], sub[PATH_MAX];
    snprintf(link, sizeof link, "%s/liblonely_dep.so", dir);
    cr_assert_eq(symlink(fixture("deps/elsewhere/liblonely_dep.so"), link), 0);
    cr_assert_not_null(realpath(fixture("deps/elsewhere/liblonely_dep.so"), real));
    expect_policy(fixture("deps/lonely.so"), PLUGIN_CONFINE_DEPS, dir, real, "PLUGIN_CONFINE_DEPS");

    char *inside = make_temp_dir();
    snprintf(sub, sizeof sub, "%s/real", inside);
    cr_assert_eq(mkdir(sub, 0755), 0);
    char *file = copy_fixture(sub, "deps/elsewhere/liblonely_dep.so", "liblonely_dep.so", 0644);
    snprintf(link, sizeof link, "%s/liblonely_dep.so", inside);
    cr_assert_eq(symlink(file, link), 0);
    plugin_error err;
    plugin *p = open_flags(fixture("deps/lonely.so"), PLUGIN_CONFINE_DEPS, inside, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "lonely"))(), 42);
}

/* A DT_NEEDED path (relneed.so needs "sub/librel.so", relative to the current directory) is
 * tried as written, and must then lie beneath search_paths too. */
Test(policy, confine_deps_applies_to_needed_paths)
{
    cr_assert_eq(chdir(fixture("secure")), 0);
    char real[PATH_MAX];
    cr_assert_not_null(realpath(fixture("secure/sub/librel.so"), real));
    expect_policy(fixture("secure/relneed.so"), PLUGIN_CONFINE_DEPS, fixture("deps"), real, "not inside");
    plugin_error err;
    plugin *p = open_flags(fixture("secure/relneed.so"), PLUGIN_CONFINE_DEPS, fixture("secure/sub"), &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_eq(((int (*)(void))must_lookup(p, "relneed_value"))(), 3);
}

Test(policy, unknown_flags_are_refused)
{
    plugin_error err;
    cr_assert_null(open_flags(fixture("basic.so"), 0x80000000u, NULL, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNSUPPORTED, "code %d: %s", err.code, err.message);
    cr_assert_str_eq(plugin_strerror(PLUGIN_ERR_POLICY), "refused by the security policy");
}
