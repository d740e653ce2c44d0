/*
 * plugin.c — the `plugin` command: look inside ELF shared objects and Mach-O dylibs and bundles,
 * and load them into this process with libplugin (no libdl), the way a program that uses the
 * library would.
 *
 *   plugin info FILE [--json]          what the file is (CPU, dependencies, segments, ...)
 *   plugin symbols FILE [--json]       what it exports (what plugin_lookup can find)
 *   plugin deps FILE [--json]          where each dependency would come from, and why
 *   plugin load FILE [--trace] [--json] [--no-run]  load it; --trace prints every step of the
 *                                      loader (--json: as JSON lines), --no-run runs none of its
 *                                      code (PLUGIN_NO_RUN)
 *   plugin call FILE SYMBOL [INT...] [--json]  load it and call SYMBOL(long, ...), print the result
 *
 * `info` and `symbols` only read the file (see inspect_elf.c, and inspect_macho.c for Mach-O
 * files, chosen by the file's magic), so they work on objects for any CPU. `deps` runs the
 * loader's dependency search without mapping anything (inspect_deps.c, core/plan.c). `load` and
 * `call` run the object's code in this process: only use them on trusted files (`load --no-run`
 * maps and binds without running any of it).
 *
 * Conventions: data goes to stdout, errors to stderr as "plugin: FILE: cause"; with --json a
 * failure is one JSON object {"error": {...}} on stdout instead (text_out.c; usage errors stay
 * text on stderr). docs/cli-json.md documents the JSON of every command.
 * Exit status: 0 success, 1 the file could not be inspected, loaded or called, 2 usage error.
 */
#include "inspect_deps.h"
#include "inspect_elf.h"
#include "inspect_macho.h"
#include "text_out.h"
#include "trace_out.h"

#include <plugin.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Static TLS for the plugins it loads whose own thread-locals are initial-exec (Go c-shared
 * libraries, libgomp, ...): about what glibc's dlopen keeps for them (1664 bytes). */
PLUGIN_STATIC_TLS_POOL(2048);

enum { OPT_JSON = 1, OPT_TRACE = 2, OPT_NO_RUN = 4 };

#define MAX_CALL_ARGS 6

/* A command line after parsing: the options that were given and the other words, in order. */
struct args {
    const char *pos[2 + MAX_CALL_ARGS];
    int npos;
    int json, trace, no_run, help;
};

struct command {
    const char *name;
    int (*run)(const struct args *a);
    unsigned options;           /* OPT_* this command accepts */
    int min_pos, max_pos;       /* how many words besides the options */
    const char *usage;          /* one line */
    const char *help;           /* the rest of `plugin COMMAND --help` */
};

static const char exit_codes[] =
    "exit status:\n"
    "  0  success\n"
    "  1  the file could not be read, inspected, loaded, or the symbol was not found\n"
    "  2  usage error (unknown command or option, wrong number of arguments, bad integer)\n";

/* ---- load and call ------------------------------------------------------------------------- */

/* The loader's trace callback: one line per event, printed as it happens (trace_out.c). */
static void print_trace(void *ctx, const struct plugin_trace_event *ev)
{
    (void)ctx;
    print_trace_text(ev);
}

static void print_trace_as_json(void *ctx, const struct plugin_trace_event *ev)
{
    (void)ctx;
    print_trace_json(ev);
}

/* Report a failed plugin_open or plugin_lookup as "plugin: FILE: cause". The loader's messages
 * usually name the file already; then they are printed as they are. */
static void report(const char *path, const plugin_error *err)
{
    const char *msg = err->message[0] ? err->message : plugin_strerror(err->code);
    if (strncmp(msg, "plugin: ", 8) == 0)
        msg += 8;
    if (strstr(msg, path))
        out_errorf(err->code, "plugin: %s", msg);
    else
        out_errorf(err->code, "plugin: %s: %s", path, msg);
}

/* trace: 0 none, 1 text lines, 2 JSON lines. */
static plugin *open_plugin(const char *path, int trace, int no_run)
{
    struct plugin_options opts = { .flags = no_run ? PLUGIN_NO_RUN : 0 };
    plugin_error err;
    if (trace) {
        setvbuf(stdout, NULL, _IOLBF, 0);   /* each trace line appears as soon as it is made */
        opts.trace = trace == 2 ? print_trace_as_json : print_trace;
    }
    plugin *p = plugin_open_with(path, &opts, &err);
    if (!p)
        report(path, &err);
    return p;
}

/* --json: the outcome as the last JSON line, {"kind": "result", ...} (README.md has the schema). */
static void print_load_json(const char *path, const plugin *p, int no_run)
{
    fputs("{\"kind\": \"result\", \"loaded\": ", stdout);
    fputs(p ? "true, \"path\": " : "false, \"path\": ", stdout);
    put_json(p ? plugin_path(p) : path);
    if (p)
        printf(", \"handle\": \"%p\", \"run\": %s", (const void *)p, no_run ? "false" : "true");
    fputs("}\n", stdout);
}

static int cmd_load(const struct args *a)
{
    plugin *p = open_plugin(a->pos[0], a->trace ? 1 + a->json : 0, a->no_run);
    if (a->json)
        print_load_json(a->pos[0], p, a->no_run);
    if (!p)
        return EXIT_FAIL;
    if (!a->json)
        printf("loaded %s at handle %p%s\n", plugin_path(p), (void *)p, a->no_run ? " (nothing run)" : "");
    return EXIT_OK;
}

/* Parse a whole word as a long (decimal, 0x hex or 0 octal, as strtol with base 0). */
static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(s, &end, 0);
    if (end == s || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "plugin: call: \"%s\" is not an integer that fits a long\n", s);
        return -1;
    }
    return 0;
}

typedef long (*long_fn6)(long, long, long, long, long, long);

/* `call --json`: {"file": ..., "symbol": ..., "arguments": [...], "result": N}. */
static void print_call_json(const struct args *a, const long *v, long result)
{
    fputs("{\"file\": ", stdout);
    put_json(a->pos[0]);
    fputs(", \"symbol\": ", stdout);
    put_json(a->pos[1]);
    fputs(", \"arguments\": [", stdout);
    for (int i = 2; i < a->npos; i++)
        printf("%s%ld", i > 2 ? ", " : "", v[i - 2]);
    printf("], \"result\": %ld}\n", result);
}

static int cmd_call(const struct args *a)
{
    long v[MAX_CALL_ARGS] = { 0 };
    for (int i = 2; i < a->npos; i++)
        if (parse_long(a->pos[i], &v[i - 2]) != 0)
            return EXIT_USAGE;
    plugin *p = open_plugin(a->pos[0], a->trace, 0);
    if (!p)
        return EXIT_FAIL;
    plugin_error err;
    void *sym = plugin_lookup(p, a->pos[1], &err);
    if (!sym) {
        report(a->pos[0], &err);
        return EXIT_FAIL;
    }
    int type = inspect_symbol_type(a->pos[0], a->pos[1]);
    if (type == STT_OBJECT || type == STT_COMMON || type == STT_TLS ||
        inspect_macho_is_variable(a->pos[0], a->pos[1])) {
        out_errorf(PLUGIN_ERR_UNSUPPORTED, "plugin: %s: %s is a variable, not a function", a->pos[0], a->pos[1]);
        return EXIT_FAIL;
    }
    /* POSIX guarantees that a data pointer can carry a function's address; ISO C does not
     * define the cast, so copy the bits. The callee may take fewer than six arguments: in the
     * x86-64 and AArch64 calling conventions the extra registers are simply ignored. */
    long_fn6 fn;
    memcpy(&fn, &sym, sizeof fn);
    long result = fn(v[0], v[1], v[2], v[3], v[4], v[5]);
    if (a->json)
        print_call_json(a, v, result);
    else
        printf("%ld\n", result);
    return EXIT_OK;
}

/* ---- info and symbols ---------------------------------------------------------------------- */

/* A Mach-O magic (thin or universal) goes to inspect_macho.c, anything else to inspect_elf.c. */
static int cmd_info(const struct args *a)
{
    int rc = inspect_is_macho(a->pos[0]) ? inspect_macho_info(a->pos[0], a->json)
                                         : inspect_info(a->pos[0], a->json);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_symbols(const struct args *a)
{
    int rc = inspect_is_macho(a->pos[0]) ? inspect_macho_symbols(a->pos[0], a->json)
                                         : inspect_symbols(a->pos[0], a->json);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_deps(const struct args *a)
{
    return inspect_deps(a->pos[0], a->json) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_help(const struct args *a);

/* ---- the command table --------------------------------------------------------------------- */

static const struct command commands[] = {
    { "info", cmd_info, OPT_JSON, 1, 1, "plugin info FILE [--json]",
      "Describe an ELF file without loading it: format, class, endianness, CPU, type, soname,\n"
      "needed libraries, runpath/rpath, segments, relocation counts by type (RELR-packed\n"
      "relocations counted one per address) and the number of exported symbols.\n"
      "A Mach-O file (thin or universal: every slice) shows CPU, file type, flags, install name,\n"
      "dylibs, rpaths, segments, load commands, fixup format and counts, and the export count.\n"
      "Works for objects of any CPU on any host.\n\n"
      "  --json   print one JSON object instead of text (an error too: docs/cli-json.md)\n" },
    { "symbols", cmd_symbols, OPT_JSON, 1, 1, "plugin symbols FILE [--json]",
      "List the symbols FILE exports (defined, global or weak, default or protected visibility,\n"
      "in .dynsym), sorted by name, with value, size, type, binding and version: name@@V is\n"
      "the default version V, name@V a non-default one.\n"
      "For a Mach-O file: the export trie of each slice, by C name (no leading underscore), with\n"
      "kind and address (an offset from the image's base, as plugin_lookup adds it).\n\n"
      "  --json   print one JSON object instead of text (an error too: docs/cli-json.md)\n" },
    { "deps", cmd_deps, OPT_JSON, 1, 1, "plugin deps FILE [--json]",
      "Show the dependency tree of FILE as plugin_open would find it in this process, without\n"
      "mapping or running anything: for each DT_NEEDED (Mach-O LC_LOAD_DYLIB) the file it would\n"
      "load and why (\"DT_RPATH of X\", \"LD_LIBRARY_PATH\", \"DT_RUNPATH of X\", \"ld.so cache\",\n"
      "\"system directory\", \"glibc-hwcaps/LEVEL of DIR (...)\", \"path\", \"already in the process\",\n"
      "\"found before\"), or \"not found\" with every path tried, and the candidates refused on the\n"
      "way (for another CPU). The loader's own search runs (its dry run, loader/core/plan.c), so\n"
      "the answer is plugin_open's. Each object's dependencies are shown once; a later\n"
      "appearance is marked [shown above]. Exit status 1 when a dependency is missing or refused.\n\n"
      "  --json   print one JSON object instead of text (docs/cli-json.md)\n" },
    { "load", cmd_load, OPT_TRACE | OPT_JSON | OPT_NO_RUN, 1, 1, "plugin load FILE [--trace] [--json] [--no-run]",
      "Load FILE and its dependencies into this process with libplugin and report the handle.\n"
      "Loading runs the object's initializers: only load files you trust, or use --no-run.\n\n"
      "  --trace   print every step of the loader as it happens, one \"trace: \" line each, with\n"
      "            the time since the open began\n"
      "  --json    print JSON lines instead: with --trace one object per step, then the result\n"
      "            ({\"kind\": \"result\", \"loaded\": true, ...})\n"
      "  --no-run  map, bind and protect, but run none of the objects' code: no initializer,\n"
      "            no IFUNC resolver (an object that needs one is refused), no finalizer\n\n"
      "PLUGIN_DEBUG=files,bindings,reloc,init,all,help in the environment prints the same steps\n"
      "to stderr as LD_DEBUG does (PLUGIN_DEBUG=help lists the categories).\n" },
    { "call", cmd_call, OPT_TRACE | OPT_JSON, 2, 2 + MAX_CALL_ARGS, "plugin call FILE SYMBOL [INT...] [--json]",
      "Load FILE, look up SYMBOL and call it as long SYMBOL(long, ...) with up to six integer\n"
      "arguments (decimal, 0x hex or 0 octal, as strtol), then print the result in decimal.\n"
      "SYMBOL must be a function that takes and returns integers (or pointers).\n\n"
      "  --trace  print every step of the loader, as for `plugin load`\n"
      "  --json   print the result (or the error) as one JSON object\n" },
    { "help", cmd_help, 0, 0, 1, "plugin help [COMMAND]",
      "Print the general help, or the help of COMMAND.\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fputs("usage: plugin COMMAND [ARGS...]\n\n"
          "Inspect ELF shared objects and Mach-O dylibs, show where their dependencies come from,\n"
          "or load them into this process without libdl.\n\n"
          "commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %s\n", commands[i].usage + strlen("plugin "));
    fprintf(out, "\nRun 'plugin COMMAND --help' for the details of a command.\n\n%s", exit_codes);
}

static void print_command_help(const struct command *c)
{
    printf("usage: %s\n\n%s\n%s", c->usage, c->help, exit_codes);
}

static int cmd_help(const struct args *a)
{
    if (a->npos == 0) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    const struct command *c = find_command(a->pos[0]);
    if (!c) {
        fprintf(stderr, "plugin: help: unknown command \"%s\"\n", a->pos[0]);
        return EXIT_USAGE;
    }
    print_command_help(c);
    return EXIT_OK;
}

/* ---- the command line ---------------------------------------------------------------------- */

static int usage_error(const struct command *c, const char *what, const char *word)
{
    fprintf(stderr, "plugin: %s: %s%s%s\nusage: %s\nRun 'plugin %s --help' for details.\n",
            c->name, what, word ? " " : "", word ? word : "", c->usage, c->name);
    return EXIT_USAGE;
}

/* Split the words after the command name into options and the rest. Options may come anywhere;
 * "--" ends them. "-5" is a word, not an option, so that `call` can take negative numbers. */
static int parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
    int options_done = 0;
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (!options_done && strcmp(w, "--") == 0)
            options_done = 1;
        else if (!options_done && (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0))
            a->help = 1;
        else if (!options_done && (c->options & OPT_JSON) && strcmp(w, "--json") == 0)
            a->json = 1;
        else if (!options_done && (c->options & OPT_TRACE) && strcmp(w, "--trace") == 0)
            a->trace = 1;
        else if (!options_done && (c->options & OPT_NO_RUN) && strcmp(w, "--no-run") == 0)
            a->no_run = 1;
        else if (!options_done && strncmp(w, "--", 2) == 0)
            return usage_error(c, "unknown option", w);
        else if (a->npos == c->max_pos)
            return usage_error(c, c->run == cmd_call ? "too many arguments (at most six integers):"
                                                     : "unexpected argument:", w);
        else
            a->pos[a->npos++] = w;
    }
    if (!a->help && a->npos < c->min_pos)
        return usage_error(c, "missing argument", NULL);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "plugin: unknown command \"%s\"\nRun 'plugin --help' for the list.\n",
                argv[1]);
        return EXIT_USAGE;
    }
    struct args a;
    int rc = parse_args(c, argc - 2, argv + 2, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        print_command_help(c);
        return EXIT_OK;
    }
    out_json_errors(a.json);
    return c->run(&a);
}
