/*
 * test_initorder.c — initializer and finalizer order against glibc's, on generated graphs.
 *
 * fixtures/initgraph/gen.c (run by mk/tests.mk with a fixed seed) makes hand-made graphs
 * (chains, diamonds, reconverging and shared dependencies, cycles through the plugin and
 * elsewhere, an object that needs itself, objects without constructors or destructors, several
 * opens in a row, a dependency opened itself afterwards) and random ones, one shared object per
 * node, and a plan per graph: the objects to open, in order. Each plan runs twice in a child
 * process of its own ($(BUILD)/tests/initgraph_host): once with glibc's dlopen(RTLD_NOW |
 * RTLD_LOCAL), the reference, and once with plugin_open. The child prints "open FILE" before
 * each open and "exit" when main returns; each object prints "+NAME" from its constructor and
 * "-NAME" from its destructor. Both outputs must be equal, line for line: the same objects
 * initialized at each open, in the same order, and finalized at exit in the same order.
 *
 * In the aarch64 lane the child runs under qemu-user, and so does glibc's dlopen there.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPHS FIXTURE_DIR "/initgraph"
#define HOST BUILD_DIR "/tests/initgraph_host"

#define MAX_PLAN 8

struct plan {
    char dir[64], kind[16];
    char files[MAX_PLAN][32];
    int nfiles;
};

/* The lines of graphs.txt: "DIR KIND FILE...". Returns how many were read into p. */
static int read_plans(struct plan *p, int max)
{
    FILE *f = fopen(GRAPHS "/graphs.txt", "r");
    cr_assert_not_null(f, "no %s: the graphs were not generated", GRAPHS "/graphs.txt");
    char line[1024];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        char *save, *w = strtok_r(line, " \n", &save);
        if (!w)
            continue;
        snprintf(p[n].dir, sizeof p[n].dir, "%s", w);
        snprintf(p[n].kind, sizeof p[n].kind, "%s", (w = strtok_r(NULL, " \n", &save)) ? w : "");
        p[n].nfiles = 0;
        while (p[n].nfiles < MAX_PLAN && (w = strtok_r(NULL, " \n", &save)))
            snprintf(p[n].files[p[n].nfiles++], sizeof p[n].files[0], "%s", w);
        n++;
    }
    fclose(f);
    return n;
}

/* One child run of a plan: "glibc" or "plugin". */
static struct run run_plan(const struct plan *p, const char *how)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", GRAPHS, p->dir);
    char *argv[MAX_PLAN + 4] = { HOST, (char *)how, dir };
    for (int i = 0; i < p->nfiles; i++)
        argv[3 + i] = (char *)p->files[i];
    argv[3 + p->nfiles] = NULL;
    return run_program(argv);
}

/* Run every plan of this kind whose index is select modulo step, both ways; each must match
 * glibc. Returns how many were compared. */
static int compare_plans(const char *kind, int select, int step)
{
    static struct plan plans[256];
    int n = read_plans(plans, 256), compared = 0, with_output = 0;
    for (int i = 0, k = 0; i < n; i++) {
        if (strcmp(plans[i].kind, kind) != 0 || k++ % step != select)
            continue;
        struct run want = run_plan(&plans[i], "glibc"), got = run_plan(&plans[i], "plugin");
        cr_expect_eq(want.code, 0, "%s: glibc's dlopen failed: %s", plans[i].dir, want.err);
        cr_expect_eq(got.code, 0, "%s: plugin_open failed: %s", plans[i].dir, got.err);
        cr_expect_str_eq(got.out, want.out, "%s: the order differs from glibc's\n-- plugin_open:\n%s-- glibc:\n%s",
                         plans[i].dir, got.out, want.out);
        with_output += strchr(want.out, '+') != NULL && strchr(want.out, '-') != NULL;
        compared++;
        free(want.out), free(want.err), free(got.out), free(got.err);
    }
    cr_expect_eq(with_output, compared, "a plan ran no constructor or no destructor under glibc");
    return compared;
}

/* The example, libbrotlienc's shape: n0 needs n1 then n2, which need nothing. glibc
 * initializes the later sibling first, and finalizes in the opposite order here. */
Test(initorder, siblings_in_glibc_order)
{
    struct plan p = { "h_siblings", "hand", { "libn0.so" }, 1 };
    const char *want = "open libn0.so\n+n2\n+n1\n+n0\nexit\n-n0\n-n1\n-n2\n";
    struct run glibc = run_plan(&p, "glibc"), ours = run_plan(&p, "plugin");
    cr_assert_str_eq(glibc.out, want, "glibc itself no longer gives this order:\n%s", glibc.out);
    cr_assert_str_eq(ours.out, want);
}

/* The order is in the trace: one "init order k/n: PATH" line per object, before its own. */
Test(initorder, trace_says_the_order)
{
    struct run r = run_program((char *[]){ PLUGIN_CLI, "load", "--trace", GRAPHS "/h_siblings/libn0.so", NULL });
    cr_assert_eq(r.code, 0, "%s", r.err);
    const char *a = strstr(r.out, " ms] init order 1/3: " GRAPHS "/h_siblings/libn2.so\n");
    const char *b = strstr(r.out, " ms] init order 2/3: " GRAPHS "/h_siblings/libn1.so\n");
    const char *c = strstr(r.out, " ms] init order 3/3: " GRAPHS "/h_siblings/libn0.so\n");
    cr_assert(a && b && c && a < b && b < c, "no init order lines, or out of order:\n%s", r.out);
}

Test(initorder, hand_made_graphs_match_glibc)
{
    cr_assert_geq(compare_plans("hand", 0, 1), 16, "fewer hand-made graphs than gen.c makes");
}

/* The random graphs in two halves, which Criterion can run side by side. */
Test(initorder, random_graphs_match_glibc_first_half)
{
    cr_assert_geq(compare_plans("random", 0, 2), 20, "fewer random graphs than mk/tests.mk asks for");
}

Test(initorder, random_graphs_match_glibc_second_half)
{
    cr_assert_geq(compare_plans("random", 1, 2), 20, "fewer random graphs than mk/tests.mk asks for");
}
