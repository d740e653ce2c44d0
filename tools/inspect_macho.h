/*
 * inspect_macho.h — `plugin info` and `plugin symbols` for Mach-O files (thin or universal, any
 * CPU, every slice), read without loading them. The counterpart of inspect_elf.h; plugin.c
 * chooses between the two by the file's magic.
 *
 * Both print their report to stdout, or one error line "plugin: FILE: cause" to stderr and
 * nothing to stdout, and return 0 on success, 1 when the file cannot be read or is malformed.
 */
#ifndef PLUGIN_TOOLS_INSPECT_MACHO_H
#define PLUGIN_TOOLS_INSPECT_MACHO_H

#include <stdbool.h>

/* The file starts with a Mach-O magic (thin MH_MAGIC_64 / 32-bit / big-endian, or fat). */
bool inspect_is_macho(const char *path);

/* `plugin info FILE [--json]`: per slice, the header, dylibs, rpaths, segments, load commands,
 * fixup format and counts, and the number of exports. */
int inspect_macho_info(const char *path, int json);

/* `plugin symbols FILE [--json]`: per slice, the exports of the trie sorted by C name, with
 * kind and address (an offset from the image base, which plugin_lookup adds the load address to). */
int inspect_macho_symbols(const char *path, int json);

/* For `plugin call`: path is a Mach-O file and name an export of its slice for this CPU that is a
 * variable (in a segment that is not executable, or thread-local). Prints nothing. */
bool inspect_macho_is_variable(const char *path, const char *name);

#endif /* PLUGIN_TOOLS_INSPECT_MACHO_H */
