#!/usr/bin/env python3
"""gen_macho_reader_crashes.py — writes four reproducers of issue 8's Mach-O defects into
fuzz/crashes/, each a built x86_64 fixture (make fixtures) with a few bytes patched:

  macho-two-linkedit              libfix.chained: __DATA renamed __LINKEDIT, its file offset set to
                                  __DATA_CONST's. The linkedit ranges were checked against the last
                                  __LINKEDIT and read through the first, one page off (an
                                  out-of-bounds read in the export-trie check).
  macho-misaligned-thread-vars    libtlv: __thread_vars moved from 0x1000 to 0x1004. Accepted, then
                                  written through a misaligned struct tlv_desc.
  macho-thread-template-wraps     libtlv: __thread_data and __thread_bss sized so that address +
                                  size wraps past 2^64. The range check was skipped; the first
                                  thread-local access aborted ("out of memory").
  macho-empty-export-trie         libfix.chained: the export trie's root has no terminal and no
                                  child. `plugin symbols` called qsort(NULL, 0, ...) (UBSan).

tests/test_macho_reader.c makes the same patches to the lane's fixtures.
usage: gen_macho_reader_crashes.py [FIXTURE_DIR [OUT_DIR]]   (defaults: build/fixtures/macho, fuzz/crashes)
"""
import struct
import sys

LC_SEGMENT_64, LC_DYLD_EXPORTS_TRIE = 0x19, 0x80000033


def commands(b):
    """(offset, cmd) of every load command of a thin 64-bit Mach-O."""
    ncmds = struct.unpack_from("<I", b, 16)[0]
    off, out = 32, []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", b, off)
        out.append((off, cmd))
        off += size
    return out


def segment(b, name):
    for off, cmd in commands(b):
        if cmd == LC_SEGMENT_64 and b[off + 8:off + 24].rstrip(b"\0") == name:
            return off
    raise SystemExit("no segment " + name.decode())


def section(b, seg, name):
    """Offset of the section header `name` of the segment command at seg."""
    nsects = struct.unpack_from("<I", b, seg + 64)[0]
    for k in range(nsects):
        sc = seg + 72 + 80 * k
        if b[sc:sc + 16].rstrip(b"\0") == name:
            return sc
    raise SystemExit("no section " + name.decode())


def two_linkedit(b):
    data, const = segment(b, b"__DATA"), segment(b, b"__DATA_CONST")
    b[data + 8:data + 24] = b"__LINKEDIT".ljust(16, b"\0")
    b[data + 40:data + 48] = b[const + 40:const + 48]       # fileoff: vmaddr - fileoff is a page more


def misaligned_thread_vars(b):
    sc = section(b, segment(b, b"__DATA"), b"__thread_vars")
    struct.pack_into("<Q", b, sc + 32, struct.unpack_from("<Q", b, sc + 32)[0] + 4)


def thread_template_wraps(b):
    seg = segment(b, b"__DATA")
    for name in (b"__thread_data", b"__thread_bss"):
        sc = section(b, seg, name)
        addr = struct.unpack_from("<Q", b, sc + 32)[0]
        struct.pack_into("<Q", b, sc + 40, (1 << 64) - addr + 0x10)   # addr + size = 0x10


def empty_export_trie(b):
    for off, cmd in commands(b):
        if cmd == LC_DYLD_EXPORTS_TRIE:
            dataoff = struct.unpack_from("<I", b, off + 8)[0]
            b[dataoff:dataoff + 2] = b"\0\0"                # no terminal, no child
            return
    raise SystemExit("no LC_DYLD_EXPORTS_TRIE")


fix = sys.argv[1] if len(sys.argv) > 1 else "build/fixtures/macho"
out = sys.argv[2] if len(sys.argv) > 2 else "fuzz/crashes"
for name, src, patch in [
    ("macho-two-linkedit", "libfix.chained.x86_64.dylib", two_linkedit),
    ("macho-misaligned-thread-vars", "libtlv.x86_64.dylib", misaligned_thread_vars),
    ("macho-thread-template-wraps", "libtlv.x86_64.dylib", thread_template_wraps),
    ("macho-empty-export-trie", "libfix.chained.x86_64.dylib", empty_export_trie),
]:
    with open(fix + "/" + src, "rb") as f:
        b = bytearray(f.read())
    patch(b)
    with open(out + "/" + name, "wb") as f:
        f.write(b)
