/*
 * test_dlfcn_macros.c — PLUGIN_DLFCN_MACROS after <dlfcn.h> (examples/dlhost.c, run by
 * test_dlfcn.c, has the other order: the macros first, <dlfcn.h> after). The standard names must
 * then be this library's: the constants with glibc's values, the functions and Dl_info renamed,
 * so that code written for <dlfcn.h> calls no function of libdl.
 */
#include <dlfcn.h>

#define PLUGIN_DLFCN_MACROS
#include "plugin_dlfcn.h"

#include "helpers.h"

#include <criterion/criterion.h>

#include <string.h>

Test(dlfcn_macros, standard_names_are_ours)
{
    cr_assert_eq(RTLD_LAZY, 1);
    cr_assert_eq(RTLD_NOW, 2);
    cr_assert_eq(RTLD_NOLOAD, 4);
    cr_assert_eq(RTLD_GLOBAL, 0x100);
    cr_assert_eq(RTLD_LOCAL, 0);
    cr_assert_eq(RTLD_NODELETE, 0x1000);
    cr_assert_eq(RTLD_DEFAULT, (void *)0);
    cr_assert_eq(RTLD_NEXT, (void *)-1l);
    void *(*open_fn)(const char *, int) = dlopen;
    cr_assert_eq((void *)open_fn, (void *)plugin_dlopen);
    cr_assert_eq((void *)dlsym, (void *)plugin_dlsym);
    cr_assert_eq((void *)dlvsym, (void *)plugin_dlvsym);
    cr_assert_eq((void *)dlclose, (void *)plugin_dlclose);
    cr_assert_eq((void *)dlerror, (void *)plugin_dlerror);
    cr_assert_eq((void *)dladdr, (void *)plugin_dladdr);
}

Test(dlfcn_macros, code_written_for_dlfcn_runs_on_the_loader)
{
    void *h = dlopen(fixture("dlfcn/libdlbase.so"), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    cr_assert_eq(h, plugin_open(fixture("dlfcn/libdlbase.so"), NULL), "not opened by this library");
    int (*value)(void) = (int (*)(void))dlsym(h, "dl_value");
    cr_assert_not_null(value);
    cr_assert_eq(value(), 10);
    Dl_info info;
    cr_assert_neq(dladdr((void *)value, &info), 0);
    cr_assert_str_eq(info.dli_sname, "dl_value");
    cr_assert_null(dlsym(h, "nothing"));
    cr_assert(strstr(dlerror(), "undefined symbol nothing"));
    cr_assert_eq(dlclose(h), 0);
}
