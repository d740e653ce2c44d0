#!/usr/bin/env python3
"""gen_reloc_overwrites_strtab.py — writes fuzz/crashes/reloc-overwrites-strtab (4096 bytes).

A hand-made x86-64 shared object showing that a relocation may rewrite a table that the loader
validated before relocating. Its one RW PT_LOAD holds everything; the dynamic string table
(DT_STRTAB, 16 bytes) ends exactly at the end of that page, and the next page of the reservation
is a PROT_NONE gap (a second PT_LOAD sits at 0x3000). Relocations, in order:
  0: R_X86_64_64, no symbol, at 0xff8, addend 0x4141414141414141 — overwrites the last 8 bytes of
     the string table, including its final NUL (checked at decode time, now gone);
  1: R_X86_64_64 against symbol 1 (weak, undefined), whose name is the last string — resolving it
     hashes an unterminated name and reads past the page: SIGSEGV in gnu_hash_of.
usage: gen_reloc_overwrites_strtab.py [OUT]
"""
import struct
import sys

PAGE = 0x1000
out = bytearray(PAGE)

# ELF header: ET_DYN, EM_X86_64, 3 program headers at 64, no sections.
ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
out[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 3, 0, 0, 0)


def phdr(i, p_type, flags, off, vaddr, filesz, memsz, align):
    out[64 + 56 * i:64 + 56 * (i + 1)] = struct.pack("<IIQQQQQQ", p_type, flags, off, vaddr, vaddr,
                                                     filesz, memsz, align)


PT_LOAD, PT_DYNAMIC, PF_R, PF_W = 1, 2, 4, 2
DYN, HASH, SYMTAB, RELA, SLOT, STRTAB = 0x100, 0x200, 0x240, 0x280, 0x300, PAGE - 16
phdr(0, PT_LOAD, PF_R | PF_W, 0, 0, PAGE, PAGE, PAGE)
phdr(1, PT_LOAD, PF_R, 0, 0x3000, 0x100, 0x100, PAGE)     # leaves 0x1000-0x3000 PROT_NONE
dyn = [(4, HASH), (5, STRTAB), (6, SYMTAB), (10, 16), (11, 24), (7, RELA), (8, 48), (9, 24), (0, 0)]
phdr(2, PT_DYNAMIC, PF_R | PF_W, DYN, DYN, 16 * len(dyn), 16 * len(dyn), 8)
for i, (tag, val) in enumerate(dyn):
    out[DYN + 16 * i:DYN + 16 * (i + 1)] = struct.pack("<qQ", tag, val)

out[HASH:HASH + 20] = struct.pack("<IIIII", 1, 2, 1, 0, 0)       # nbucket 1, nchain 2
STB_WEAK, STT_FUNC = 2, 2
out[SYMTAB + 24:SYMTAB + 48] = struct.pack("<IBBHQQ", 1, (STB_WEAK << 4) | STT_FUNC, 0, 0, 0, 0)
R_X86_64_64 = 1
out[RELA:RELA + 24] = struct.pack("<QQQ", PAGE - 8, R_X86_64_64, 0x4141414141414141)
out[RELA + 24:RELA + 48] = struct.pack("<QQq", SLOT, (1 << 32) | R_X86_64_64, 0)
out[STRTAB:PAGE] = b"\0" + b"b" * 14 + b"\0"

path = sys.argv[1] if len(sys.argv) > 1 else "fuzz/crashes/reloc-overwrites-strtab"
with open(path, "wb") as f:
    f.write(out)
