/*
 * initgraph_host.c — the child process of tests/elf/test_initorder.c.
 *
 *     initgraph_host glibc|plugin DIR FILE...
 *
 * opens DIR/FILE for each FILE in order, with glibc's dlopen(RTLD_NOW | RTLD_LOCAL) (the oracle;
 * this is a test program, where libdl may stand for the reference) or with plugin_open, then
 * returns from main, so that exit runs the finalizers. Every step is one line on file
 * descriptor 1, written with write(2) like the lines of the graph's objects (fixtures/initgraph/
 * node.c), so the output is the whole story in order: "open FILE", the constructors' "+NAME",
 * "exit", the destructors' "-NAME". Exit status 1 (and the loader's message on stderr) when an
 * open fails.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(const char *a, const char *b)
{
    char line[4200];
    int n = snprintf(line, sizeof line, "%s%s\n", a, b);
    if (n > 0 && (size_t)n < sizeof line) {
        ssize_t r = write(1, line, (size_t)n);
        (void)r;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "glibc") != 0 && strcmp(argv[1], "plugin") != 0)) {
        fprintf(stderr, "usage: initgraph_host glibc|plugin DIR FILE...\n");
        return 2;
    }
    int glibc = strcmp(argv[1], "glibc") == 0;
    for (int i = 3; i < argc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], argv[i]);
        say("open ", argv[i]);
        plugin_error err;
        if (glibc ? dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL : plugin_open(path, &err) == NULL) {
            fprintf(stderr, "%s\n", glibc ? dlerror() : err.message);
            return 1;
        }
    }
    say("exit", "");
    return 0;
}
