/*
 * jail_host.c — loading plugins inside a seccomp jail that denies the file system. Run by
 * tests/core/test_jail.c; prints what happened, one line per step.
 *
 *     jail_host FIXTURE_DIR
 *
 * The host reads its plugins into memory first, then installs a seccomp filter (raw BPF, no
 * libseccomp) under which every system call that names a path fails with EPERM: open, openat,
 * openat2, stat, lstat, newfstatat with a path (fstat, which glibc makes newfstatat with
 * AT_EMPTY_PATH, stays allowed), statx, access, faccessat, faccessat2, readlink, readlinkat,
 * execve, execveat. Nothing of the loader has run before that: its first use (the process's
 * objects, hardware capabilities, ...) happens inside the jail. Then:
 *   - plugins whose dependencies are already in the process (libc), or supplied through the
 *     resolve callback, load from memory and work, thread-locals included (in a new thread too);
 *   - plugin_addr_info names a function of one of them;
 *   - a plugin from memory that needs a library not in the process, and plugin_open of a path,
 *     fail with their code and a message naming the file and the denial.
 * Exit 0 when each step did what it should, 1 when one did not, 77 when the filter cannot be
 * installed or is not in force (qemu-user refuses PR_SET_SECCOMP for its guests): the first line
 * then says why.
 */
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "jail_host supports x86-64 and aarch64"
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* "if nr == NR: return EPERM" */
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static int jail(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),     /* another ABI: nothing */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_open
        DENY(SYS_open), DENY(SYS_stat), DENY(SYS_lstat), DENY(SYS_access), DENY(SYS_readlink),
#endif
        DENY(SYS_openat), DENY(SYS_openat2), DENY(SYS_statx), DENY(SYS_faccessat),
        DENY(SYS_faccessat2), DENY(SYS_readlinkat), DENY(SYS_execve), DENY(SYS_execveat),
        /* newfstatat: allowed only with AT_EMPTY_PATH (fstat on a descriptor) */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof code / sizeof code[0]), code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        printf("skip: cannot install a seccomp filter: %s\n", strerror(errno));
        return -1;
    }
    /* In force? (An emulator may accept the call and filter its own system calls, or none.) */
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EPERM) {
        printf("skip: the seccomp filter is not in force (openat: %s)\n", fd >= 0 ? "opened" : strerror(errno));
        return -1;
    }
    printf("jailed: openat /proc/self/maps: %s\n", strerror(errno));
    return 0;
}

static char *slurp(const char *dir, const char *name, size_t *size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    if (!buf)
        fprintf(stderr, "jail_host: cannot read %s\n", path);
    *size = buf ? (size_t)n : 0;
    return buf;
}

struct image {
    const char *name;           /* under FIXTURE_DIR */
    char *bytes;
    size_t size;
};

enum { LIBC_USER, HOSTCALL, TLS_VARS, LONELY, NIMAGES };
static struct image images[NIMAGES] = {
    { "libc_user.so", NULL, 0 },
    { "hostcall.so", NULL, 0 },
    { "tls/tls_default.so", NULL, 0 },
    { "deps/lonely.so", NULL, 0 },
};

/* What hostcall.so imports, given by the resolve callback. */
static int host_add(int a, int b)
{
    return a + b;
}

static void host_note(const char *what)
{
    (void)what;
}

static void *resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;
    return !strcmp(name, "host_add") ? (void *)host_add : !strcmp(name, "host_note") ? (void *)host_note : NULL;
}

static plugin *from_memory(int which, const char *name, const struct plugin_options *opts)
{
    plugin_error err;
    plugin *p = plugin_open_memory(images[which].bytes, images[which].size, name, opts, &err);
    if (!p)
        printf("%s: %s\n", name, err.message);
    return p;
}

static void *tls_in_thread(void *get)
{
    return (void *)(long)((int (*)(void))get)();
}

/* The plugins that need nothing from the file system. */
static int loads(void)
{
    struct plugin_options opts = { .resolve = resolve };
    plugin *libc_user = from_memory(LIBC_USER, "mem:libc_user.so", NULL);
    plugin *hostcall = from_memory(HOSTCALL, "mem:hostcall.so", &opts);
    plugin *tls = from_memory(TLS_VARS, "mem:tls_default.so", NULL);
    if (!libc_user || !hostcall || !tls)
        return 1;
    size_t (*length_of)(const char *) = (size_t (*)(const char *))plugin_lookup(libc_user, "length_of", NULL);
    int (*compute)(int) = (int (*)(int))plugin_lookup(hostcall, "compute", NULL);
    void (*set_global)(int) = (void (*)(int))plugin_lookup(tls, "set_global", NULL);
    int (*get_global)(void) = (int (*)(void))plugin_lookup(tls, "get_global", NULL);
    if (!length_of || !compute || !set_global || !get_global) {
        printf("lookup failed\n");
        return 1;
    }
    printf("libc_user.so: length_of(\"jail\") = %zu\n", length_of("jail"));
    printf("hostcall.so (resolve): compute(5) = %d\n", compute(5));
    set_global(99);
    pthread_t t;
    void *other = NULL;
    if (pthread_create(&t, NULL, tls_in_thread, (void *)get_global) != 0 || pthread_join(t, &other) != 0)
        return printf("pthread_create failed\n"), 1;
    printf("tls_default.so: tv_global = %d here, %ld in a new thread\n", get_global(), (long)other);
    struct plugin_addr_info info;
    if (plugin_addr_info((const void *)length_of, &info) != 1 || !info.symbol)
        return printf("plugin_addr_info: not found\n"), 1;
    printf("plugin_addr_info: %s in %s\n", info.symbol, info.path);
    return 0;
}

/* The loads that need the file system: refused, with the file and the cause named. */
static int refusals(const char *dir)
{
    char elsewhere[4096], path[4096];
    snprintf(elsewhere, sizeof elsewhere, "%s/deps/elsewhere", dir);
    const char *const paths[] = { elsewhere, NULL };
    struct plugin_options opts = { .search_paths = paths };
    plugin_error err;
    plugin *p = plugin_open_memory(images[LONELY].bytes, images[LONELY].size, "mem:lonely.so", &opts, &err);
    printf("lonely.so (needs liblonely_dep.so): %s, code %d: %s\n", p ? "loaded" : "refused", err.code,
           err.message);
    snprintf(path, sizeof path, "%s/basic.so", dir);
    p = plugin_open(path, &err);
    printf("plugin_open(basic.so): %s, code %d: %s\n", p ? "loaded" : "refused", err.code, err.message);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jail_host FIXTURE_DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < NIMAGES; i++)
        if (!(images[i].bytes = slurp(argv[1], images[i].name, &images[i].size)))
            return 2;
    if (jail() != 0)
        return 77;
    int rc = loads();
    return refusals(argv[1]) || rc;
}
