/*
 * fuzz_elf.c — libFuzzer target: untrusted bytes loaded as an ELF plugin, through the public API.
 *
 * One input is one memory image, opened by plugin_open_memory with PLUGIN_NO_RUN (fuzz_open.c):
 * header and program-header checks, mapping, PT_DYNAMIC decoding (strings, symbols, hashes,
 * versions), dependencies (DT_NEEDED searched and loaded as for any plugin, the ld.so cache
 * included), binding (the resolve callback, the global scope, the image itself; symbol versions
 * checked), TLS, RELRO, publication (registry, debuggers' list, unwind tables, unique symbols)
 * and the initializer order — but no initializer, and no IFUNC resolver of the input (refused
 * under PLUGIN_NO_RUN). Then, on a loaded image:
 *   every exported name (the first MAX_LOOKUPS of .dynsym) looked up by plugin_lookup (the
 *   handle's export table, then the front end), with its version by plugin_lookup_version, and
 *   with a version no object has; plugin_addr_info on each answer and on every segment.
 * Oracle, besides the sanitizers: a failure says why (a code and a one-line message), the two
 * ways of asking plugin_lookup agree, every segment is found by plugin_addr_info.
 * The readers behind `plugin info` / `plugin symbols` have their own target (fuzz_describe.c);
 * Mach-O loading too (fuzz_macho.c). FUZZ_VERBOSE=1 prints each input's outcome.
 * Build and run: make fuzz FUZZ_SECONDS=60 (mk/extra.mk).
 */
#include "elf/elf.h"
#include "fuzz_open.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_LOOKUPS = 64 };

/* The exported names of an ELF image, each with its version (if any). */
static void elf_lookups(plugin *p)
{
    const struct image *im = (const struct image *)p;
    const struct elf_object *o = im->fmt == &elf_format ? elf_of(im) : NULL;
    for (uint32_t i = 1; o && o->symtab && i < o->nsyms && i <= MAX_LOOKUPS; i++) {
        const char *name = elf_str(o, o->symtab[i].st_name);
        bool hidden;
        if (name && name[0] && elf_symbol_exported(&o->symtab[i]))
            fuzz_lookup(p, name, elf_symbol_version(o, i, &hidden));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plugin *p = fuzz_open(data, size);
    if (!p)
        return 0;
    elf_lookups(p);
    fuzz_addr_info(p);
    return 0;
}
