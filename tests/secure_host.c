/*
 * secure_host.c — the child process of tests/core/test_secure.c, run once plainly and once
 * set-user-ID (the test makes a set-user-ID copy), to see the security policy's secure-mode
 * rules (loader/core/policy.c, rule 7) in a process the kernel really marked AT_SECURE.
 *
 *     secure_host STEP...      STEP: open PATH | chdir DIR | setenv NAME VALUE
 *
 * Prints "secure=N" (getauxval(AT_SECURE)), then one line per open: "open PATH: ok" or
 * "open PATH: error CODE MESSAGE". setenv runs after startup on purpose: glibc's ld.so removes
 * LD_LIBRARY_PATH from a set-user-ID process's environment before main, so only a variable set
 * later shows whether the loader itself ignores it. Linked with DT_RPATH
 * '$ORIGIN/../fixtures/deps/elsewhere' (mk/tests.mk): the executable's $ORIGIN, outside the
 * system directories.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static int step(char **argv, int i, int argc)
{
    if (!strcmp(argv[i], "open") && i + 1 < argc) {
        plugin_error err;
        plugin *p = plugin_open(argv[i + 1], &err);
        if (p)
            printf("open %s: ok\n", argv[i + 1]);
        else
            printf("open %s: error %d %s\n", argv[i + 1], (int)err.code, err.message);
        return 2;
    }
    if (!strcmp(argv[i], "chdir") && i + 1 < argc)
        return chdir(argv[i + 1]) == 0 ? 2 : -1;
    if (!strcmp(argv[i], "setenv") && i + 2 < argc)
        return setenv(argv[i + 1], argv[i + 2], 1) == 0 ? 3 : -1;
    return -1;
}

int main(int argc, char **argv)
{
    printf("secure=%lu\n", getauxval(AT_SECURE));
    for (int i = 1; i < argc;) {
        int n = step(argv, i, argc);
        if (n < 0) {
            printf("bad step %s\n", argv[i]);
            return 2;
        }
        i += n;
    }
    fflush(stdout);
    return 0;
}
