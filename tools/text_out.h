/*
 * text_out.h — writing strings that come from untrusted files: to a terminal (control characters
 * escaped) or into JSON (always valid, whatever bytes the file holds), and the one way every
 * command reports a failure (a line on stderr, or with --json a JSON object on stdout). Shared by
 * every command of the `plugin` tool; docs/cli-json.md gives the JSON of each.
 */
#ifndef PLUGIN_TOOLS_TEXT_OUT_H
#define PLUGIN_TOOLS_TEXT_OUT_H

#include <plugin.h>

#include <stdbool.h>

/* A string from the file, for a terminal: control characters are shown as \xNN. */
void put_text(const char *s);

/* A JSON string (null for NULL). Quotes and backslashes are escaped, control characters (and
 * DEL) written as \u00NN; bytes that are not part of valid UTF-8 are written as \u00NN too, so
 * the byte's value survives (a reader sees the Latin-1 character of that value): the output is
 * always valid JSON and valid UTF-8, and no two different names print the same. */
void put_json(const char *s);

/* How failures are reported from now on: false (the default) one line on stderr, true one JSON
 * object {"error": {"code": NAME, "number": N, "message": TEXT}} on stdout (--json). */
void out_json_errors(bool on);
/* Report a failure: message is the loader's one line ("plugin: FILE: cause"), printed as it is. */
void out_error(enum plugin_errc code, const char *message);
/* The same with a message made like printf's. */
void out_errorf(enum plugin_errc code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The name of an error code, as the JSON reports give it: "PLUGIN_ERR_FORMAT", ... */
const char *out_code_name(enum plugin_errc code);

#endif /* PLUGIN_TOOLS_TEXT_OUT_H */
