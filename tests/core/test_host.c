/*
 * test_host.c — objects the system loader already has (libc.so.6): plugin_open returns a handle
 * over the existing object, without mapping the file again, and plugin_lookup reads that
 * object's dynamic symbol table (default versions for unversioned names). Also the trace hook.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

/* The path of libc.so.6 as mapped in this process, from /proc/self/maps. */
static char *libc_path(void)
{
    char *maps = read_file("/proc/self/maps", NULL);
    char *hit = strstr(maps, "/libc.so.6\n");
    cr_assert_not_null(hit, "no libc.so.6 in /proc/self/maps");
    char *start = hit;
    while (start > maps && start[-1] != ' ')
        start--;
    char *path = strndup(start, (size_t)(hit - start) + strlen("/libc.so.6"));
    free(maps);
    return path;
}

static int count_lines_with(const char *maps, const char *needle)
{
    int n = 0;
    for (const char *p = maps; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(host, libc_is_not_loaded_twice)
{
    char *path = libc_path();
    plugin_open(FIXTURE_DIR "/does-not-exist.so", NULL);   /* warm-up */
    char *before = maps_snapshot();

    plugin_error err;
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "code %d: %s", err.code, err.message);
    cr_assert_eq(plugin_open(path, NULL), p);

    char *after = maps_snapshot();
    cr_assert_eq(count_lines_with(after, path), count_lines_with(before, path),
                 "%s was mapped again", path);

    /* Lookups go to the object the process already has. */
    cr_assert_eq(plugin_lookup(p, "getpid", &err), (void *)getpid, "%s", err.message);
    void *memcpy_default = dlvsym(RTLD_DEFAULT, "memcpy", GLIBC_MEMCPY);
    void *libc_memcpy = plugin_lookup(p, "memcpy", &err);
    cr_assert_not_null(libc_memcpy, "%s", err.message);
    /* ASan's interceptor is found first by dlvsym(RTLD_DEFAULT); compare with libc's own then. */
    void *h = dlopen(path, RTLD_NOLOAD | RTLD_LAZY);
    if (h)
        memcpy_default = dlvsym(h, "memcpy", GLIBC_MEMCPY);
    cr_assert_eq(libc_memcpy, memcpy_default, "unversioned lookup did not give the default version");
    cr_assert_null(plugin_lookup(p, "plugin_test_no_such_symbol", &err));
    cr_assert_eq(err.code, PLUGIN_ERR_NOT_FOUND);
}

struct lines {
    int n;
    int bad;
};

static void on_trace(void *ctx, const struct plugin_trace_event *ev)
{
    const char *line = ev->text;
    struct lines *l = ctx;
    l->n++;
    if (!line || !*line || strchr(line, '\n'))
        l->bad++;
}

Test(host, trace_reports_a_load)
{
    struct lines l = { 0, 0 };
    struct plugin_options opts = { .trace = on_trace, .trace_ctx = &l };
    plugin_error err;
    plugin *p = plugin_open_with(fixture("initorder.so"), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    cr_assert_geq(l.n, 5, "only %d trace lines for a whole load", l.n);
    cr_assert_eq(l.bad, 0, "%d empty or multi-line trace lines", l.bad);
}

/* A host object without a directory in its name (the vDSO, "linux-vdso.so.1") has no file: its
 * identity is not looked up in the current directory. Before, the first open stat()ed that name
 * relative to the current directory, so a plugin copied there under the vDSO's name was taken for
 * the vDSO (same identity) and plugin_open returned the vDSO's handle instead of loading it. The
 * first open must happen in this directory: a fresh child does it. */
Test(host, vdso_name_is_not_a_file_in_the_current_directory)
{
    if (!getauxval(AT_SYSINFO_EHDR)) {
        cr_log_info("no vDSO in this process (qemu-user): nothing to confuse it with");
        return;
    }
    char *dir = make_temp_dir(), path[4200];
    snprintf(path, sizeof path, "%s/linux-vdso.so.1", dir);
    size_t size;
    char *bytes = read_file(fixture("basic.so"), &size);
    write_file(path, bytes, size);
    pid_t pid = fork();
    if (pid == 0) {
        plugin_error err;
        plugin *p = chdir(dir) == 0 ? plugin_open("./linux-vdso.so.1", &err) : NULL;
        _exit(p && plugin_lookup(p, "F", NULL) ? 0 : 1);    /* basic.so's F: the file was loaded */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "plugin_open(\"./linux-vdso.so.1\") in its directory did not load that file (status 0x%x)", status);
    free(bytes);
    free(dir);
}
