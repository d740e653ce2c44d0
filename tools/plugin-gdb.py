# plugin-gdb.py — let stock gdb (>= 10) see the objects that libplugin loaded.
#
# The system loader tells gdb about its objects (r_debug); ours are invisible to that. libplugin
# keeps its own list for debuggers (loader/core/debug.c): the global `plugin_debug` { version, count,
# head, tail } whose entries are { next, path, base (load bias), from_memory, format, image },
# and calls the empty function `plugin_debug_state` after every load, before initializers run.
#
# One step:   (gdb) source tools/plugin-gdb.py        (or gdb -x tools/plugin-gdb.py ...)
#
# From then on a breakpoint on plugin_debug_state (set here, silent: the program does not stop)
# loads the symbols of every new plugin as soon as it is mapped, with
# `add-symbol-file PATH -o BASE`; so `bt`, `break plugin_fn` and `list` work through plugins.
# `plugin-symbols` does the same by hand (for a core file, or a process attached late);
# `plugin-list` prints the list. Memory images (plugin_open_memory) have no file to read symbols
# from, and gdb on Linux does not read Mach-O: both are listed and skipped.
import struct

import gdb

_ENTRY = struct.Struct("<QQQIIQ")       # next, path, base, from_memory, format, image
_HEAD = struct.Struct("<IIQQ")          # version, count, head, tail
_FORMATS = {0: "ELF", 1: "Mach-O"}

_loaded = {}                            # inferior pid -> {(path, base)}


def _read_string(inf, addr, limit=4096):
    out = b""
    while len(out) < limit:
        chunk = bytes(inf.read_memory(addr + len(out), 256))
        nul = chunk.find(b"\0")
        if nul >= 0:
            return (out + chunk[:nul]).decode("utf-8", "replace")
        out += chunk
    return out.decode("utf-8", "replace")


def plugin_images():
    """The entries of plugin_debug, as (path, base, from_memory, format) tuples."""
    inf = gdb.selected_inferior()
    if inf is None or inf.pid == 0:
        return []
    try:
        where = int(gdb.parse_and_eval("(unsigned long) &plugin_debug"))
    except gdb.error:
        return []                       # no libplugin in this program (yet)
    version, count, head, _tail = _HEAD.unpack(bytes(inf.read_memory(where, _HEAD.size)))
    if version != 1:
        raise gdb.GdbError("plugin_debug has version %d; this script reads version 1" % version)
    images, node = [], head
    while node and len(images) <= count:
        nxt, path, base, from_memory, fmt, _image = _ENTRY.unpack(bytes(inf.read_memory(node, _ENTRY.size)))
        images.append((_read_string(inf, path), base, bool(from_memory), fmt))
        node = nxt
    return images


def load_plugin_symbols(verbose=True):
    inf = gdb.selected_inferior()
    done = _loaded.setdefault(inf.pid, set())
    added = 0
    for path, base, from_memory, fmt in plugin_images():
        if (path, base) in done:
            continue
        done.add((path, base))
        if from_memory or fmt != 0:
            if verbose:
                why = "loaded from memory" if from_memory else "gdb does not read %s" % _FORMATS.get(fmt, "this format")
                print("plugin-symbols: %s at 0x%x: skipped (%s)" % (path, base, why))
            continue
        gdb.execute("with confirm off -- add-symbol-file %s -o 0x%x" % (_quote(path), base), to_string=True)
        added += 1
        if verbose:
            print("plugin-symbols: %s at 0x%x" % (path, base))
    return added


def _quote(path):
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


class PluginSymbols(gdb.Command):
    """Load the symbols of every object libplugin has loaded (add-symbol-file PATH -o BASE)."""

    def __init__(self):
        super().__init__("plugin-symbols", gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        n = load_plugin_symbols(verbose=True)
        if n == 0:
            print("plugin-symbols: nothing new")


class PluginList(gdb.Command):
    """List the objects libplugin has loaded: path, load bias, format."""

    def __init__(self):
        super().__init__("plugin-list", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        for path, base, from_memory, fmt in plugin_images():
            print("0x%016x  %-6s %s%s" % (base, _FORMATS.get(fmt, "?"), path, "  (memory)" if from_memory else ""))


class _LoadHook(gdb.Breakpoint):
    """A silent breakpoint on plugin_debug_state: new plugins' symbols are loaded, and the program
    goes on (stop returns False)."""

    def __init__(self):
        super().__init__("plugin_debug_state", gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        try:
            load_plugin_symbols(verbose=False)
        except gdb.error as e:
            print("plugin-gdb: %s" % e)
        return False


def _on_exit(event):
    inf = getattr(event, "inferior", None)
    if inf is not None:
        _loaded.pop(inf.pid, None)


PluginSymbols()
PluginList()
# Pending until the program (or libplugin.so) is loaded; quiet about it.
_saved = gdb.parameter("breakpoint pending")
gdb.execute("set breakpoint pending on", to_string=True)
try:
    _LoadHook()
finally:
    gdb.execute("set breakpoint pending %s" % {True: "on", False: "off", None: "auto"}[_saved], to_string=True)
gdb.events.exited.connect(_on_exit)
