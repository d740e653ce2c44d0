#!/usr/bin/env python3
"""gen_malformed.py — write the malformed corpus: one defect per file, planted in a copy of a base
object that loads cleanly, and the manifest tests/malformed/test_malformed.c walks.

usage: gen_malformed.py --fixtures DIR --cpu x86_64|arm64 --other arm64|x86_64 --out DIR

DIR (mk/malformed.mk builds it) holds the bases, built from fixtures/malformed/:
  base.so                      ELF, for the lane's CPU (x86-64 or aarch64): every table the
                               loader reads (both hash tables, versions, TLS, PLT, RUNPATH, ...)
  base.info.<cpu>.dylib        Mach-O, rebase/bind opcodes (LC_DYLD_INFO_ONLY), both CPUs
  base.chained.<cpu>.dylib     Mach-O, chained fixups (LC_DYLD_CHAINED_FIXUPS), both CPUs
The ELF cases are cut from the lane's base.so; the Mach-O cases from the lane's CPU's dylibs (the
other CPU's is a slice of the universal-file cases).

OUT/cases.tsv, one line per case, tab-separated:
  name  format  class  file  code  message
format is elf or macho; class the kind of defect (truncation, header, segments, dynamic, hash,
relocations, tls, versions, load commands, fixups, export trie, fat); file is relative to OUT;
code the enum plugin_errc name the open must fail with; message a substring the loader's message
must contain: the defect, named. Each case writes its file; the manifest is written last.

Every defect is found by parsing the base (headers, dynamic table, load commands), never by fixed
offsets, so the same script serves both CPUs and a rebuilt base.
"""
import argparse
import os
import struct
import sys

# ---- ELF ---------------------------------------------------------------------------------------

PT_LOAD, PT_DYNAMIC, PT_NOTE, PT_TLS, PT_GNU_STACK, PT_GNU_RELRO = 1, 2, 4, 7, 0x6474E551, 0x6474E552
PF_X, PF_W, PF_R = 1, 2, 4
DT = dict(NULL=0, NEEDED=1, PLTRELSZ=2, HASH=4, STRTAB=5, SYMTAB=6, RELA=7, RELASZ=8, RELAENT=9,
          STRSZ=10, SYMENT=11, INIT=12, FINI=13, SONAME=14, SYMBOLIC=16, PLTREL=20, DEBUG=21,
          TEXTREL=22, JMPREL=23, INIT_ARRAY=25, INIT_ARRAYSZ=27, RUNPATH=29, FLAGS=30,
          PREINIT_ARRAY=32, PREINIT_ARRAYSZ=33, GNU_HASH=0x6FFFFEF5, VERSYM=0x6FFFFFF0, VERDEF=0x6FFFFFFC,
          VERNEED=0x6FFFFFFE, FLAGS_1=0x6FFFFFFB)
DF_1_NOOPEN, DF_1_PIE = 0x40, 0x08000000
# Per CPU: e_machine, RELATIVE, COPY, the other CPU's e_machine.
ELF_CPU = {62: dict(relative=8, copy=5, other=183), 183: dict(relative=1027, copy=1024, other=62)}


class Elf:
    """A mutable copy of an ELF64 little-endian object, with its program headers and dynamic
    table located (by the headers, as a loader finds them)."""

    def __init__(self, data):
        self.b = bytearray(data)
        (self.phoff,) = struct.unpack_from("<Q", self.b, 32)
        (self.phnum,) = struct.unpack_from("<H", self.b, 56)
        (self.machine,) = struct.unpack_from("<H", self.b, 18)

    # raw access
    def u16(self, off, v=None):
        return self._rw("<H", off, v)

    def u32(self, off, v=None):
        return self._rw("<I", off, v)

    def u64(self, off, v=None):
        return self._rw("<Q", off, v)

    def _rw(self, fmt, off, v):
        if v is None:
            return struct.unpack_from(fmt, self.b, off)[0]
        struct.pack_into(fmt, self.b, off, v & ((1 << (8 * struct.calcsize(fmt))) - 1))
        return v

    # program headers: index -> offset of its fields
    PH = dict(type=(0, "<I"), flags=(4, "<I"), offset=(8, "<Q"), vaddr=(16, "<Q"), filesz=(32, "<Q"),
              memsz=(40, "<Q"), align=(48, "<Q"))

    def ph(self, i, field, v=None):
        rel, fmt = self.PH[field]
        return self._rw(fmt, self.phoff + 56 * i + rel, v)

    def phs(self, ptype):
        return [i for i in range(self.phnum) if self.ph(i, "type") == ptype]

    def loads(self):
        return self.phs(PT_LOAD)

    def off(self, vaddr):
        """File offset of vaddr (inside a PT_LOAD's file data)."""
        for i in self.loads():
            va, fs = self.ph(i, "vaddr"), self.ph(i, "filesz")
            if va <= vaddr < va + fs:
                return self.ph(i, "offset") + vaddr - va
        raise ValueError("vaddr 0x%x is not in the file" % vaddr)

    # the dynamic table: (file offset of the entry, tag, value), up to DT_NULL
    def dyns(self):
        i = self.phs(PT_DYNAMIC)[0]
        base, out = self.ph(i, "offset"), []
        for k in range(self.ph(i, "filesz") // 16):
            tag, val = struct.unpack_from("<qQ", self.b, base + 16 * k)
            out.append((base + 16 * k, tag, val))
            if tag == 0:
                break
        return out

    def dyn_at(self, tag, nth=0):
        hits = [e for e in self.dyns() if e[1] == tag]
        return hits[nth][0]

    def dyn(self, tag, v=None, nth=0):
        at = self.dyn_at(tag, nth)
        return self.u64(at + 8, v)

    def retag(self, tag, new, nth=0):
        self.u64(self.dyn_at(tag, nth), new)

    def add_dyn(self, tag, val):
        """Turn the first DT_NULL into (tag, val); the base has spare DT_NULLs after it."""
        at = self.dyn_at(0)
        struct.pack_into("<qQ", self.b, at, tag, val)

    def relas(self, table="RELA", size="RELASZ"):
        """(file offset, r_offset, type, sym) of every entry of a RELA table."""
        base, n = self.off(self.dyn(DT[table])), self.dyn(DT[size]) // 24
        out = []
        for k in range(n):
            r_off, info, _ = struct.unpack_from("<QQq", self.b, base + 24 * k)
            out.append((base + 24 * k, r_off, info & 0xFFFFFFFF, info >> 32))
        return out

    def set_rela(self, at, r_offset=None, rtype=None, sym=None):
        r_off, info = struct.unpack_from("<QQ", self.b, at)
        rtype = info & 0xFFFFFFFF if rtype is None else rtype
        sym = info >> 32 if sym is None else sym
        struct.pack_into("<QQ", self.b, at, r_off if r_offset is None else r_offset, (sym << 32) | rtype)

    def gnu_hash(self):
        """File offset of DT_GNU_HASH and its header words."""
        at = self.off(self.dyn(DT["GNU_HASH"]))
        return at, struct.unpack_from("<IIII", self.b, at)

    def cpu(self):
        return ELF_CPU[self.machine]


def elf_cases(base):
    """(name, class, code, message, bytes) of every ELF case, cut from base (bytes)."""
    out = []

    def case(name, cls, code, msg, fn=None, data=None):
        if data is None:
            e = Elf(base)
            fn(e)
            data = bytes(e.b)
        out.append((name, cls, code, msg, data))

    e0 = Elf(base)
    size = len(base)
    cpu = e0.cpu()
    loads = e0.loads()
    last = loads[-1]
    rw_end = e0.ph(last, "offset") + e0.ph(last, "filesz")
    F, U, A = "PLUGIN_ERR_FORMAT", "PLUGIN_ERR_UNSUPPORTED", "PLUGIN_ERR_ARCH"

    # -- truncated at each header boundary
    T = "truncation"
    case("trunc-empty", T, F, "too short to be an object file", data=b"")
    case("trunc-magic", T, F, "too short to be an object file", data=base[:3])
    case("trunc-ident", T, F, "too short for an ELF header (16 bytes", data=base[:16])
    case("trunc-ehdr", T, F, "too short for an ELF header (63 bytes", data=base[:63])
    case("trunc-phdrs-none", T, F, "program headers (e_phoff 0x40, %d entries) extend past the end" % e0.phnum,
         data=base[:64])
    case("trunc-phdrs-mid", T, F, "extend past the end of the file (size %d)" % (64 + 56 * 3 + 20),
         data=base[:64 + 56 * 3 + 20])
    case("trunc-phdrs-end", T, F, "extends past the end of the file", data=base[:64 + 56 * e0.phnum])
    case("trunc-first-load", T, F, "extends past the end of the file",
         data=base[:e0.ph(loads[0], "filesz") - 8])
    case("trunc-last-load", T, F, "segment %d (offset" % last, data=base[:rw_end - 8])

    # -- the ELF header
    H = "header"

    def ident(i, v):
        return lambda e: e.b.__setitem__(i, v)

    case("bad-magic", H, F, "not an ELF file (magic", ident(1, ord("L")))
    case("class-32", H, A, "32-bit object (EI_CLASS 1)", ident(4, 1))
    case("class-bad", H, A, "malformed object (EI_CLASS 7)", ident(4, 7))
    case("big-endian", H, A, "not little-endian (EI_DATA 2)", ident(5, 2))
    case("ident-version", H, F, "unknown ELF version 0", ident(6, 0))
    case("type-rel", H, U, "relocatable object (ET_REL)", lambda e: e.u16(16, 1))
    case("type-exec", H, U, "executable (ET_EXEC)", lambda e: e.u16(16, 2))
    case("type-unknown", H, F, "e_type 4660 is not ET_DYN", lambda e: e.u16(16, 0x1234))
    case("machine-other", H, A, "(e_machine %d)" % cpu["other"], lambda e: e.u16(18, cpu["other"]))
    case("version", H, F, "e_version 0 is not EV_CURRENT", lambda e: e.u32(20, 0))
    case("phentsize", H, F, "e_phentsize 32 is not 56", lambda e: e.u16(54, 32))
    case("phnum-zero", H, F, "e_phnum 0 out of range", lambda e: e.u16(56, 0))
    case("phnum-huge", H, F, "e_phnum 65000 out of range",
         lambda e: e.u16(56, 65000))
    case("phoff-past-end", H, F, "extend past the end of the file", lambda e: e.u64(32, size - 8))
    case("phoff-wraps", H, F, "extend past the end of the file", lambda e: e.u64(32, (1 << 64) - 16))
    case("phoff-misaligned", H, F, "e_phoff 0x44 is not 8-byte aligned", lambda e: e.u64(32, 0x44))

    # -- program headers
    S = "segments"
    L0, L1 = loads[0], loads[1]
    case("load-offset-past-end", S, F, "segment %d (offset 0x%x" % (L1, size + 0x1000) + ", filesz",
         lambda e: (e.ph(L1, "offset", size + 0x1000), e.ph(L1, "vaddr", e.ph(L1, "vaddr") + size)))
    case("load-filesz-wraps", S, F, "extends past the end of the file",
         lambda e: e.ph(L1, "filesz", (1 << 64) - 0x10))
    case("load-filesz-over-memsz", S, F, "p_filesz 0x%x is larger than p_memsz" % e0.ph(L1, "filesz"),
         lambda e: e.ph(L1, "memsz", e.ph(L1, "filesz") - 1))
    case("load-memsz-wraps", S, F, "+ p_memsz 0xfffffffffffff000 overflows",
         lambda e: e.ph(last, "memsz", (1 << 64) - 0x1000))
    case("load-above-2-47", S, F, "ends above 2^47",
         lambda e: e.ph(last, "memsz", 1 << 47))
    case("align-not-power-of-two", S, F, "p_align 0x1001 is not a power of two",
         lambda e: e.ph(L1, "align", 0x1001))
    case("align-zero", S, U, "alignment 0x0 is below the page size", lambda e: e.ph(L1, "align", 0))
    case("vaddr-offset-incongruent", S, F, "differ modulo the page size",
         lambda e: e.ph(L1, "vaddr", e.ph(L1, "vaddr") + 0x10))
    case("loads-overlap", S, F, "overlaps or precedes the previous PT_LOAD",
         lambda e: (e.ph(L1, "vaddr", e.ph(L0, "vaddr")), e.ph(L1, "offset", 0)))

    def swap_loads(e):
        a, b = e.phoff + 56 * L0, e.phoff + 56 * L1
        e.b[a:a + 56], e.b[b:b + 56] = e.b[b:b + 56], e.b[a:a + 56]

    case("loads-unsorted", S, F, "overlaps or precedes the previous PT_LOAD", swap_loads)
    case("load-w-and-x", S, U, "segment %d is both writable and executable" % L1,
         lambda e: e.ph(L1, "flags", PF_R | PF_W | PF_X))
    case("exec-stack", S, U, "executable stack (PT_GNU_STACK with PF_X)",
         lambda e: e.ph(e.phs(PT_GNU_STACK)[0], "flags", PF_R | PF_W | PF_X))
    case("no-load", S, F, "has no PT_LOAD segment", lambda e: [e.ph(i, "type", 0) for i in e.loads()])
    case("no-dynamic", S, F, "has no PT_DYNAMIC segment", lambda e: e.ph(e.phs(PT_DYNAMIC)[0], "type", 0))
    dyn_ph = e0.phs(PT_DYNAMIC)[0]
    case("dynamic-outside-segments", S, F, "PT_DYNAMIC (vaddr 0x40000000",
         lambda e: e.ph(dyn_ph, "vaddr", 0x40000000))
    case("dynamic-misaligned", S, F, "PT_DYNAMIC (vaddr 0x%x" % (e0.ph(dyn_ph, "vaddr") + 4),
         lambda e: e.ph(dyn_ph, "vaddr", e.ph(dyn_ph, "vaddr") + 4))
    case("dynamic-too-small", S, F, "PT_DYNAMIC is too small (8 bytes)", lambda e: e.ph(dyn_ph, "memsz", 8))
    relro = e0.phs(PT_GNU_RELRO)[0]
    case("relro-outside-segments", S, F, "PT_GNU_RELRO (vaddr 0x40000000",
         lambda e: e.ph(relro, "vaddr", 0x40000000))

    # -- PT_TLS
    X = "tls"
    tls = e0.phs(PT_TLS)[0]
    case("tls-size-absurd", X, F, "PT_TLS memsz 0x10000000000 is larger than", lambda e: e.ph(tls, "memsz", 1 << 40))
    case("tls-align-absurd", X, F, "PT_TLS alignment 0x100000 is larger than",
         lambda e: e.ph(tls, "align", 1 << 20))
    case("tls-align-not-power-of-two", X, F, "PT_TLS alignment 0x18 is not a power of two",
         lambda e: e.ph(tls, "align", 24))
    case("tls-filesz-over-memsz", X, F, "PT_TLS filesz 0x%x is larger than its memsz" % e0.ph(tls, "filesz"),
         lambda e: e.ph(tls, "memsz", e.ph(tls, "filesz") - 1))
    case("tls-image-outside-segments", X, F, "PT_TLS initial image (vaddr 0x40000000",
         lambda e: e.ph(tls, "vaddr", 0x40000000))

    # -- the dynamic table and the string table
    D = "dynamic"
    strsz = e0.dyn(DT["STRSZ"])

    def no_null(e):
        for at, tag, _ in e.dyns():
            if tag == 0:
                struct.pack_into("<qQ", e.b, at, DT["DEBUG"], 0)
        i = e.phs(PT_DYNAMIC)[0]
        n = e.ph(i, "filesz") // 16
        for k in range(n):                      # every entry, the spare ones too
            at = e.ph(i, "offset") + 16 * k
            if struct.unpack_from("<q", e.b, at)[0] == 0:
                struct.pack_into("<qQ", e.b, at, DT["DEBUG"], 0)

    case("dynamic-no-null", D, F, "PT_DYNAMIC has no DT_NULL terminator", no_null)
    case("no-strtab", D, F, "no dynamic string table", lambda e: e.retag(DT["STRTAB"], DT["DEBUG"]))
    case("strsz-zero", D, F, "no dynamic string table", lambda e: e.dyn(DT["STRSZ"], 0))
    case("strtab-outside-segments", D, F, "string table (DT_STRTAB 0x40000000",
         lambda e: e.dyn(DT["STRTAB"], 0x40000000))
    case("strsz-past-segment", D, F, "DT_STRSZ 0x1000000) is not inside",
         lambda e: e.dyn(DT["STRSZ"], 0x1000000))
    case("strtab-no-nul", D, F, "string table does not end with a NUL", lambda e: e.dyn(DT["STRSZ"], strsz - 1))
    case("soname-past-strsz", D, F, "DT_SONAME 0x%x is past DT_STRSZ" % (strsz + 5),
         lambda e: e.dyn(DT["SONAME"], strsz + 5))
    case("needed-past-strsz", D, F, "DT_NEEDED entry 0: string offset 0x%x is past DT_STRSZ" % strsz,
         lambda e: e.dyn(DT["NEEDED"], strsz))
    case("runpath-past-strsz", D, F, "DT_RUNPATH entry", lambda e: e.dyn(DT["RUNPATH"], 0xFFFFFFFF))
    case("textrel", D, U, "DT_TEXTREL is set (a text relocation)", lambda e: e.add_dyn(DT["TEXTREL"], 0))
    case("flags1-pie", D, U, "position-independent executable (DF_1_PIE)",
         lambda e: e.add_dyn(DT["FLAGS_1"], DF_1_PIE))
    case("flags1-noopen", D, U, "cannot be dlopen()ed", lambda e: e.add_dyn(DT["FLAGS_1"], DF_1_NOOPEN))
    case("preinit-array", D, U, "DT_PREINIT_ARRAY, which only executables may have",
         lambda e: (e.add_dyn(DT["PREINIT_ARRAY"], e.dyn(DT["INIT_ARRAY"])), e.add_dyn(DT["PREINIT_ARRAYSZ"], 8)))
    case("init-array-outside", D, F, "DT_INIT_ARRAY (0x40000000",
         lambda e: e.dyn(DT["INIT_ARRAY"], 0x40000000))
    case("init-arraysz-odd", D, F, "DT_INIT_ARRAY (0x%x, 12 bytes) is malformed" % e0.dyn(DT["INIT_ARRAY"]),
         lambda e: e.dyn(DT["INIT_ARRAYSZ"], 12))
    case("init-outside", D, F, "DT_INIT or DT_FINI is outside the mapped segments",
         lambda e: e.dyn(DT["INIT"], 0x40000000))

    # -- symbols and hash tables
    Y = "hash"
    case("no-symtab", Y, F, "no dynamic symbol table (DT_SYMTAB)", lambda e: e.retag(DT["SYMTAB"], DT["DEBUG"]))
    case("syment", Y, F, "DT_SYMENT 16 is not 24", lambda e: e.dyn(DT["SYMENT"], 16))
    case("no-hash", Y, F, "no symbol hash table",
         lambda e: (e.retag(DT["GNU_HASH"], DT["DEBUG"]), e.retag(DT["HASH"], DT["DEBUG"])))
    gh_at, (nb, symoff, bloom, shift) = e0.gnu_hash()
    case("gnu-hash-zero-buckets", Y, F, "DT_GNU_HASH header is invalid (nbuckets 0", lambda e: e.u32(gh_at, 0))
    case("gnu-hash-bloom-not-power-of-two", Y, F, "bloom_size 3,", lambda e: e.u32(gh_at + 8, 3))
    case("gnu-hash-bloom-zero", Y, F, "bloom_size 0,", lambda e: e.u32(gh_at + 8, 0))
    case("gnu-hash-bloom-shift", Y, F, "bloom_shift 40)", lambda e: e.u32(gh_at + 12, 40))
    case("gnu-hash-tables-outside", Y, F, "DT_GNU_HASH tables extend outside the segments",
         lambda e: e.u32(gh_at, 0x10000000))
    case("gnu-hash-outside", Y, F, "DT_GNU_HASH 0x40000000 is misaligned or not in",
         lambda e: e.dyn(DT["GNU_HASH"], 0x40000000))
    buckets = gh_at + 16 + 8 * bloom
    chain = buckets + 4 * nb
    case("gnu-hash-bucket-below-symoffset", Y, F, "DT_GNU_HASH bucket 1 is below symoffset %d" % symoff,
         lambda e: e.u32(buckets, 1))

    def endless_chain(e):
        # No end bit from the top bucket's chain to the end of the segment's file data (the words
        # after the chains, symbols and strings, lose their low bits too: read as chain words,
        # none may end the chain).
        top = max(e.u32(buckets + 4 * k) for k in range(nb))
        seg_end = e.ph(loads[0], "offset") + e.ph(loads[0], "filesz")
        for at in range(chain + 4 * (top - symoff), seg_end - 3, 4):
            e.u32(at, e.u32(at) & ~1)

    case("gnu-hash-chain-never-ends", Y, F, "DT_GNU_HASH chain runs off the segment", endless_chain)
    sh_at = e0.off(e0.dyn(DT["HASH"]))
    case("sysv-hash-zero-buckets", Y, F, "DT_HASH (nbucket 0,", lambda e: e.u32(sh_at, 0))
    case("sysv-hash-nchain-huge", Y, F, "nchain 268435456) is invalid", lambda e: e.u32(sh_at + 4, 0x10000000))
    case("sysv-hash-counts-fewer", Y, F, "DT_HASH counts 1 symbols, DT_GNU_HASH", lambda e: e.u32(sh_at + 4, 1))

    # -- relocations
    R = "relocations"
    relas = e0.relas()
    relative = [r for r in relas if r[2] == cpu["relative"]][0]
    symbolic = [r for r in relas if r[3] != 0][-1]
    nsyms = (e0.off(e0.dyn(DT["STRTAB"])) - e0.off(e0.dyn(DT["SYMTAB"]))) // 24
    case("reloc-outside-segments", R, F, "at 0x40000000 is outside the mapped segments",
         lambda e: e.set_rela(relative[0], r_offset=0x40000000))
    case("reloc-into-text", R, U, "writes into a read-only segment",
         lambda e: e.set_rela(relative[0], r_offset=e.ph(L0, "vaddr") + 0x100))
    case("reloc-type-unknown", R, U, "relocation type 250 at", lambda e: e.set_rela(relative[0], rtype=250))
    case("reloc-copy", R, U, "copy relocations belong to executables", lambda e: e.set_rela(symbolic[0], rtype=cpu["copy"]))
    case("reloc-symbol-past-table", R, F, "relocation names symbol 1000000; the table has %d" % nsyms,
         lambda e: e.set_rela(symbolic[0], sym=1000000))

    def sym_name_past(e):
        st = e.off(e.dyn(DT["SYMTAB"])) + 24 * symbolic[3]
        e.u32(st, 0x7FFFFFF0)

    case("symbol-name-past-strsz", R, F, "symbol %d has a name offset past DT_STRSZ" % symbolic[3], sym_name_past)
    case("rela-outside-segments", R, F, "DT_RELA table (0x40000000", lambda e: e.dyn(DT["RELA"], 0x40000000))
    case("relasz-not-multiple", R, F, "DT_RELA table (0x%x, %d bytes) is malformed"
         % (e0.dyn(DT["RELA"]), e0.dyn(DT["RELASZ"]) - 4), lambda e: e.dyn(DT["RELASZ"], e.dyn(DT["RELASZ"]) - 4))
    case("relasz-huge", R, F, "DT_RELA table", lambda e: e.dyn(DT["RELASZ"], 24 << 40))
    case("relaent", R, F, "DT_RELA table", lambda e: e.dyn(DT["RELAENT"], 16))
    case("pltrel-bad", R, F, "DT_PLTREL 99 is neither DT_RELA nor DT_REL", lambda e: e.dyn(DT["PLTREL"], 99))
    case("jmprel-outside-segments", R, F, "DT_JMPREL table (0x40000000",
         lambda e: e.dyn(DT["JMPREL"], 0x40000000))
    plt = e0.relas("JMPREL", "PLTRELSZ")
    case("plt-reloc-outside", R, F, "at 0x40000000 is outside the mapped segments",
         lambda e: e.set_rela(plt[0][0], r_offset=0x40000000))

    # -- symbol versions
    V = "versions"
    versym = e0.off(e0.dyn(DT["VERSYM"]))
    case("version-index-past-table", V, F, "symbol %d has version index 4660, which is not defined" % symbolic[3],
         lambda e: e.u16(versym + 2 * symbolic[3], 0x1234))
    verdef = e0.off(e0.dyn(DT["VERDEF"]))
    verneed = e0.off(e0.dyn(DT["VERNEED"]))
    case("verdef-version", V, F, "DT_VERDEF entry 0 is malformed", lambda e: e.u16(verdef, 2))
    case("verdef-outside", V, F, "DT_VERDEF entry 0 is out of range", lambda e: e.dyn(DT["VERDEF"], 0x40000000))
    case("verneed-version", V, F, "DT_VERNEED entry 0 is malformed", lambda e: e.u16(verneed, 0))
    case("verneed-file-past-strsz", V, F, "DT_VERNEED entry 0 is malformed",
         lambda e: e.u32(verneed + 4, strsz + 100))

    def vernaux_name(e):
        aux = verneed + e.u32(verneed + 8)
        e.u32(aux + 8, strsz + 100)

    case("vernaux-name-past-strsz", V, F, "DT_VERNEED entry 0 aux 0 is malformed", vernaux_name)
    case("versym-outside", V, F, "DT_VERSYM is misaligned or not in a read-only segment",
         lambda e: e.dyn(DT["VERSYM"], 0x40000000))
    return out


# ---- Mach-O ------------------------------------------------------------------------------------

LC_SEGMENT_64, LC_SYMTAB, LC_ID_DYLIB, LC_DYLD_INFO_ONLY = 0x19, 0x2, 0xD, 0x80000022
LC_DYLD_CHAINED_FIXUPS, LC_DYLD_EXPORTS_TRIE, LC_RPATH = 0x80000034, 0x80000033, 0x8000001C
LC_LOAD_DYLIB = 0xC
CPUTYPE = {"x86_64": 0x01000007, "arm64": 0x0100000C}


class Macho:
    """A mutable copy of a thin 64-bit Mach-O, its load commands located."""

    def __init__(self, data):
        self.b = bytearray(data)

    def u8(self, off, v=None):
        return Elf._rw(self, "<B", off, v)

    def u16(self, off, v=None):
        return Elf._rw(self, "<H", off, v)

    def u32(self, off, v=None):
        return Elf._rw(self, "<I", off, v)

    def u64(self, off, v=None):
        return Elf._rw(self, "<Q", off, v)

    _rw = Elf._rw

    def cmds(self):
        """(offset, cmd, cmdsize) of every load command."""
        out, off = [], 32
        for _ in range(self.u32(16)):
            out.append((off, self.u32(off), self.u32(off + 4)))
            off += self.u32(off + 4)
        return out

    def cmd(self, kind, nth=0):
        return [c for c in self.cmds() if c[1] == kind][nth][0]

    def segs(self):
        """name -> offset of its LC_SEGMENT_64."""
        return {bytes(self.b[o + 8:o + 24]).rstrip(b"\0").decode(): o
                for o, c, _ in self.cmds() if c == LC_SEGMENT_64}

    def seg(self, name):
        return self.segs()[name]

    def dyld_info(self, which):
        """File offset and size of a LC_DYLD_INFO_ONLY range: rebase, bind, weak, lazy, export."""
        at = self.cmd(LC_DYLD_INFO_ONLY) + 8 + 8 * ["rebase", "bind", "weak", "lazy", "export"].index(which)
        return self.u32(at), self.u32(at + 4)

    def linkedit_cmd(self, kind):
        at = self.cmd(kind)
        return self.u32(at + 8), self.u32(at + 12)


# Load commands the loader does not need (LC_UUID, LC_BUILD_VERSION, LC_SOURCE_VERSION,
# LC_DYSYMTAB, LC_FUNCTION_STARTS, LC_DATA_IN_CODE): room to plant another command in.
HARMLESS = (0x1B, 0x32, 0x2A, 0xB, 0x26, 0x29)


def harmless(m, minsize):
    """Offset of the first harmless load command of at least minsize bytes."""
    return [o for o, c, size in m.cmds() if c in HARMLESS and size >= minsize][0]


def uleb_len(b, pos):
    n = 0
    while b[pos + n] & 0x80:
        n += 1
    return n + 1


def uleb(v):
    """v as a ULEB128."""
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v >> 7 else 0))
        v >>= 7
        if not v:
            return bytes(out)


def move_segment(m, name, vmaddr):
    """Give segment name another vmaddr, its sections moved with it (so that only the segments'
    order or alignment is wrong, not where a section lies in its segment)."""
    seg = m.seg(name)
    delta = vmaddr - m.u64(seg + 24)
    m.u64(seg + 24, vmaddr)
    for k in range(m.u32(seg + 64)):
        sect = seg + 72 + 80 * k
        m.u64(sect + 32, m.u64(sect + 32) + delta)


def put_uleb(b, pos, n, v):
    """Write v as a ULEB128 of exactly n bytes at pos (padded with continuation bytes)."""
    for k in range(n):
        byte = v & 0x7F
        v >>= 7
        b[pos + k] = byte | (0x80 if k + 1 < n else 0)


def bind_opcodes(b, start, size):
    """(position, opcode, immediate) of every opcode of a bind stream, operands skipped."""
    pos, end, out = start, start + size, []
    while pos < end:
        op, imm = b[pos] & 0xF0, b[pos] & 0x0F
        out.append((pos, op, imm))
        pos += 1
        if op in (0x20, 0x70, 0x80, 0xA0):           # one ULEB operand (SET_SEGMENT: after imm)
            pos += uleb_len(b, pos)
        elif op == 0xC0:
            pos += uleb_len(b, pos)
            pos += uleb_len(b, pos)
        elif op == 0x60:
            pos += uleb_len(b, pos)
        elif op == 0x40:
            pos = b.index(0, pos) + 1
    return out


def chained_parts(m):
    """The LC_DYLD_CHAINED_FIXUPS payload's offsets: header, imports, and the first page with a
    chain (its starts_in_segment offset, its page_start offset and the chain's first word)."""
    base, _ = m.linkedit_cmd(LC_DYLD_CHAINED_FIXUPS)
    starts = base + m.u32(base + 4)
    imports = base + m.u32(base + 8)
    nseg = m.u32(starts)
    segnames = [n for n in m.segs()]
    for i in range(nseg):
        so = m.u32(starts + 4 + 4 * i)
        if not so:
            continue
        sis = starts + so
        page_size, pages = m.u16(sis + 4), m.u16(sis + 20)
        seg_offset = m.u64(sis + 8)
        for p in range(pages):
            start = m.u16(sis + 22 + 2 * p)
            if start == 0xFFFF:
                continue
            seg = m.seg(segnames[i])
            vm = seg_offset + p * page_size + start     # from the image's base (0 here)
            word = m.u64(seg + 40) + vm - m.u64(seg + 24)
            return dict(header=base, starts=starts, imports=imports, sis=sis, page=sis + 22 + 2 * p, word=word)
    raise ValueError("no chain in the base")


def trie_root(m, b_off):
    """Offset of the root's first child edge offset (a ULEB) and its length, in a trie at b_off."""
    pos = b_off
    tsize = m.b[pos]                 # the root's terminal size (small: one byte)
    pos += 1 + tsize
    pos += 1                         # child count
    pos = m.b.index(0, pos) + 1      # the first edge's label
    return pos, uleb_len(m.b, pos)


def fat(slices, wide=False, entries=None):
    """A universal file of the given (cputype, data) slices, page-aligned; entries overrides the
    table's (offset, size) per slice."""
    esz = 32 if wide else 20
    off = 0x4000
    table, body, placed = b"", b"", []
    for cputype, data in slices:
        placed.append((off, len(data)))
        body += data + b"\0" * (-len(data) % 0x4000)
        off += len(data) + (-len(data) % 0x4000)
    for k, (cputype, _) in enumerate(slices):
        o, s = entries[k] if entries else placed[k]
        if wide:
            table += struct.pack(">IIQQII", cputype, 0, o, s, 14, 0)
        else:
            table += struct.pack(">IIIII", cputype, 0, o, s, 14)
    head = struct.pack(">II", 0xCAFEBABF if wide else 0xCAFEBABE, len(slices)) + table
    return head + b"\0" * (0x4000 - len(head)) + body


def macho_cases(info, chained, other, cpu, other_cpu):
    out = []
    F, U, A = "PLUGIN_ERR_FORMAT", "PLUGIN_ERR_UNSUPPORTED", "PLUGIN_ERR_ARCH"

    def case(name, cls, code, msg, fn=None, data=None, base=info):
        if data is None:
            m = Macho(base)
            fn(m)
            data = bytes(m.b)
        out.append((name, cls, code, msg, data))

    m0, c0 = Macho(info), Macho(chained)
    sizeofcmds = m0.u32(20)
    le = m0.seg("__LINKEDIT")

    # -- truncated at each header boundary
    T = "truncation"
    case("trunc-magic", T, F, "too short for a Mach-O header", data=info[:4])
    case("trunc-header", T, F, "too short for a Mach-O header", data=info[:31])
    case("trunc-commands-none", T, F, "load commands (", data=info[:32])
    case("trunc-commands-mid", T, F, "load commands (", data=info[:32 + sizeofcmds // 2])
    case("trunc-segments", T, F, "is malformed", data=info[:m0.u64(m0.seg("__DATA") + 40) + 16])
    case("trunc-linkedit", T, F, "segment __LINKEDIT (", data=info[:m0.u64(le + 40) + 8])

    # -- the header
    H = "header"
    case("cpu-other", H, A, "is built for %s; this process is %s" % (other_cpu, cpu),
         lambda m: m.u32(4, CPUTYPE[other_cpu]))
    case("magic-32", H, A, "is a 32-bit Mach-O object", lambda m: m.u32(0, 0xFEEDFACE))
    case("magic-big-endian", H, A, "is a big-endian Mach-O object", lambda m: m.u32(0, 0xCFFAEDFE))
    case("filetype-execute", H, U, "is MH_EXECUTE (an executable", lambda m: m.u32(12, 2))
    case("filetype-unknown", H, U, "Mach-O file type 99 is not MH_DYLIB", lambda m: m.u32(12, 99))
    if cpu == "arm64":
        case("cpu-arm64e", H, U, "is arm64e (pointer authentication)", lambda m: m.u32(8, 2))

    # -- load commands
    C = "load commands"
    case("sizeofcmds-past-end", C, F, "load commands (", lambda m: m.u32(20, len(info)))
    case("sizeofcmds-huge", C, F, "load commands (", lambda m: m.u32(20, 0xFFFFFFF0))
    case("ncmds-too-many", C, F, "load commands (", lambda m: m.u32(16, sizeofcmds))
    case("cmd-overruns-sizeofcmds", C, F, "which does not fit the",
         lambda m: m.u32(m.cmds()[-1][0] + 4, m.cmds()[-1][2] + 0x1000))
    case("cmd-size-zero", C, F, "has size 0, which does not fit", lambda m: m.u32(m.cmds()[1][0] + 4, 0))
    case("cmd-size-unaligned", C, F, "has size 12,", lambda m: m.u32(m.cmds()[1][0] + 4, 12))
    case("cmd-truncated", C, F, "load command %d is truncated" % m0.u32(16),
         lambda m: m.u32(16, m.u32(16) + 1))
    case("cmd-unknown-required", C, U, "requires load command 0x80000077",
         lambda m: m.u32(harmless(m, 8), 0x80000077))
    case("segment-nsects-overflow", C, F, "is too small for", lambda m: m.u32(m.seg("__TEXT") + 64, 1000))
    case("symtab-nsyms-huge", C, F, "LC_SYMTAB counts", lambda m: m.u32(m.cmd(LC_SYMTAB) + 12, 0x20000000))
    case("dylib-name-past-command", C, F, "has a bad dylib name", lambda m: m.u32(m.cmd(LC_ID_DYLIB) + 8, 0x1000))

    def unterminated_name(m):
        at = m.cmd(LC_ID_DYLIB)
        size = m.u32(at + 4)
        name = at + m.u32(at + 8)
        m.b[name:at + size] = b"A" * (at + size - name)

    case("dylib-name-unterminated", C, F, "has a bad dylib name", unterminated_name)

    def both_fixups(m):
        at = harmless(m, 48)            # an LC_DYLD_INFO_ONLY beside the chained fixups
        m.b[at:at + 48] = struct.pack("<II10I", LC_DYLD_INFO_ONLY, m.u32(at + 4), *([0] * 10))

    case("both-fixup-kinds", C, F, "has both LC_DYLD_INFO and LC_DYLD_CHAINED_FIXUPS", both_fixups, base=chained)
    case("linkedit-twice", C, F, "has two __LINKEDIT segments",
         lambda m: m.b.__setitem__(slice(m.seg("__DATA") + 8, m.seg("__DATA") + 24), b"__LINKEDIT".ljust(16, b"\0")))

    # -- segments
    S = "segments"
    data, text = m0.seg("__DATA"), m0.seg("__TEXT")
    case("segment-fileoff-past-end", S, F, "segment __DATA (", lambda m: m.u64(data + 40, len(info) + 0x4000))
    case("segment-filesize-over-vmsize", S, F, "segment __DATA (",
         lambda m: m.u64(data + 32, m.u64(data + 48) - 0x10))
    case("segment-vmsize-wraps", S, F, "segment __LINKEDIT (", lambda m: m.u64(le + 32, (1 << 64) - 0x1000))
    case("segments-overlap", S, F, "segment __DATA (vmaddr 0x%x) is misaligned or overlaps the one before"
         % m0.u64(text + 24), lambda m: move_segment(m, "__DATA", m.u64(text + 24)))

    def unsorted(m):
        va, vb = m.u64(m.seg("__TEXT") + 24), m.u64(m.seg("__DATA") + 24)
        move_segment(m, "__TEXT", vb)
        move_segment(m, "__DATA", va)

    case("segments-unsorted", S, F, "overlaps the one before", unsorted)
    case("segment-w-and-x", S, U, "segment __TEXT is both writable and executable (W^X)", lambda m: m.u32(text + 60, 7))
    case("segment-misaligned", S, F, "segment __DATA (vmaddr 0x%x) is misaligned" % (m0.u64(data + 24) + 0x10),
         lambda m: move_segment(m, "__DATA", m.u64(data + 24) + 0x10))
    case("section-outside-segment", S, F, "is not inside its segment",
         lambda m: m.u64(text + 72 + 32, m.u64(text + 24) + 0x100000))
    case("linkedit-writable", S, F, "__LINKEDIT must be readable and not writable", lambda m: m.u32(le + 60, 3))
    case("no-segments", S, F, "has no LC_SEGMENT_64",
         lambda m: [m.u32(o, 0x7A) for o, c, _ in m.cmds() if c == LC_SEGMENT_64])
    exp_off, exp_size = m0.dyld_info("export")
    case("exports-outside-linkedit", S, F, "export info (offset 0x%x" % (len(info) + 0x100),
         lambda m: m.u32(m.cmd(LC_DYLD_INFO_ONLY) + 40, len(info) + 0x100))
    case("symtab-outside-linkedit", S, F, "symbol table (offset",
         lambda m: m.u32(m.cmd(LC_SYMTAB) + 8, 0x10))
    case("strtab-outside-linkedit", S, F, "string table (offset",
         lambda m: m.u32(m.cmd(LC_SYMTAB) + 20, 0x100000))

    # -- rebase / bind opcodes
    O = "fixups"
    rb_off, rb_size = m0.dyld_info("rebase")
    bd_off, bd_size = m0.dyld_info("bind")
    ops = bind_opcodes(m0.b, bd_off, bd_size)

    def uleb_never_ends(m):
        for pos, op, imm in bind_opcodes(m.b, rb_off, rb_size):   # the rebase stream's first ULEB
            if op == 0x20:
                m.b[pos + 1:rb_off + rb_size] = b"\x80" * (rb_off + rb_size - pos - 1)
                return
        raise ValueError("no SET_SEGMENT_AND_OFFSET_ULEB in the rebase stream")

    case("uleb-never-ends", O, F, "rebase info at byte", uleb_never_ends)
    first_seg = [p for p, op, _ in bind_opcodes(m0.b, rb_off, rb_size) if op == 0x20][0]
    case("rebase-segment-out-of-range", O, F, "segment index out of range",
         lambda m: m.u8(first_seg, 0x2F))

    def rebase_outside(m):
        # SET_TYPE_IMM(pointer), SET_SEGMENT_AND_OFFSET_ULEB(segment 1, 1 MiB), DO_REBASE_IMM_TIMES(1):
        # 7 bytes, in the base's stream of 8
        stream = bytes([0x11, 0x21]) + uleb(1 << 20) + bytes([0x51, 0x00])
        assert len(stream) <= rb_size
        m.b[rb_off:rb_off + rb_size] = stream.ljust(rb_size, b"\0")

    case("rebase-outside-segment", O, F, "a fixup lies outside its segment", rebase_outside)
    case("rebase-opcode-unknown", O, F, "unknown rebase opcode",
         lambda m: m.u8([p for p, op, _ in bind_opcodes(m.b, rb_off, rb_size) if op not in (0, 0x10, 0x20)][0], 0xE0))
    ordinal = [p for p, op, _ in ops if op in (0x10, 0x20, 0x30)][0]
    case("bind-ordinal-past-dylibs", O, F, "names library ordinal 5 of 0", lambda m: m.u8(ordinal, 0x15))
    sym = [p for p, op, _ in ops if op == 0x40][0]

    def bind_no_symbol(m):
        end = m.b.index(0, sym + 1)     # SET_SYMBOL and its name become SET_TYPE_IMM(pointer) no-ops
        m.b[sym:end + 1] = b"\x51" * (end + 1 - sym)

    case("bind-without-symbol", O, F, "bind without a symbol", bind_no_symbol)

    def unterminated_symbol(m):
        m.b[sym + 1:bd_off + bd_size] = b"A" * (bd_off + bd_size - sym - 1)

    case("bind-symbol-unterminated", O, F, "unterminated symbol name", unterminated_symbol)
    case("bind-type-not-pointer", O, F, "bind type is not a pointer",
         lambda m: m.u8([p for p, op, _ in ops if op == 0x50][0], 0x53))
    case("bind-threaded", O, F, "threaded) bind opcode",
         lambda m: m.u8([p for p, op, _ in ops if op == 0x90][0], 0xD0))

    # -- chained fixups
    ch = chained_parts(c0)

    def chain_leaves_page(m):
        w = m.u64(ch["word"])
        m.u64(ch["word"], (w & ~(0xFFF << 51)) | (0xFFF << 51))

    # next = 0xfff strides of 4 bytes: past the end of a 4 KiB page (x86_64), to the page's last
    # word on a 16 KiB page (arm64), which a 64-bit pointer there would overrun
    case("chain-leaves-page", O, F, "its page", chain_leaves_page, base=chained)
    case("chain-start-past-page", O, F, "a chain leaves its page",
         lambda m: m.u16(ch["page"], m.u16(ch["sis"] + 4) - 4), base=chained)
    case("chained-version", O, F, "unknown version or imports format", lambda m: m.u32(ch["header"], 1), base=chained)
    case("chained-imports-format", O, F, "unknown version or imports format",
         lambda m: m.u32(ch["header"] + 20, 9), base=chained)
    case("chained-imports-outside", O, F, "imports table is not inside",
         lambda m: m.u32(ch["header"] + 16, 0x1000000), base=chained)
    case("chained-symbols-compressed", O, U, "compressed symbol names",
         lambda m: m.u32(ch["header"] + 24, 1), base=chained)
    case("chained-starts-outside", O, F, "starts_in_image out of range",
         lambda m: m.u32(ch["header"] + 4, 0x1000000), base=chained)
    case("chained-segment-count", O, F, "starts_in_image counts too many segments",
         lambda m: m.u32(ch["starts"], 50), base=chained)
    case("chained-page-size-zero", O, F, "starts_in_segment is malformed",
         lambda m: m.u16(ch["sis"] + 4, 0), base=chained)
    case("chained-pointer-format", O, U, "chained pointer format DYLD_CHAINED_PTR_ARM64E (1) is not supported",
         lambda m: m.u16(ch["sis"] + 6, 1), base=chained)
    case("chained-multi-starts", O, F, "multiple chain starts per page",
         lambda m: m.u16(ch["page"], 0x8001), base=chained)
    case("chained-import-ordinal-past-dylibs", O, F, "names library ordinal 5 of 0",
         lambda m: [m.u8(ch["imports"] + 4 * k, 5) for k in range(m.u32(ch["header"] + 16))], base=chained)
    case("chained-import-name-outside", O, F, "import name out of range",
         lambda m: [m.u32(ch["imports"] + 4 * k, (m.u32(ch["imports"] + 4 * k) & 0x1FF) | (0x7FFFFF << 9))
                    for k in range(m.u32(ch["header"] + 16))], base=chained)

    def bind_index_past(m):
        word = ch["word"]
        for _ in range(64):                 # the first bind of the chain: its import index
            w = m.u64(word)
            if w >> 63:
                m.u64(word, (w & ~0xFFFFFF) | 0xFFFFF)
                return
            nxt = (w >> 51) & 0xFFF
            if not nxt:
                break
            word += 4 * nxt
        raise ValueError("no bind in the first chain")

    case("chained-import-index-past-table", O, F, "import index out of range", bind_index_past, base=chained)

    # -- export trie
    E = "export trie"
    tr_off, tr_size = c0.linkedit_cmd(LC_DYLD_EXPORTS_TRIE)

    def trie_loops(m):
        pos, n = trie_root(m, tr_off)
        put_uleb(m.b, pos, n, 0)

    case("trie-loops", E, F, "export trie reaches node 0x0 twice (a cycle)", trie_loops, base=chained)

    def trie_child_past(m):
        pos, n = trie_root(m, tr_off)
        put_uleb(m.b, pos, n, (1 << (7 * n)) - 1)

    case("trie-child-past-end", E, F, "has a bad child 0", trie_child_past, base=chained)
    case("trie-uleb-never-ends", E, F, "export trie node at 0x0 is malformed",
         lambda m: m.b.__setitem__(slice(tr_off, tr_off + tr_size), b"\x80" * tr_size), base=chained)
    case("trie-outside-linkedit", E, F, "export trie (offset",
         lambda m: m.u32(m.cmd(LC_DYLD_EXPORTS_TRIE) + 12, 0x1000000), base=chained)

    # -- universal (fat) files
    U2 = "fat"
    me, him = CPUTYPE[cpu], CPUTYPE[other_cpu]
    good = fat([(him, other), (me, chained)])
    o0, o1 = 0x4000, 0x4000 + len(other) + (-len(other) % 0x4000)
    case("fat-slices-overlap", U2, F, "slices 0 and 1 overlap",
         data=fat([(him, other), (me, chained)], entries=[(o0, len(other)), (o0 + 0x1000, len(chained))]))
    case("fat-slice-past-end", U2, F, "slice 1 (offset 0x%x, size 0x%x) is not inside the file" % (o1, len(chained) + 0x100000),
         data=fat([(him, other), (me, chained)], entries=[(o0, len(other)), (o1, len(chained) + 0x100000)]))
    case("fat-slice-offset-wraps", U2, F, "slice 1 (offset 0xfffffffffffff000",
         data=fat([(him, other), (me, chained)], wide=True,
                  entries=[(o0, len(other)), ((1 << 64) - 0x1000, 0x2000)]))
    case("fat-slice-in-header", U2, F, "slice 1 (offset 0x8,",
         data=fat([(him, other), (me, chained)], entries=[(o0, len(other)), (8, 0x100)]))
    case("fat-no-slice-for-cpu", U2, A, "universal file has no %s slice" % cpu, data=fat([(him, other)]))
    case("fat-zero-slices", U2, F, "universal header counts 0 slices", data=good[:4] + b"\0\0\0\0" + good[8:])
    case("fat-header-truncated", U2, F, "universal header of 2 slices is truncated", data=good[:8 + 20])
    case("fat-slice-truncated", U2, F, "too short for a Mach-O header",
         data=fat([(him, other), (me, chained)], entries=[(o0, len(other)), (o1, 16)]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--cpu", required=True, choices=sorted(CPUTYPE))
    ap.add_argument("--other", required=True, choices=sorted(CPUTYPE))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    def read(name):
        with open(os.path.join(a.fixtures, name), "rb") as f:
            return f.read()

    cases = [("elf",) + c for c in elf_cases(read("base.so"))]
    cases += [("macho",) + c for c in macho_cases(read("base.info.%s.dylib" % a.cpu),
                                                   read("base.chained.%s.dylib" % a.cpu),
                                                   read("base.chained.%s.dylib" % a.other), a.cpu, a.other)]
    names = set()
    os.makedirs(a.out, exist_ok=True)
    lines = []
    for fmt, name, cls, code, msg, data in cases:
        full = "%s-%s" % (fmt, name)
        assert full not in names, full
        names.add(full)
        file = full + (".so" if fmt == "elf" else ".dylib")
        with open(os.path.join(a.out, file), "wb") as f:
            f.write(data)
        assert "\t" not in msg and "\n" not in msg
        lines.append("\t".join((full, fmt, cls, file, code, msg)))
    tmp = os.path.join(a.out, "cases.tsv.tmp")
    with open(tmp, "w") as f:
        f.write("# name\tformat\tclass\tfile\tcode\tmessage (see tests/malformed/gen_malformed.py)\n")
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(a.out, "cases.tsv"))
    print("gen_malformed: %d cases (%d ELF, %d Mach-O) in %s" % (
        len(lines), sum(c[0] == "elf" for c in cases), sum(c[0] == "macho" for c in cases), a.out))


if __name__ == "__main__":
    sys.exit(main())
