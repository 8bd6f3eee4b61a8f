#!/usr/bin/env python3
"""Run Oracle dtrace-utils unit tests (test/unittest) against vtrace.

A development tool (issue 13): it ships none of dtrace-utils' files. Give it the path of an
unpacked dtrace-utils checkout (one holding test/unittest and runtest.sh), e.g.

  git --git-dir=DTU.git archive devel test | tar -x -C /tmp/dtu
  tools/dtrace_utils_conformance.py /tmp/dtu [--vtrace build-c/vtrace] [-j 2] [CATEGORY...]

It follows runtest.sh's conventions where they apply to a D script run on its own:

  * tst.*.d must exit 0, err.*.d must exit 1; `-s FILE` plus `@@runtest-opts`, run from the
    checkout's top directory (the .r files name scripts as test/unittest/...), with
    _DTRACE_TESTING=t and LANGUAGE=C in the environment, under a timeout (`@@timeout`).
  * tests with a trigger (`@@trigger` other than none, a .t), `@@skip`, `@@xfail`, a .x
    (the test's or a directory's test.x), a .sh, a .c or a #!dtrace interpreter line are skipped.
  * tst: stdout, then `-- @@stderr --` and stderr if stderr is not empty ("vtrace:" read as
    "dtrace:"), through the test's executable .r.p post-processor if any, 0x... replaced by
    {ptr}, sorted unless `@@nosort`, must equal the .r (or .x86_64.r) sorted the same way.
  * err: must exit 1; when the .r says the compiler failed at "line N", vtrace's diagnostic
    must name line N (`FILE:N:COL: error:` or `line N`).

It prints per-category pass counts and the failing tests (with -v, a diff for each tst).
"""

import argparse
import concurrent.futures
import difflib
import os
import platform
import re
import shlex
import subprocess
import sys

CATEGORIES = (
    "aggs arithmetic arrays assocs begin builtinvar clauses end error funcs grammar lexer "
    "multiaggs operators pragma predicates printa printf scalars speculation tick-n trace "
    "options codegen types"
).split()

# runtest.sh's default is 41 s; 15 lets the tests that run tick-1 ten times finish while a test
# that hangs costs less.
DEFAULT_TIMEOUT = 15
ARCH = platform.machine()


def option_lines(path, name):
    """Values of @@NAME in PATH and the test.options files above it (runtest.sh's
    extract_options without accumulation: the nearest file that has it wins)."""
    pat = re.compile(r"@@" + re.escape(name) + r"(?: *:|\s|$)")
    d = path
    files = [path]
    while True:
        d = os.path.dirname(d)
        if not d or d.endswith("/test") or d == "test":
            break
        opt = os.path.join(d, "test.%s.options" % ARCH)
        files.append(opt if os.path.exists(opt) else os.path.join(d, "test.options"))
    for f in files:
        if not os.path.isfile(f):
            continue
        with open(f, errors="replace") as fh:
            vals = []
            for line in fh:
                if pat.search(line):
                    v = re.sub(r".*@@" + re.escape(name) + r" *: ?", "", line.rstrip("\n"))
                    if v == line.rstrip("\n"):
                        v = ""
                    v = re.sub(r"\*/$", "", v).rstrip()
                    vals.append(v)
            if vals:
                return vals
    return None


def skip_reason(root, test):
    base = test[:-2]
    full = os.path.join(root, test)
    if option_lines(full, "skip") is not None:
        return "skip"
    if option_lines(full, "xfail") is not None and option_lines(full, "no-xfail") is None:
        return "xfail"
    trig = option_lines(full, "trigger")
    if trig is not None and trig[0].strip() != "none":
        return "trigger"
    for ext in (".t", ".sh", ".c", ".x", ".%s.x" % ARCH):
        if os.path.exists(os.path.join(root, base + ext)):
            return ext
    d = os.path.dirname(full)
    while d.startswith(os.path.join(root, "test/unittest")):
        if os.path.exists(os.path.join(d, "test.x")):
            return "test.x"
        d = os.path.dirname(d)
    with open(full, errors="replace") as fh:
        if fh.readline().startswith("#!"):
            return "interpreter"
    return None


def expected_file(root, base):
    for r in (base + ".%s.r" % ARCH, base + ".r"):
        if os.path.exists(os.path.join(root, r)):
            return r
    return None


def postprocess(root, base, text):
    pp = os.path.join(root, base + ".r.p")
    if os.access(pp, os.X_OK):
        try:
            p = subprocess.run([pp], input=text.encode(), capture_output=True, cwd=root, timeout=30)
            text = p.stdout.decode(errors="replace")
        except (OSError, subprocess.TimeoutExpired):
            pass
    out = []
    for line in text.splitlines(keepends=True):
        if not re.match(r"^==[0-9]+== ", line):
            line = re.sub(r"0x[0-9a-f]+", "{ptr}", line)
        line = re.sub(r"at BPF pc [1-9][0-9]*", "at BPF pc NNN", line)
        # The instruction offset of a run-time error is an implementation's own number: runtest.sh
        # blanks Oracle's (a BPF pc); vtrace's is an offset in its bytecode, blanked the same way.
        line = re.sub(r"at DIF offset [0-9]+$", "at BPF pc NNN", line)
        out.append(line)
    return "".join(out)


def run_test(root, vtrace, test):
    base = test[:-2]
    name = os.path.basename(test)
    is_err = name.startswith("err.")
    full = os.path.join(root, test)
    args = [vtrace, "-s", test]
    opts = option_lines(full, "runtest-opts")
    if opts:
        args += shlex.split(" ".join(opts))
    timeout = DEFAULT_TIMEOUT
    t = option_lines(full, "timeout")
    if t and t[0].strip().isdigit():
        timeout = max(timeout, min(int(t[0]), 30))
    env = dict(os.environ, _DTRACE_TESTING="t", LANGUAGE="C")
    try:
        p = subprocess.run(args, cwd=root, env=env, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, start_new_session=True)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = "timeout", e.stdout or b"", e.stderr or b""
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    if code == "timeout" and option_lines(full, "timeout-success") is not None:
        code = 0
    rfile = expected_file(root, base)
    expected = open(os.path.join(root, rfile), errors="replace").read() if rfile else None
    if is_err:
        if code != 1:
            return False, "exit %s (expected 1)" % code, err
        m = re.search(r"\] line (\d+):|: line (\d+):", expected or "")
        if m and "failed to compile" in (expected or ""):
            line = m.group(1) or m.group(2)
            if not re.search(r"(\.d:%s:\d+: |line %s\b)" % (line, line), err):
                return False, "not diagnosed at line %s" % line, err
        return True, "", ""
    got = out
    if err:
        got += "-- @@stderr --\n" + re.sub(r"^vtrace:", "dtrace:", err, flags=re.M)
    got = postprocess(root, base, got)
    if code != 0:
        return False, "exit %s" % code, diff(expected or "", got)
    if expected is None:
        return True, "", ""
    if option_lines(full, "nosort") is None:
        exp_c, got_c = sorted(expected.splitlines()), sorted(got.splitlines())
    else:
        exp_c, got_c = expected.splitlines(), got.splitlines()
    if exp_c != got_c:
        return False, "output differs", diff(expected, got)
    return True, "", ""


def diff(expected, got):
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                        got.splitlines(keepends=True), "expected", "vtrace"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkout", help="unpacked dtrace-utils (holding test/unittest)")
    ap.add_argument("categories", nargs="*", default=CATEGORIES)
    ap.add_argument("--vtrace", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                     "vtrace"))
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true", help="print a diff or stderr for each failure")
    ap.add_argument("--only", help="regex: run only tests whose path matches")
    a = ap.parse_args()
    root = os.path.abspath(a.checkout)
    vtrace = os.path.abspath(a.vtrace)
    tests, skipped = [], 0
    for cat in a.categories:
        for dirpath, _, files in sorted(os.walk(os.path.join(root, "test/unittest", cat))):
            for f in sorted(files):
                if not (f.endswith(".d") and (f.startswith("tst.") or f.startswith("err."))):
                    continue
                t = os.path.relpath(os.path.join(dirpath, f), root)
                if a.only and not re.search(a.only, t):
                    continue
                if skip_reason(root, t):
                    skipped += 1
                else:
                    tests.append((cat, t))
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        results = list(ex.map(lambda ct: run_test(root, vtrace, ct[1]), tests))
    counts = {}
    failures = []
    for (cat, t), (ok, why, detail) in zip(tests, results):
        kind = "err" if os.path.basename(t).startswith("err.") else "tst"
        c = counts.setdefault(cat, {"tst": [0, 0], "err": [0, 0]})
        c[kind][1] += 1
        if ok:
            c[kind][0] += 1
        else:
            failures.append((t, why, detail))
    for t, why, detail in failures:
        print("FAIL %s: %s" % (t, why))
        if a.v and detail:
            print("    " + detail.rstrip("\n").replace("\n", "\n    "))
    print("\n%-12s %9s %9s" % ("category", "tst", "err"))
    tot = {"tst": [0, 0], "err": [0, 0]}
    for cat in a.categories:
        c = counts.get(cat, {"tst": [0, 0], "err": [0, 0]})
        for k in tot:
            tot[k][0] += c[k][0]
            tot[k][1] += c[k][1]
        print("%-12s %4d/%-4d %4d/%-4d" % (cat, c["tst"][0], c["tst"][1], c["err"][0],
                                          c["err"][1]))
    print("%-12s %4d/%-4d %4d/%-4d   (%d skipped)" % ("total", tot["tst"][0], tot["tst"][1],
                                                    tot["err"][0], tot["err"][1], skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
