/*
 * trace_out.h — the loader's trace events (struct plugin_trace_event, plugin.h) as `plugin load
 * --trace` prints them: one "trace: " line each, or with --json one JSON object per line.
 */
#ifndef PLUGIN_TOOLS_TRACE_OUT_H
#define PLUGIN_TOOLS_TRACE_OUT_H

#include <plugin.h>

/* "trace: [   0.123 ms] TEXT": the time since the open began, then the event's line. */
void print_trace_text(const struct plugin_trace_event *ev);

/* {"kind": ..., "ns": ..., "object": ..., "text": ..., and the fields of its kind} on one line. */
void print_trace_json(const struct plugin_trace_event *ev);

#endif /* PLUGIN_TOOLS_TRACE_OUT_H */
