#!/usr/bin/env python3
"""tour.py -- keep the quoted command outputs of docs/tour.md true.

    python3 scripts/tour.py --check  [--build DIR] [FILE]   compare every quote with a fresh run
    python3 scripts/tour.py --update [--build DIR] [FILE]   rewrite the quotes that drifted

FILE defaults to docs/tour.md. A quote is a fenced code block whose first line is
"$ COMMAND": the command, run from the repository root with /bin/sh (stderr merged into stdout,
LC_ALL=C), and the rest of the block is its output. A line "[...]" in a quote stands for any run
of lines (zero or more) that the tour leaves out.

Both sides are normalized before they are compared, for what legitimately differs from run to
run and machine to machine, and nothing else:
  - the absolute path of the checkout becomes $ROOT;
  - an address (a 0x number of 2^32 or more: every mmap, heap and library address on a 64-bit
    Linux) inside an object the output says it reserved ("PATH: reserved 0xLEN bytes at 0xSTART")
    becomes {PATH}+0xOFFSET, so offsets inside the object are still compared; any other address
    becomes {addr};
  - a time ("12.3 us", "+4 ms") becomes {time}, a trace line's "[   0.123 ms]" [{time}]; "pid 1234" becomes "pid {pid}";
  - the file size of "PATH: loading (N bytes" becomes {size}: the fixtures are built with -g,
    and their debug information records the build directory, so a checkout elsewhere has
    other sizes (the segments, offsets and everything mapped are the same);
  - trailing blanks are dropped.
Sizes, file offsets, counts, names and relocation types are compared as they are.

--build DIR (e.g. build/san): run the commands against another build directory (build/... in a
command becomes DIR/...; DIR/... in the output is read as build/...).

Check mode prints a diff of each drifted quote and exits 1. Update mode rewrites only the quotes
whose normalized text differs (so unchanged quotes keep their addresses and the diff stays small),
keeps the "[...]" elisions where the same lines are still left out, and lists what it changed.
Both modes also check the tour's references: every `file.c:function()` is defined in that file,
every other `function()` in some source file of the project, and every source path it names
exists. Exit status: 0 good, 1 drift or bad reference, 2 usage.
"""
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELIDE = "[...]"
FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)\s*$")
HEX = re.compile(r"0x[0-9a-fA-F]+")
RESERVED = re.compile(r"^(?:trace: )?(?:\[\{time\}\] )?(.*?): reserved (0x[0-9a-f]+) bytes at (0x[0-9a-f]+)")
# The object a trace line is about: "trace: [{time}] PATH: ..." (after normalize's first pass).
LINE_OBJECT = re.compile(r"^trace: (?:\[\{time\}\] )?(\S.*?): ")
# The time since the open began that starts a trace line ("trace: [   0.123 ms] ..."), padded to
# a width: the padding goes with the number.
TIME_PREFIX = re.compile(r"\[\s*\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s)\]")
TIME = re.compile(r"(?<![\w.])\+?\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s)(?!\w)")
PID = re.compile(r"\bpid([ =:])\d+")
LOADING = re.compile(r"(: loading \()\d+( bytes)")
FUNC_REF = re.compile(r"\b((?:loader|arch|tools|tests)/[\w/.-]+\.c):(\w+)\(\)")
PATH_REF = re.compile(r"\b((?:loader|arch|tools|tests|include|scripts|mk|fixtures)/[\w/.-]*\w\.(?:c|h|py|mk|sh))\b")
ADDRESS_MIN = 1 << 32


class Quote:
    """One quoted command: where its body lies in the file, the command, the quoted lines."""

    def __init__(self, line_no, command, body):
        self.line_no = line_no      # index of the "$ command" line
        self.command = command
        self.body = body            # the quoted output lines (may contain ELIDE)


def find_quotes(lines):
    """Every fenced block whose first line starts with "$ "."""
    quotes, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != m.group(1):
            end += 1
        if end > i + 1 and lines[i + 1].startswith("$ "):
            quotes.append(Quote(i + 1, lines[i + 1][2:].strip(), lines[i + 2:end]))
        i = end + 1
    return quotes


def run(command, build):
    """The command's output as the tour shows it: $ROOT for the checkout, build/ for --build."""
    if build != "build":
        command = re.sub(r"(?<![\w/.$-])build/", build + "/", command)
    env = dict(os.environ, LC_ALL="C")
    try:
        p = subprocess.run(command, shell=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        text = p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        text = "(timed out after 120 s)\n"
    text = text.replace(ROOT, "$ROOT")
    if build != "build":
        text = text.replace(build + "/", "build/")
    return [l.rstrip() for l in text.rstrip("\n").split("\n")] if text.strip() else []


def reservations(lines):
    """(path, start, end) of every object the lines say was reserved."""
    out = []
    for l in lines:
        m = RESERVED.match(l)
        if m:
            start = int(m.group(3), 16)
            out.append((m.group(1), start, start + int(m.group(2), 16)))
    return out


def normalize(lines):
    """The comparable form of output lines (see the top of the file). Times, pids and sizes
    first, so that an object's name in its "reserved" line is the same on both sides."""
    plain = []
    for l in lines:
        l = TIME_PREFIX.sub("[{time}]", l)
        l = TIME.sub("{time}", l)
        l = LOADING.sub(r"\1{size}\2", l)
        plain.append(PID.sub(r"pid\1{pid}", l).rstrip())
    objs = reservations(plain)

    def place(v, own):
        """An address as an offset in an object. The end of one object's reservation may be the
        start of the next one's (mmap placed them side by side, or not: it varies), so an
        address is taken first as the line's own object's (the end included), then as inside
        another object, then as another's end."""
        for path, start, end in objs:
            if path == own and start <= v <= end:
                return "{%s}+0x%x" % (path, v - start)
        for path, start, end in objs:
            if start <= v < end:
                return "{%s}+0x%x" % (path, v - start)
        for path, start, end in objs:
            if v == end:
                return "{%s}+0x%x" % (path, v - start)
        return "{addr}"

    def normalized(l):
        if l.strip() == ELIDE:
            return ELIDE
        m = LINE_OBJECT.match(l)
        own = m.group(1) if m else None
        return HEX.sub(lambda h: h.group(0) if int(h.group(0), 16) < ADDRESS_MIN
                       else place(int(h.group(0), 16), own), l)

    return [normalized(l) for l in plain]


def segments(quoted):
    """The quoted lines split at each ELIDE: the first segment is anchored at the start of the
    output, the last at its end, the ones between float (an ELIDE matches any run of lines)."""
    segs = [[]]
    for l in quoted:
        if l == ELIDE:
            segs.append([])
        else:
            segs[-1].append(l)
    return segs


def matches(quoted, actual):
    """Whether the normalized quote (with ELIDE lines) matches the normalized output."""
    segs = segments(quoted)
    if len(segs) == 1:
        return segs[0] == actual
    first, middle, last = segs[0], segs[1:-1], segs[-1]
    if actual[:len(first)] != first:
        return False
    pos = len(first)
    for seg in middle:                      # leftmost match of each is right for this pattern
        found = next((i for i in range(pos, len(actual) - len(seg) + 1) if actual[i:i + len(seg)] == seg), None)
        if found is None:
            return False
        pos = found + len(seg)
    return len(actual) - len(last) >= pos and actual[len(actual) - len(last):] == last


def similarity(a, b):
    """How alike two normalized lines are: 1 when equal, 0 when not worth pairing."""
    if a == b:
        return 1.0
    sm = difflib.SequenceMatcher(None, a, b)
    if sm.real_quick_ratio() < 0.5 or sm.quick_ratio() < 0.5:
        return 0.0
    r = sm.ratio()
    return r if r >= 0.5 else 0.0


def align(kept, new):
    """The order-preserving pairing (i in kept, j in new) of the greatest total similarity: which
    new line each quoted line became (a timing added to a line, a word changed, still pairs)."""
    n, m = len(kept), len(new)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = similarity(kept[i], new[j])
            pair = s + best[i + 1][j + 1] if s > 0 else 0.0
            best[i][j] = max(pair, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = similarity(kept[i], new[j])
        if s > 0 and best[i][j] == s + best[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def requote(old, new_raw):
    """The new quote for a drifted one: the new output, with "[...]" where the old quote left
    lines out. A new line is shown when it pairs with a quoted line, or lies between two that
    the old quote showed with nothing elided between them (and likewise before the first and
    after the last, unless the old quote began or ended with "[...]")."""
    old_norm = normalize(old)
    if ELIDE not in old_norm:
        return new_raw
    kept = [l for l in old_norm if l != ELIDE]
    gap = [False] * (len(kept) + 1)         # gap[k]: an ELIDE just before kept[k] (k = len: at the end)
    k = 0
    for l in old_norm:
        if l == ELIDE:
            gap[k] = True
        else:
            k += 1
    pairs = align(kept, normalize(new_raw))
    if not pairs:
        return new_raw
    shown = [False] * len(new_raw)
    for i, j in pairs:
        shown[j] = True
    edges = [(-1, -1)] + pairs + [(len(kept), len(new_raw))]
    for (i1, j1), (i2, j2) in zip(edges, edges[1:]):
        if not any(gap[i1 + 1:i2 + 1]):
            for j in range(j1 + 1, j2):
                shown[j] = True
    out = []
    for j, l in enumerate(new_raw):
        if shown[j]:
            out.append(l)
        elif not out or out[-1] != ELIDE:
            out.append(ELIDE)
    return out


SOURCE_DIRS = ("loader", "arch", "include", "tools", "tests", "fixtures")
BARE_REF = re.compile(r"(?<![\w:/.>-])([A-Za-z_]\w*)\(\)")


def defines(src, func):
    """Whether C source src defines func: a line starting in the first column (this code's style)
    that names it before a parenthesis, the parameters then running to the end of the line or
    to the body's '{' (a declaration ends with ';' first)."""
    return re.search(r"^[A-Za-z_][^;\n]*\b%s\s*\([^;{\n]*(?:\{|$)" % re.escape(func), src, re.M) is not None


def all_sources():
    """The text of every C source and header of the project, in one string."""
    parts = []
    for top in SOURCE_DIRS:
        for base, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".c", ".h", ".cpp")):
                    with open(os.path.join(base, name), encoding="utf-8", errors="replace") as f:
                        parts.append(f.read())
    return "\n".join(parts)


def check_references(text, quotes, path):
    """Every `file.c:function()` cited is defined in that file, every other name() anywhere in
    the project's sources (quoted command output aside), and every source path named exists."""
    bad = []
    for rel in sorted(set(m.group(1) for m in PATH_REF.finditer(text))):
        if not os.path.exists(os.path.join(ROOT, rel)):
            bad.append("%s: names %s, which does not exist" % (path, rel))
    for rel, func in sorted(set(FUNC_REF.findall(text))):
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                if not defines(f.read(), func):
                    bad.append("%s: cites %s:%s(), which that file does not define" % (path, rel, func))
        except OSError:
            pass                            # reported above
    prose = text.split("\n")
    for q in quotes:                        # command output may say anything
        for i in range(q.line_no, q.line_no + 1 + len(q.body)):
            prose[i] = ""
    sources = all_sources()
    for func in sorted(set(BARE_REF.findall("\n".join(prose)))):
        if not defines(sources, func):
            bad.append("%s: cites %s(), which no source file defines" % (path, func))
    return bad


def main(argv):
    mode, build, path = None, "build", "docs/tour.md"
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--check", "--update"):
            mode = a[2:]
        elif a == "--build" and args:
            build = args.pop(0).rstrip("/")
        elif not a.startswith("-"):
            path = a
        else:
            mode = None
            break
    if mode is None:
        sys.stderr.write("usage: tour.py --check|--update [--build DIR] [FILE]\n")
        return 2
    full = path if os.path.isabs(path) else os.path.join(ROOT, path)
    with open(full, encoding="utf-8") as f:
        lines = f.read().split("\n")
    quotes = find_quotes(lines)
    problems = check_references("\n".join(lines), quotes, path)
    for p in problems:
        print(p)
    drifted = 0
    for q in reversed(quotes):              # from the end: earlier line numbers stay valid
        new_raw = run(q.command, build)
        want, have = normalize(q.body), normalize(new_raw)
        if matches(want, have):
            continue
        drifted += 1
        where = "%s:%d: $ %s" % (path, q.line_no + 1, q.command)
        if mode == "check":
            print("%s: the quoted output drifted (normalized; - quoted, + now):" % where)
            sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(want, have, "quoted", "now", lineterm="", n=2))
        else:
            lines[q.line_no + 1:q.line_no + 1 + len(q.body)] = requote(q.body, new_raw)
            print("%s: updated" % where)
    if mode == "update" and drifted:
        with open(full, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    print("tour: %d quotes, %d %s, %d bad references" %
          (len(quotes), drifted, "drifted" if mode == "check" else "updated", len(problems)))
    return 1 if problems or (mode == "check" and drifted) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
