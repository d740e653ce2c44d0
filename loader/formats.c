/*
 * formats.c — the one place that names the front ends: the core (core/) reaches each format only
 * through this table, and the front ends (elf/, macho/) know only the core. Adding a format is
 * adding its folder and one line here.
 */
#include "core/format.h"
#include "elf/elf.h"
#include "macho/macho.h"

const struct format *const loader_formats[] = { &elf_format, &macho_format, NULL };

/* On Linux the system loader's objects are ELF objects, listed by dl_iterate_phdr. */
const struct host_provider *const loader_host = &elf_host_provider;
