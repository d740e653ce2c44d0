/*
 * trace.c — trace events: built, timed and delivered to the caller's callback and to PLUGIN_DEBUG.
 *
 * The loader says what it does through diag_trace and diag_trace_ev (internal.h), which build
 * nothing unless the event's category is traced (struct diag's want: every category when the
 * open has a trace callback, plus those PLUGIN_DEBUG names). An event that is traced gets its
 * text (the human-readable line), its time since the open began (CLOCK_MONOTONIC, read only
 * then) and goes to the callback, and to stderr as "<pid>:\t<text>" when PLUGIN_DEBUG asks for
 * its category — the way glibc's LD_DEBUG prints. plugin.h documents the events and the
 * variable; this file is the only one that reads PLUGIN_DEBUG or writes to stderr.
 */
#include "core/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- PLUGIN_DEBUG ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    unsigned mask;
    const char *help;
} categories[] = {
    { "files", TRACE_FILES, "objects found, searched for, loaded and mapped; dependencies, versions" },
    { "bindings", TRACE_BINDINGS, "each symbol bound: referencing object, symbol, defining object" },
    { "reloc", TRACE_RELOC, "relocations applied per type, IFUNC resolvers, RELRO" },
    { "init", TRACE_INIT, "initializer order and each initializer called" },
    { "all", TRACE_ALL, "all previous categories combined" },
    { "help", 0, "print this list (the program goes on)" },
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

/* The categories a PLUGIN_DEBUG value names (words separated by ',' or ':'; unknown words are
 * ignored); *help is set when one of them is "help". */
static unsigned parse_debug(const char *value, bool *help)
{
    unsigned mask = 0;
    *help = false;
    while (value && *value) {
        size_t len = strcspn(value, ",:");
        for (size_t i = 0; i < NCATEGORIES; i++) {
            if (strlen(categories[i].name) != len || strncmp(value, categories[i].name, len) != 0)
                continue;
            mask |= categories[i].mask;
            *help |= categories[i].mask == 0;
        }
        value += len + (value[len] != '\0');
    }
    return mask;
}

/* Write all of buf to stderr (one write, unless the kernel takes less or a signal interrupts). */
static void write_stderr(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void print_help(void)
{
    char buf[1024];
    size_t n = (size_t)snprintf(buf, sizeof buf, "Valid categories for the PLUGIN_DEBUG environment variable "
                                "(separated by ',' or ':'):\n\n");
    for (size_t i = 0; i < NCATEGORIES && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "  %-10s %s\n", categories[i].name, categories[i].help);
    if (n < sizeof buf)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\nEach line is \"<pid>:\\t<text>\", on stderr.\n");
    write_stderr(buf, n < sizeof buf ? n : sizeof buf - 1);
}

/* PLUGIN_DEBUG's categories, read at the first call (and ignored in secure mode, policy.c rule
 * 7). Two threads opening at once may both read the variable; the compare-and-swap lets one of
 * them store it, and only that one prints the help. */
#define DEBUG_READ 0x100u           /* debug_state has been set (the categories are the low bits) */
static unsigned debug_state;

static unsigned debug_categories(void)
{
    unsigned state = __atomic_load_n(&debug_state, __ATOMIC_ACQUIRE);
    if (state)
        return state & TRACE_ALL;
    bool help = false;
    unsigned mask = policy_debug_env() ? parse_debug(getenv("PLUGIN_DEBUG"), &help) : 0;
    unsigned expected = 0;
    if (__atomic_compare_exchange_n(&debug_state, &expected, DEBUG_READ | mask, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE) && help)
        print_help();
    return mask;
}

/* ---- events ------------------------------------------------------------------------------ */

static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

void diag_init(struct diag *d, plugin_error *err, const struct plugin_options *opts)
{
    d->err = err;
    d->trace = opts ? opts->trace : NULL;
    d->trace_ctx = opts ? opts->trace_ctx : NULL;
    d->want = (d->trace ? TRACE_ALL : 0) | debug_categories();
    d->t0 = d->want ? now_ns() : 0;
}

/* Deliver a finished event: to the callback (every category), and to stderr as LD_DEBUG prints
 * (the pid right-aligned in ten columns, a colon, a tab, the text) for PLUGIN_DEBUG's. */
static void deliver(struct diag *d, unsigned cat, struct plugin_trace_event *ev)
{
    ev->ns = now_ns() - d->t0;
    if (d->trace)
        d->trace(d->trace_ctx, ev);
    if (cat & debug_categories()) {
        char line[600];
        int n = snprintf(line, sizeof line, "%10ld:\t%s\n", (long)getpid(), ev->text);
        if (n >= (int)sizeof line) {            /* cut: still one line, ending with its newline */
            n = (int)sizeof line - 1;
            line[n - 1] = '\n';
        }
        if (n > 0)
            write_stderr(line, (size_t)n);
    }
}

void diag_event(struct diag *d, unsigned cat, struct plugin_trace_event ev, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ev.text = text;
    deliver(d, cat, &ev);
}

void diag_trace_failure(struct diag *d, const char *path, const plugin_error *err)
{
    if (!d->want || !err)
        return;
    char text[600];
    snprintf(text, sizeof text, "open failed (%s): %s", plugin_strerror(err->code), err->message);
    struct plugin_trace_event ev = { .kind = PLUGIN_TRACE_FAILURE, .object = path, .text = text,
                                     .failure = { err->code, err->message } };
    deliver(d, TRACE_ALL, &ev);
}

PLUGIN_API const char *plugin_trace_via_name(enum plugin_trace_via via)
{
    switch (via) {
    case PLUGIN_VIA_PATH:            return "path";
    case PLUGIN_VIA_MEMORY:          return "memory";
    case PLUGIN_VIA_LOADED:          return "already loaded";
    case PLUGIN_VIA_RPATH:           return "RPATH";
    case PLUGIN_VIA_LD_LIBRARY_PATH: return "LD_LIBRARY_PATH";
    case PLUGIN_VIA_SEARCH_PATHS:    return "search_paths";
    case PLUGIN_VIA_RUNPATH:         return "RUNPATH";
    case PLUGIN_VIA_CACHE:           return "ld.so cache";
    case PLUGIN_VIA_SYSTEM_DIR:      return "system directory";
    case PLUGIN_VIA_LOADER_PATH:     return "loader path";
    case PLUGIN_VIA_HOST:            return "host";
    }
    return "unknown";
}

PLUGIN_API const char *plugin_trace_kind_name(enum plugin_trace_kind kind)
{
    switch (kind) {
    case PLUGIN_TRACE_OTHER:      return "other";
    case PLUGIN_TRACE_FOUND:      return "found";
    case PLUGIN_TRACE_SEGMENT:    return "segment";
    case PLUGIN_TRACE_DEPENDENCY: return "dependency";
    case PLUGIN_TRACE_RELOCS:     return "relocs";
    case PLUGIN_TRACE_BIND:       return "bind";
    case PLUGIN_TRACE_INIT:       return "init";
    case PLUGIN_TRACE_FAILURE:    return "failure";
    }
    return "other";
}
