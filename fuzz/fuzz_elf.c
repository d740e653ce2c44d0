/*
 * fuzz_elf.c — libFuzzer target: untrusted bytes through the loader's parsing and relocation.
 *
 * One input is one memory image. It goes through the same steps as plugin_open_memory, minus
 * everything that would run code from the input or touch other files:
 *
 *   load_object          ELF header and program headers, reservation and mapping, PT_DYNAMIC
 *                        decoding (strings, symbols, hashes, versions), init/fini table checks;
 *   fmt->prepare, bind   every relocation or fixup, with undefined symbols resolved normally (the
 *   and bind_done        process's objects, then the image itself) but with IFUNC resolvers NOT
 *                        called: the image's arch is a copy of the native one whose call_ifunc
 *                        returns 0 (the arch module is pure data, so swapping it is allowed);
 *   vm_protect_image     RELRO read-only;
 *   plugin_lookup        a few lookups in the relocated image (the hash tables as relocation
 *                        left them).
 *   elf_describe_memory  what `plugin info` / `plugin symbols` read: the same reader over the
 *                        bytes as a file (any CPU), every relocation table walked and counted,
 *                        every exported symbol's name and version read.
 * Skipped: dependency loading (the scope is the image alone, no DT_NEEDED is followed),
 * initializers and finalizers (never called), the registry (the image is never published).
 * Finally image_free unmaps and frees everything. An input with a Mach-O magic is then also
 * described as `plugin info` / `plugin symbols` read it (macho_describe: every slice, any CPU,
 * fixups counted and exports listed by the same reader and walks).
 *
 * Oracle, besides the sanitizers: a step that fails must say why (an error code and a message).
 * FUZZ_ELF_VERBOSE=1 in the environment prints each input's outcome (to triage a corpus).
 * Build and run: make fuzz FUZZ_SECONDS=60 (mk/extra.mk).
 */
#include "core/format.h"
#include "elf/elf.h"
#include "macho/macho_describe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_LOOKUPS = 32 };

static struct arch fuzz_arch;           /* the native arch with IFUNC resolvers never called */
static bool verbose;

static uint64_t no_ifunc(uint64_t resolver)
{
    (void)resolver;
    return 0;
}

/* Trace lines are formatted (so the trace code runs on hostile names) and dropped. */
static void trace_sink(void *ctx, const char *line)
{
    *(size_t *)ctx += strlen(line);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_arch = *arch_native();
    fuzz_arch.call_ifunc = no_ifunc;
    verbose = getenv("FUZZ_ELF_VERBOSE") != NULL;
    return 0;
}

/* A failed step must leave a code and a one-line message behind. */
static void check_failure(const plugin_error *err, const char *step)
{
    if (err->code != PLUGIN_OK && err->message[0] && memchr(err->message, '\0', sizeof err->message))
        return;
    fprintf(stderr, "fuzz_elf: %s failed without an error (code %d, message \"%.100s\")\n", step,
            (int)err->code, err->message);
    abort();
}

/* Look up the first exported names of the image, and one that is missing, as plugin_lookup. */
static void lookups(struct image *im)
{
    plugin_error err;
    const struct elf_object *o = im->fmt == &elf_format ? elf_of(im) : NULL;
    for (uint32_t i = 1; o && o->symtab && i < o->nsyms && i <= MAX_LOOKUPS; i++) {
        const char *name = elf_str(o, o->symtab[i].st_name);
        if (name && name[0])
            plugin_lookup((plugin *)im, name, &err);
    }
    plugin_lookup((plugin *)im, "fuzz_elf_no_such_symbol", &err);
}

/* Relocate the image alone (no dependencies), then protect it and look symbols up. */
static void relocate(struct load *ld, struct image *im)
{
    struct image *scope[1] = { im };
    const char *failed = NULL;
    im->arch = &fuzz_arch;
    ld->scope = scope;
    ld->nscope = 1;
    void *state = NULL;
    int rc = im->fmt->prepare ? im->fmt->prepare(ld, im) : 0;
    rc = rc ? rc : im->fmt->bind(ld, im, &state);
    if (im->fmt->bind_done && im->fmt->bind_done(ld, state, rc == 0))
        rc = -1;
    if (rc != 0)
        failed = "bind";
    else if (vm_protect_image(im, ld->d) != 0)
        failed = "vm_protect_image";
    else
        lookups(im);
    if (failed)
        check_failure(ld->d->err, failed);
    if (verbose)
        fprintf(stderr, "fuzz_elf: %s\n", failed ? ld->d->err->message : "relocated");
    ld->scope = NULL;
    ld->nscope = 0;
}

static int count(void *ctx, const struct elf_reloc *r)
{
    *(uint64_t *)ctx += r->type;
    return 0;
}

/* What the CLI reads of an ELF input: the described file, its relocation tables, its exports. */
static void describe_elf(const uint8_t *data, size_t size)
{
    if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
        return;
    plugin_error err = { PLUGIN_OK, "" };
    struct diag d = { &err, NULL, NULL };
    struct image *im = elf_describe_memory(data, size, "fuzz-input", &d);
    if (!im) {
        check_failure(&err, "elf_describe_memory");
        return;
    }
    const struct elf_object *o = elf_of(im);
    uint64_t sum = 0;
    bool hidden;
    if (elf_walk_relocs(im, ARCH_NO_RELATIVE, count, &sum, &d) != 0)
        check_failure(&err, "elf_walk_relocs");
    for (uint32_t i = 1; o->symtab && i < o->nsyms; i++)
        if (elf_symbol_exported(&o->symtab[i]) && elf_str(o, o->symtab[i].st_name))
            sum += elf_symbol_version(o, i, &hidden) != NULL;
    if (verbose)
        fprintf(stderr, "fuzz_elf: described (%llu)\n", (unsigned long long)sum);
    elf_describe_free(im);
}

/* What the CLI reads of a Mach-O input: a failure must say why, like a failed load. */
static void describe_macho(struct source *s, struct diag *d)
{
    struct macho_description desc = { 0 };
    d->err->code = PLUGIN_OK;
    d->err->message[0] = '\0';
    if (macho_sniff(s) && macho_describe(&desc, s, d) != 0)
        check_failure(d->err, "macho_describe");
    macho_description_free(&desc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    describe_elf(data, size);
    plugin_error err = { PLUGIN_OK, "" };
    size_t traced = 0;
    struct diag d = { &err, trace_sink, &traced };
    if (host_refresh(&d) != 0)
        return 0;
    struct source s;
    source_open_memory(&s, data, size, "fuzz-input");
    struct load ld = { .d = &d, .opts = NULL, .static_host = false };
    struct image *im = load_object(&ld, &s, "fuzz-input", &d);
    if (!im && verbose)
        fprintf(stderr, "fuzz_elf: %s\n", err.message);
    if (!im)
        check_failure(&err, "load_object");
    else
        relocate(&ld, im);
    for (size_t i = ld.nimages; i-- > 0;)
        image_free(ld.images[i]);
    free(ld.images);
    describe_macho(&s, &d);
    source_close(&s);
    return 0;
}
