/*
 * text_out.h — writing strings that come from untrusted files: to a terminal (control characters
 * escaped) or into JSON (always valid, whatever bytes the file holds). Shared by the ELF and
 * Mach-O reports of `plugin info` / `plugin symbols`.
 */
#ifndef PLUGIN_TOOLS_TEXT_OUT_H
#define PLUGIN_TOOLS_TEXT_OUT_H

/* A string from the file, for a terminal: control characters are shown as \xNN. */
void put_text(const char *s);

/* A JSON string (null for NULL). Bytes that are not UTF-8 are written as \u00NN (Latin-1). */
void put_json(const char *s);

#endif /* PLUGIN_TOOLS_TEXT_OUT_H */
