#!/usr/bin/env python3
"""mancheck.py - do the man pages cover what the program knows?

  mancheck.py keys ROOT        config keys of shim/config.c's keydef tables
                               vs the .TP entries of txcache.ini(5)'s
                               [cache] and [function NAME] sections
  mancheck.py kinds ROOT       the parameter kinds and return kinds that
                               shim/sig_canon.c prints vs the signature
  mancheck.py cli ROOT TXCACHE the usage lines of `TXCACHE --help` vs
                               txcache(1)'s SYNOPSIS, COMMANDS and OPTIONS

Prints one line per mismatch and exits 1 when there is one. What the
program knows is read from the source or the program, never from a list
kept here: a key added to the parser and not to the page fails the test.
"""
import re
import subprocess
import sys


def text_of(line):
    """Plain text of one groff line: font macros join their arguments
    (alternating fonts, no spaces), other requests give nothing."""
    line = line.rstrip("\n")
    m = re.match(r"^\.(B|I|BR|RB|BI|IB|IR|RI)\s+(.*)$", line)
    if m:
        args = re.findall(r'"((?:[^"]|"")*)"|(\S+)', m.group(2))
        words = [q.replace('""', '"') if q or not u else u for q, u in args]
        sep = " " if m.group(1) in ("B", "I") else ""
        s = sep.join(words)
    elif line.startswith("."):
        return ""
    else:
        s = line
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\(em", "-").replace("\\ ", " ")


def sections(path):
    """{section title: [lines]} of a man page (.SH TITLE)."""
    out, cur = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\.SH\s+(.*)$", line.rstrip("\n"))
        if m:
            cur = m.group(1).strip('"')
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def tp_entries(lines):
    """[(tag text, body text)] of the .TP paragraphs in LINES."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith(".TP") and i + 1 < len(lines):
            body, j = [], i + 2
            while j < len(lines) and not re.match(r"^\.(TP|SH|SS|PP|P|LP)\b", lines[j]):
                body.append(text_of(lines[j]))
                j += 1
            out.append((text_of(lines[i + 1]), " ".join(body)))
            i = j
        else:
            i += 1
    return out


def tag_words(tag):
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", tag))


def keydefs(root, table):
    src = open(f"{root}/shim/config.c", encoding="utf-8").read()
    m = re.search(r"\b%s\[[A-Z_]+\]\s*=\s*\{(.*?)\n\};" % table, src, re.S)
    if not m:
        sys.exit(f"mancheck: no keydef table {table} in shim/config.c")
    return set(re.findall(r'\[[A-Z_]+\]\s*=\s*\{\s*"([^"]+)"', m.group(1)))


def check_keys(root):
    page = f"{root}/shim/man/txcache.ini.5"
    secs = sections(page)
    bad = []
    for table, title in (("cache_keys", "[cache]"), ("fn_keys", "[function NAME]")):
        known = keydefs(root, table)
        if title not in secs:
            bad.append(f"txcache.ini.5: no section {title}")
            continue
        documented = set()
        for tag, _ in tp_entries(secs[title]):
            documented |= tag_words(tag)
        for k in sorted(known - documented):
            bad.append(f"txcache.ini.5 {title}: key '{k}' (shim/config.c {table}) has no .TP entry")
        for k in sorted(documented - known):
            bad.append(f"txcache.ini.5 {title}: documents '{k}', which the parser does not know")
    return bad


def sig_kinds(root):
    """The kind words shim/sig_canon.c (the canonical printer) prints for
    parameters and returns."""
    src = "".join(open(f"{root}/shim/{f}", encoding="utf-8").read()
                  for f in ("sig.c", "sig_canon.c"))
    kinds = set()
    for enum, lit in re.findall(r"case (TXC_[KR]_[A-Z_]+):\s*sb_add\([^,]+,\s*\"([^\"]*)\"", src):
        word = re.split(r"[\[%]", lit)[0].strip()
        if word and word != "?":
            kinds.add(word)
    if len(kinds) < 8:
        sys.exit(f"mancheck: found only {sorted(kinds)} in shim/sig*.c: the scan is stale")
    return kinds


def check_kinds(root):
    secs = sections(f"{root}/shim/man/txcache.ini.5")
    body = dict(tp_entries(secs.get("[function NAME]", []))).get("signature", "")
    text = re.sub(r"\s+", " ", body)
    return [f"txcache.ini.5 signature: kind '{k}' (shim/sig_canon.c) is not described"
            for k in sorted(sig_kinds(root)) if not re.search(r"(^|[\s(,])%s\b" % re.escape(k), text)]


def usage_of(line):
    """'NAME USAGE...' of a --help line, its description dropped."""
    toks, out, depth = line.split(), [], 0
    for t in toks:
        if depth or re.match(r"^(\[|--?[a-z-]*$|[A-Z][A-Z_]*(\.\.\.)?$)", t) or len(out) < 2:
            out.append(t)
            depth += t.count("[") - t.count("]")
        else:
            break
    return " ".join(out)


def synopsis_lines(lines):
    out, cur = [], []
    for line in lines + [".br\n"]:
        if line.startswith(".br"):
            if cur:
                out.append(re.sub(r"\s+", " ", " ".join(cur)).strip())
            cur = []
        else:
            cur.append(text_of(line))
    return out


def check_cli(root, txcache):
    helptext = subprocess.run([txcache, "--help"], capture_output=True, text=True, check=True).stdout
    usages = [usage_of(l.strip()) for l in helptext.splitlines() if l.startswith("  txcache ")]
    if not usages:
        sys.exit("mancheck: txcache --help lists no command")
    secs = sections(f"{root}/shim/man/txcache.1")
    synopsis = synopsis_lines(secs.get("SYNOPSIS", []))
    commands = set()
    for tag, _ in tp_entries(secs.get("COMMANDS", [])):
        commands |= tag_words(tag)
    options = set()
    for tag, _ in tp_entries(secs.get("OPTIONS", [])):
        options |= set(re.findall(r"--?[a-z][a-z-]*", tag))
    bad = []
    for u in usages:
        name = u.split()[1]
        if u not in synopsis:
            bad.append(f"txcache.1 SYNOPSIS: no line '{u}' (txcache --help)")
        if name not in commands:
            bad.append(f"txcache.1 COMMANDS: no entry for '{name}'")
        for opt in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", u):
            if opt not in options:
                bad.append(f"txcache.1 OPTIONS: no entry for '{opt}' ({name})")
    names = {u.split()[1] for u in usages}
    for s in synopsis:
        if len(s.split()) < 2 or s.split()[1] not in names:
            bad.append(f"txcache.1 SYNOPSIS: '{s}' is no command of txcache --help")
    return bad


def main(argv):
    if len(argv) >= 3 and argv[1] == "keys":
        bad = check_keys(argv[2])
    elif len(argv) >= 3 and argv[1] == "kinds":
        bad = check_kinds(argv[2])
    elif len(argv) >= 4 and argv[1] == "cli":
        bad = check_cli(argv[2], argv[3])
    else:
        sys.exit(__doc__)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
