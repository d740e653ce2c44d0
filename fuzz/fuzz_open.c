/*
 * fuzz_open.c — the loading targets' common part (fuzz_open.h).
 *
 * Every input is opened with plugin_open_memory and PLUGIN_NO_RUN: everything a real open does
 * runs — header checks, mapping, dependency search and loading (the DT_NEEDED names of the input
 * are searched as for any plugin: the process's objects, the ld.so cache, the system
 * directories; a dependency found on disk is loaded from its file), symbol binding through the
 * resolve callback and the global scope, versions, protection, publication in the registry, the
 * debuggers' list, unwind-table registration, the initializer order — except the input's code.
 * A memory image is never merged with another, and handles are never freed: an input that loads
 * stays in the process (its mappings and registry entry), as with any plugin. Most mutated
 * inputs are refused, so this stays small over a campaign.
 *
 * The resolve callback answers names starting with "fz_" with the address of a buffer of the
 * fuzzer (a host symbol the seeds ask for) and lets everything else fall through.
 */
#include "fuzz_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_verbose = -1;

static uint64_t fz_buffer[64];
static size_t resolve_calls, traced;

static void *fuzz_resolve(void *ctx, const char *name, const char *version)
{
    (void)ctx;
    resolve_calls += version != NULL;
    return strncmp(name, "fz_", 3) == 0 ? (void *)fz_buffer : NULL;
}

/* Trace events are built (so the trace code runs on hostile names), read and dropped. */
static void trace_sink(void *ctx, const struct plugin_trace_event *ev)
{
    *(size_t *)ctx += strlen(ev->text);             /* every event's text is read */
    if (ev->object)
        *(size_t *)ctx += strlen(ev->object);
}

void fuzz_check_failure(const plugin_error *err, const char *step)
{
    if (err->code != PLUGIN_OK && err->message[0] && memchr(err->message, '\0', sizeof err->message))
        return;
    fprintf(stderr, "fuzz: %s failed without an error (code %d, message \"%.100s\")\n", step, (int)err->code,
            err->message);
    abort();
}

plugin *fuzz_open(const uint8_t *data, size_t size)
{
    if (fuzz_verbose < 0)
        fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
    struct plugin_options opts = {
        .resolve = fuzz_resolve, .flags = PLUGIN_NO_RUN | PLUGIN_NO_LD_LIBRARY_PATH,
        .trace = trace_sink, .trace_ctx = &traced,
    };
    plugin_error err;
    plugin *p = plugin_open_memory(data, size, "/fuzz/input", &opts, &err);
    if (!p)
        fuzz_check_failure(&err, "plugin_open_memory");
    else if (err.code != PLUGIN_OK || err.message[0])
        abort();                                    /* success must say so */
    if (fuzz_verbose)
        fprintf(stderr, "fuzz: %s\n", p ? "loaded" : err.message);
    return p;
}

/* What plugin_addr_info says of an address the lookup returned: inside one of our images, the
 * image's name and base are set. */
static void check_addr(const void *addr)
{
    struct plugin_addr_info info;
    if (plugin_addr_info(addr, &info) && (!info.path || !info.base))
        abort();
}

/* A lookup's error: a failure says why; a success (NULL too: a symbol whose value is 0, as the
 * absolute symbols naming versions are) leaves the message empty. */
static void check_answer(const plugin_error *err, const char *step)
{
    if (err->code != PLUGIN_OK)
        fuzz_check_failure(err, step);
    else if (err->message[0])
        abort();
}

void fuzz_lookup(plugin *p, const char *name, const char *version)
{
    plugin_error err;
    void *a = plugin_lookup(p, name, NULL);         /* the table's fast path */
    void *b = plugin_lookup(p, name, &err);
    if (a != b)
        abort();                                    /* one answer, whichever way it is asked */
    check_answer(&err, "plugin_lookup");
    if (b)
        check_addr(b);
    if (version) {
        plugin_lookup_version(p, name, version, &err);
        check_answer(&err, "plugin_lookup_version");
    }
    plugin_lookup_version(p, name, "FUZZ_NO_SUCH_VERSION", &err);
    check_answer(&err, "plugin_lookup_version");
}

void fuzz_addr_info(plugin *p)
{
    const struct image *im = (const struct image *)p;
    struct plugin_addr_info info;
    for (size_t i = 0; i < im->nsegs; i++) {
        const struct segment *sg = &im->segs[i];
        if (sg->memsz == 0)
            continue;
        uintptr_t lo = im->bias + (uintptr_t)sg->vaddr, hi = lo + (uintptr_t)sg->memsz - 1;
        for (int k = 0; k < 2; k++)
            if (plugin_addr_info((const void *)(k ? hi : lo), &info) != 1 || info.path != plugin_path(p)) {
                fprintf(stderr, "fuzz: plugin_addr_info(0x%lx) does not find segment %zu of the image\n",
                        (unsigned long)(k ? hi : lo), i);
                abort();
            }
    }
    plugin_addr_info((const char *)im->map_base + im->map_len, &info);
    if (plugin_lookup(p, "fuzz_no_such_symbol", NULL))
        abort();
}
