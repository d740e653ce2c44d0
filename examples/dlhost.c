/*
 * dlhost.c — a small plugin host written for <dlfcn.h>, ported to this library by the two lines
 * marked "the port" (nothing else differs from the dlfcn original).
 *
 *     dlhost MODULE [MODULE...]
 *
 * Each MODULE is opened with dlopen — a name without '/' through the library search path
 * (LD_LIBRARY_PATH, ...), anything else as a path —; its entry points module_name and
 * module_run are found with dlsym, module_run is located with dladdr and called with the module's
 * argument, and the handle is closed. Every failure is reported with dlerror; the exit status is
 * 1 when any module failed. Built dynamic and -static by mk/dlfcn.mk; tests/core/test_dlfcn.c
 * runs both.
 */
#define PLUGIN_DLFCN_MACROS             /* the port: dlopen & co. are plugin_dlopen & co. */
#include <plugin_dlfcn.h>               /* the port */

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef const char *(*name_fn)(void);
typedef int (*run_fn)(const char *arg);

/* The file name of a path, for a shorter report. */
static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

static int run_module(const char *module)
{
    void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlhost: %s\n", dlerror());
        return 1;
    }
    name_fn name = (name_fn)dlsym(h, "module_name");
    run_fn run = (run_fn)dlsym(h, "module_run");
    if (!name || !run) {
        fprintf(stderr, "dlhost: %s\n", dlerror());
        dlclose(h);
        return 1;
    }
    Dl_info info;
    if (dladdr((void *)run, &info) && info.dli_sname)
        printf("%s: %s is in %s\n", name(), info.dli_sname, base_name(info.dli_fname));
    printf("%s: returned %d\n", name(), run(module));
    if (dlclose(h) != 0) {
        fprintf(stderr, "dlhost: %s\n", dlerror());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int status = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODULE [MODULE...]\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        status |= run_module(argv[i]);
    return status;
}
