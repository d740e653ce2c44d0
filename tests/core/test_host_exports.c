/*
 * test_host_exports.c — exports a host registers (plugin_register_exports), in this dynamic test
 * process: a plugin's imports bind to them without a callback; a malformed table is refused
 * whole; the callback still comes first. And a dynamic host never reads its own .symtab (the
 * -static host's last resort: tests/core/test_static.c). Each test runs in its own process, so
 * registrations do not leak between tests.
 */
#include "helpers.h"
#include "plugin.h"

#include <criterion/criterion.h>

#include <string.h>

static int test_add_calls, callback_calls;
static char test_notes[32];

static int test_add(int a, int b)
{
    test_add_calls++;
    return a + b;
}

static void test_note(const char *what)
{
    strncat(test_notes, what, sizeof test_notes - strlen(test_notes) - 1);
}

static int callback_add(int a, int b)
{
    callback_calls++;
    return a - b;
}

static void *resolve_add(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    (void)version;
    return strcmp(name, "host_add") == 0 ? (void *)callback_add : NULL;
}

static const struct plugin_export hostcall_exports[] = {
    { "host_add", (void *)test_add },
    { "host_note", (void *)test_note },
};

Test(host_exports, bind_a_plugin_without_a_callback)
{
    plugin_error err;
    cr_assert_null(plugin_open(fixture("hostcall.so"), &err), "hostcall.so loaded with nothing to bind to");
    cr_assert_eq(err.code, PLUGIN_ERR_UNDEFINED, "%s", err.message);
    cr_assert_eq(plugin_register_exports(hostcall_exports, 2, &err), 0, "%s", err.message);
    cr_assert_eq(err.code, PLUGIN_OK);
    plugin *p = plugin_open(fixture("hostcall.so"), &err);
    cr_assert_not_null(p, "%s", err.message);
    int (*compute)(int) = (int (*)(int))plugin_lookup(p, "compute", &err);
    cr_assert_not_null(compute, "%s", err.message);
    cr_assert_eq(compute(5), 30);
    cr_assert_eq(test_add_calls, 1);
    cr_assert_str_eq(test_notes, "init");
}

Test(host_exports, come_after_the_resolve_callback)
{
    plugin_error err;
    cr_assert_eq(plugin_register_exports(hostcall_exports, 2, &err), 0, "%s", err.message);
    struct plugin_options opts = { .resolve = resolve_add };
    plugin *p = plugin_open_with(fixture("hostcall.so"), &opts, &err);
    cr_assert_not_null(p, "%s", err.message);
    int (*compute)(int) = (int (*)(int))plugin_lookup(p, "compute", &err);
    cr_assert_eq(compute(5), -10);                  /* (5 - 10) * 2: the callback's host_add */
    cr_assert_eq(callback_calls, 1);
    cr_assert_eq(test_add_calls, 0);
    cr_assert_str_eq(test_notes, "init");           /* host_note: the export */
}

Test(host_exports, malformed_tables_are_refused_whole)
{
    plugin_error err;
    const struct plugin_export no_addr[] = { { "host_add", (void *)test_add }, { "host_note", NULL } };
    cr_assert_eq(plugin_register_exports(no_addr, 2, &err), -1);
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT);
    cr_assert_str_eq(err.message, "plugin: plugin_register_exports: entry 1 (host_note) has a NULL address");
    const struct plugin_export no_name[] = { { NULL, (void *)test_add } };
    cr_assert_eq(plugin_register_exports(no_name, 1, &err), -1);
    cr_assert_str_eq(err.message, "plugin: plugin_register_exports: entry 0 (no name) has no name");
    const struct plugin_export twice[] = { { "host_add", (void *)test_add }, { "host_add", (void *)callback_add } };
    cr_assert_eq(plugin_register_exports(twice, 2, &err), -1);
    cr_assert_str_eq(err.message, "plugin: plugin_register_exports: host_add is in the table twice, with two "
                                  "addresses (entries 0 and 1)");
    cr_assert_eq(plugin_register_exports(NULL, 3, &err), -1);
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT);
    /* Nothing of the refused tables was kept: hostcall.so still has no host_add. */
    const struct plugin_export note_only[] = { { "host_note", (void *)test_note } };
    cr_assert_eq(plugin_register_exports(note_only, 1, &err), 0, "%s", err.message);
    cr_assert_null(plugin_open(fixture("hostcall.so"), &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNDEFINED);
    cr_assert_not_null(strstr(err.message, "undefined symbol host_add"), "%s", err.message);
}

Test(host_exports, one_address_per_name_across_registrations)
{
    plugin_error err;
    cr_assert_eq(plugin_register_exports(hostcall_exports, 2, &err), 0, "%s", err.message);
    cr_assert_eq(plugin_register_exports(hostcall_exports, 2, &err), 0, "the same table again: %s", err.message);
    cr_assert_eq(plugin_register_exports(NULL, 0, &err), 0, "an empty table: %s", err.message);
    const struct plugin_export other[] = { { "host_add", (void *)callback_add } };
    cr_assert_eq(plugin_register_exports(other, 1, &err), -1);
    cr_assert_eq(err.code, PLUGIN_ERR_FORMAT);
    cr_assert_not_null(strstr(err.message, "host_add is already registered at "), "%s", err.message);
}

static char trace_seen[8192];

static void keep(void *ctx, const struct plugin_trace_event *ev)
{
    (void)ctx;
    const char *line = ev->text;
    strncat(trace_seen, line, sizeof trace_seen - strlen(trace_seen) - 2);
    strcat(trace_seen, "\n");
}

/* The test binary is dynamic (libc.so.6 in the process): an undefined import fails as before,
 * without a look at the executable's .symtab, which holds the test's own functions. */
Test(host_exports, a_dynamic_host_never_reads_its_own_symtab)
{
    plugin_error err;
    struct plugin_options opts = { .trace = keep };
    cr_assert_null(plugin_open_with(fixture("hostcall.so"), &opts, &err));
    cr_assert_eq(err.code, PLUGIN_ERR_UNDEFINED, "%s", err.message);
    cr_assert_not_null(strstr(trace_seen, "hostcall.so"), "trace:\n%s", trace_seen);
    cr_assert_null(strstr(trace_seen, "symbol table"), "trace:\n%s", trace_seen);
}
