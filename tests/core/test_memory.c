/*
 * test_memory.c — plugin_open_memory: loading an image from a buffer.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

Test(memory, loads_a_fixture_from_a_buffer)
{
    size_t size;
    char *image = read_file(fixture("basic.so"), &size);
    plugin_error err;
    plugin *m = plugin_open_memory(image, size, "basic-from-memory", NULL, &err);
    cr_assert_not_null(m, "code %d: %s", err.code, err.message);
    cr_assert_eq(err.code, PLUGIN_OK);
    memset(image, 0xcc, size);          /* the image was copied: the buffer is ours again */
    free(image);

    cr_assert_str_eq(plugin_path(m), "basic-from-memory");
    int *v = must_lookup(m, "V");
    int (*f)(void) = (int (*)(void))must_lookup(m, "F");
    *v = 7;
    cr_assert_eq(f(), 73);

    /* The file is another object; each has its own V. */
    plugin *p = open_fixture("basic.so");
    cr_assert_neq(p, m);
    int *pv = must_lookup(p, "V");
    int (*pf)(void) = (int (*)(void))must_lookup(p, "F");
    cr_assert_neq(pv, v);
    cr_assert_neq((void *)pf, (void *)f);
    *pv = 2;
    cr_assert_eq(pf(), 23);
    cr_assert_eq(f(), 73);

    /* Images are never merged: a second load is a second object. */
    image = read_file(fixture("basic.so"), &size);
    plugin *m2 = plugin_open_memory(image, size, "basic-from-memory", NULL, &err);
    cr_assert_not_null(m2, "%s", err.message);
    cr_assert_neq(m2, m);
    cr_assert_neq(must_lookup(m2, "V"), (void *)v);
    cr_assert_eq(*(int *)must_lookup(m2, "V"), 1);
}

Test(memory, initializers_run_once_per_image)
{
    size_t size;
    char *image = read_file(fixture("counter.so"), &size);
    plugin *a = plugin_open_memory(image, size, "counter-a", NULL, NULL);
    plugin *b = plugin_open_memory(image, size, "counter-b", NULL, NULL);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_eq(*(int *)must_lookup(a, "init_count"), 1);
    cr_assert_eq(*(int *)must_lookup(b, "init_count"), 1);
    cr_assert_eq(((int (*)(void))must_lookup(a, "get_value"))(), 42);
}

/* A name with '/' gives $ORIGIN: the sibling is found next to that name. */
Test(memory, origin_from_the_name)
{
    const char *path = fixture("origin/origin_plugin.so");
    size_t size;
    char *image = read_file(path, &size);
    plugin_error err;
    plugin *m = plugin_open_memory(image, size, path, NULL, &err);
    cr_assert_not_null(m, "code %d: %s", err.code, err.message);
    cr_assert_eq(((int (*)(int))must_lookup(m, "origin_value"))(4), 13);
    cr_assert_str_eq(((const char *(*)(void))must_lookup(m, "origin_order"))(), "SP");
}
