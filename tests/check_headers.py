#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tests/check_headers.py - every header compiles on its own (DPDK's
check_includes): for each .h under the module folders, found when the test
runs (so a header added later is covered without touching this file), a .c
file whose only content is that header, included twice, is compiled with the
project's C standard, defines and warnings as errors, the source and build
roots as include paths, and the pkg-config cflags of the libraries the
modules use. The modules that parse peer data are held to their stricter
warnings, as their libraries are. Each header must also carry the guard its
path names (vhost-user/msg.h: VHOSTMQ_VHOST_USER_MSG_H). Before any of that, a
header that is known not to be self-contained must fail, so a compiler
invocation that accepts everything cannot pass the test.

Usage: check_headers.py --source-root DIR --build-root DIR --cc CC [--cc ARG...]
       [--pkg NAME...] [--strict-dir DIR --strict-flag FLAG...] [--flag FLAG...]
Exit 0 when every header passes, 1 otherwise (each failure printed)."""
import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile

MODULES = ["common", "virtio", "vhost-user", "pmd", "config", "backend"]


def guard_of(rel):
    return "VHOSTMQ_" + re.sub(r"[^A-Za-z0-9]", "_", rel[:-2]).upper() + "_H"


def compile_one(cmd, include, tmp):
    """Compiles a .c file holding `include` twice; (ok, compiler output)."""
    fd, path = tempfile.mkstemp(suffix=".c", dir=tmp)
    with os.fdopen(fd, "w") as f:
        f.write(f'#include "{include}"\n#include "{include}"\n')
    r = subprocess.run(cmd + ["-fsyntax-only", path], capture_output=True, text=True)
    os.unlink(path)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    ap.add_argument("--cc", action="append", required=True, help="compiler command word")
    ap.add_argument("--pkg", action="append", default=[], help="pkg-config package")
    ap.add_argument("--flag", action="append", default=[], help="flag for every header")
    ap.add_argument("--strict-dir", action="append", default=[])
    ap.add_argument("--strict-flag", action="append", default=[])
    a = ap.parse_args()

    pkg = []
    if a.pkg:
        r = subprocess.run(["pkg-config", "--cflags"] + a.pkg, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"check_headers: pkg-config --cflags {' '.join(a.pkg)}: {r.stderr.strip()}")
            return 1
        pkg = shlex.split(r.stdout)
    base = (a.cc + ["-std=gnu11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                    "-I", a.source_root, "-I", a.build_root] + pkg + a.flag)
    headers = sorted(os.path.relpath(os.path.join(d, f), a.source_root)
                     for m in MODULES
                     for d, _, files in os.walk(os.path.join(a.source_root, m))
                     for f in files if f.endswith(".h"))
    if not headers:
        print("check_headers: no header found under " + ", ".join(MODULES))
        return 1

    failed = []
    with tempfile.TemporaryDirectory(prefix="vhostmq-headers-") as tmp:
        # The canary: a header that uses uint32_t without <stdint.h>.
        canary = os.path.join(tmp, "canary.h")
        with open(canary, "w") as f:
            f.write("#ifndef CANARY_H\n#define CANARY_H\nuint32_t canary(void);\n#endif\n")
        ok, _ = compile_one(base, canary, tmp)
        if ok:
            print("check_headers: a header that is not self-contained compiled: "
                  "the compiler command checks nothing: " + shlex.join(base))
            return 1

        def check(rel):
            strict = rel.split(os.sep)[0] in a.strict_dir
            problems = []
            with open(os.path.join(a.source_root, rel), errors="replace") as f:
                m = re.search(r"^#ifndef\s+(\S+)\s*\n#define\s+(\S+)", f.read(), re.M)
            want = guard_of(rel)
            if m is None or m.group(1) != want or m.group(2) != want:
                problems.append(f"include guard: want #ifndef/#define {want}")
            ok, out = compile_one(base + (a.strict_flag if strict else []), rel, tmp)
            if not ok:
                problems.append("does not compile as the only include of a .c file:\n" + out)
            return rel, problems

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            for rel, problems in ex.map(check, headers):
                print(("ok     " if not problems else "FAIL   ") + rel)
                for p in problems:
                    print("    " + p.replace("\n", "\n    "))
                if problems:
                    failed.append(rel)

    print(f"check_headers: {len(headers) - len(failed)} of {len(headers)} headers "
          "self-contained" + (": FAIL " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
