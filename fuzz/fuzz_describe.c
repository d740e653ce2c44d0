/*
 * fuzz_describe.c — libFuzzer target: untrusted bytes through what `plugin info` and
 * `plugin symbols` read, for both formats and every CPU (nothing is loaded or mapped for use).
 *
 * One input goes through:
 *   the CLI's own commands (tools/inspect_elf.c, tools/inspect_macho.c, chosen by the magic as
 *   tools/plugin.c chooses): info and symbols, text and JSON, and the symbol-type questions of
 *   `plugin call` — over the input as a file (a memfd, reached as /proc/self/fd/N), so the
 *   readers' file path (preads, the first-4-KiB head) runs too. Their output goes to /dev/null
 *   (formatted all the same: the printers run on hostile names);
 *   the readers over memory: elf_describe_memory (every relocation table walked, every export's
 *   version read) and macho_describe (every slice, fixups counted, exports listed), each
 *   failure checked for its error message.
 * The other CPU's objects are described, not refused, so they reach the readers' tables here.
 * Oracle, besides the sanitizers: a failed reader says why. Run with -close_fd_mask=3 (make
 * fuzz does) to keep the CLI's error lines off the terminal.
 */
#include "../tools/inspect_elf.h"
#include "../tools/inspect_macho.h"
#include "elf/elf.h"
#include "fuzz_open.h"
#include "macho/macho_describe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char memfd_path[64];

/* The input as a file: one memfd, rewritten for each input. stdout goes to /dev/null (opened
 * first, so that the memfd never takes the place of a closed descriptor 1). */
static const char *as_file(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0 && nul != STDOUT_FILENO)
            dup2(nul, STDOUT_FILENO);
        memfd = memfd_create("fuzz-describe", 0);
        if (memfd < 0)
            abort();
        snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    return memfd_path;
}

/* The CLI: what `plugin info`, `plugin symbols` (text and JSON) and `plugin call`'s type check
 * do with the file. */
static void cli_commands(const char *path)
{
    bool macho = inspect_is_macho(path);
    for (int json = 0; json < 2; json++) {
        if (macho)
            inspect_macho_info(path, json), inspect_macho_symbols(path, json);
        else
            inspect_info(path, json), inspect_symbols(path, json);
    }
    if (macho)
        inspect_macho_is_variable(path, "seed_value");
    else
        inspect_symbol_type(path, "seed_value");
    fflush(stdout);
}

static int count(void *ctx, const struct elf_reloc *r)
{
    *(uint64_t *)ctx += r->type;
    return 0;
}

/* The ELF reader over memory: the described file, its relocation tables, its exports. */
static void describe_elf(const uint8_t *data, size_t size)
{
    if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
        return;
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { .err = &err };
    struct image *im = elf_describe_memory(data, size, "fuzz-input", &d);
    if (!im) {
        fuzz_check_failure(&err, "elf_describe_memory");
        return;
    }
    const struct elf_object *o = elf_of(im);
    uint64_t sum = 0;
    bool hidden;
    if (elf_walk_relocs(im, ARCH_NO_RELATIVE, count, &sum, &d) != 0)
        fuzz_check_failure(&err, "elf_walk_relocs");
    for (uint32_t i = 1; o->symtab && i < o->nsyms; i++)
        if (elf_symbol_exported(&o->symtab[i]) && elf_str(o, o->symtab[i].st_name))
            sum += elf_symbol_version(o, i, &hidden) != NULL;
    elf_describe_free(im);
}

/* The Mach-O reader over memory: every slice described, or a failure that says why. */
static void describe_macho(const uint8_t *data, size_t size)
{
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { .err = &err };
    struct source s;
    struct macho_description desc = { 0 };
    source_open_memory(&s, data, size, "fuzz-input");
    if (macho_sniff(&s) && macho_describe(&desc, &s, &d) != 0)
        fuzz_check_failure(&err, "macho_describe");
    macho_description_free(&desc);
    source_close(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_commands(as_file(data, size));
    describe_elf(data, size);
    describe_macho(data, size);
    return 0;
}
