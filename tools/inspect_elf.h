/*
 * inspect_elf.h — the read-only half of the `plugin` command: describe an ELF file without
 * loading it. Inspection is independent of the host CPU (an aarch64 object can be described on
 * x86-64); only `plugin load` and `plugin call` need the native CPU.
 *
 * Both functions print their report to stdout, or one error line "plugin: FILE: cause" to stderr
 * and nothing to stdout. They return 0 on success, 1 when the file cannot be read or is malformed.
 */
#ifndef PLUGIN_TOOLS_INSPECT_ELF_H
#define PLUGIN_TOOLS_INSPECT_ELF_H

/* `plugin info FILE [--json]`: header, dependencies, segments, relocation counts, exports. */
int inspect_info(const char *path, int json);

/* `plugin symbols FILE [--json]`: the exported symbols of .dynsym, sorted by name. */
int inspect_symbols(const char *path, int json);

/* The ELF symbol type (STT_FUNC, STT_OBJECT, ...) of the export name of path (its default
 * version), or -1 when it cannot be told (no .dynsym, no such export). Prints nothing. */
int inspect_symbol_type(const char *path, const char *name);

#endif /* PLUGIN_TOOLS_INSPECT_ELF_H */
