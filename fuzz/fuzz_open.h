/*
 * fuzz_open.h — what the loading targets (fuzz_elf.c, fuzz_macho.c) share: one input opened
 * through the public API as a memory image with PLUGIN_NO_RUN (so no initializer and no IFUNC
 * resolver of the input ever runs), with a resolve callback and a trace sink, then looked at the
 * way a host would look at a plugin: lookups, versioned lookups, plugin_addr_info.
 */
#ifndef FUZZ_OPEN_H
#define FUZZ_OPEN_H

#include "core/internal.h"

#include <plugin.h>
#include <stddef.h>
#include <stdint.h>

/* A failed step must have said why: a code and a one-line, terminated message. Aborts (a
 * finding) otherwise. */
void fuzz_check_failure(const plugin_error *err, const char *step);

/* plugin_open_memory of the input with PLUGIN_NO_RUN, the resolve callback and the trace sink.
 * NULL when refused (the refusal checked by fuzz_check_failure). */
plugin *fuzz_open(const uint8_t *data, size_t size);

/* name looked up every way the API offers: plugin_lookup without and with an error (the
 * handle's table, then the front end), plugin_lookup_version with version (may be NULL), and
 * plugin_addr_info on what was found. */
void fuzz_lookup(plugin *p, const char *name, const char *version);

/* plugin_addr_info on addresses inside every segment of the loaded image (each must be found,
 * in this image), and on one just outside its reservation. */
void fuzz_addr_info(plugin *p);

/* FUZZ_VERBOSE=1 in the environment: print each input's outcome (to triage a corpus). */
extern int fuzz_verbose;

#endif
