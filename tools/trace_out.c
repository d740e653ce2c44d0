/*
 * trace_out.c — trace events printed for `plugin load --trace` (and `plugin call --trace`).
 *
 * Text: the event's own line after "trace: " and the time since the open began, in
 * milliseconds. JSON (--trace --json): one object per line, written as the event happens, so a
 * reader can follow a long load; README.md ("The trace as JSON") gives the schema. Strings come
 * from the files being loaded (symbol and library names): put_text and put_json
 * (text_out.c) escape what a terminal or a JSON parser must not see raw.
 */
#include "trace_out.h"
#include "text_out.h"

#include <stdio.h>
#include <sys/mman.h>

void print_trace_text(const struct plugin_trace_event *ev)
{
    printf("trace: [%8.3f ms] ", (double)ev->ns / 1e6);
    put_text(ev->text);
    putchar('\n');
}

static void field_str(const char *key, const char *value)
{
    printf(", \"%s\": ", key);
    put_json(value);
}

static void field_num(const char *key, unsigned long long value)
{
    printf(", \"%s\": %llu", key, value);
}

static void field_addr(const char *key, unsigned long long value)
{
    printf(", \"%s\": \"0x%llx\"", key, value);
}

static void field_prot(int prot)
{
    printf(", \"prot\": \"%c%c%c\"", (prot & PROT_READ) ? 'r' : '-', (prot & PROT_WRITE) ? 'w' : '-',
           (prot & PROT_EXEC) ? 'x' : '-');
}

/* The fields only events of this kind have (plugin.h's table). */
static void kind_fields(const struct plugin_trace_event *ev)
{
    switch (ev->kind) {
    case PLUGIN_TRACE_FOUND:
        field_str("via", plugin_trace_via_name(ev->found.via));
        field_str("name", ev->found.name);
        break;
    case PLUGIN_TRACE_SEGMENT:
        field_addr("address", ev->segment.address);
        field_num("size", ev->segment.size);
        field_num("offset", ev->segment.offset);
        field_prot(ev->segment.prot);
        break;
    case PLUGIN_TRACE_DEPENDENCY:
        field_str("name", ev->dependency.name);
        field_str("result", ev->dependency.result);
        field_str("via", plugin_trace_via_name(ev->dependency.via));
        break;
    case PLUGIN_TRACE_RELOCS:
        field_str("type", ev->relocs.type);
        field_num("count", ev->relocs.count);
        break;
    case PLUGIN_TRACE_BIND:
        field_str("symbol", ev->bind.symbol);
        field_str("version", ev->bind.version);
        field_str("definer", ev->bind.definer);
        field_addr("value", ev->bind.value);
        break;
    case PLUGIN_TRACE_INIT:
        field_str("what", ev->init.what);
        field_num("index", ev->init.index);
        field_addr("address", ev->init.address);
        break;
    case PLUGIN_TRACE_FAILURE:
        field_num("code", (unsigned long long)ev->failure.code);
        field_str("error", plugin_strerror(ev->failure.code));
        field_str("message", ev->failure.message);
        break;
    case PLUGIN_TRACE_OTHER:
        break;
    }
}

void print_trace_json(const struct plugin_trace_event *ev)
{
    fputs("{\"kind\": ", stdout);
    put_json(plugin_trace_kind_name(ev->kind));
    field_num("ns", ev->ns);
    field_str("object", ev->object);
    field_str("text", ev->text);
    kind_fields(ev);
    fputs("}\n", stdout);
}
