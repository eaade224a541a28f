#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tests/dist/check_man.py - the built man pages render without a warning
(groff -ww, and man -l where man is installed), and say what they are made
from: every option of vhostmq --help and vhostmqctl --help is an entry of
its page, every vhostmqctl command too, and every key of README.md's
Configuration table an entry of vhostmq.json(5). Without groff: skipped
(77), but failed under CI=true.

  check_man.py VHOSTMQ VHOSTMQCTL README vhostmq.8 vhostmqctl.8 vhostmq.json.5"""
import os
import re
import shutil
import subprocess
import sys

OPT = re.compile(r'(?<![\w-])(--?[A-Za-z][\w-]*)')
failed = []


def fail(msg):
    failed.append(msg)
    print('FAIL: ' + msg)


def render(page):
    """Plain text, each entry's tag on a line of its own at column 7 (wide
    lines: no tag wraps), or None when it warned."""
    r = subprocess.run(['groff', '-man', '-Tutf8', '-ww', '-rLL=200n', '-P-c', '-P-b', '-P-u', page],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = r.stderr.decode()
    if r.returncode != 0 or err:
        fail('%s: groff -man -ww: rc %d: %s' % (page, r.returncode, err.strip()))
        return None
    text = r.stdout.decode('utf-8')
    text = re.sub(r'.\x08', '', text)
    for dash in ('\u2010', '\u2011', '\u2212'):
        text = text.replace(dash, '-')
    if shutil.which('man'):
        env = dict(os.environ, MANWIDTH='80')
        m = subprocess.run(['man', '--warnings', '-l', page], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
        if m.returncode != 0 or m.stderr:
            fail('%s: man --warnings -l: rc %d: %s' % (page, m.returncode,
                                                      m.stderr.decode().strip()))
    return text


def sections(text):
    out, cur = {}, None
    for line in text.split('\n'):
        if re.match(r'[A-Z][A-Z ]+$', line):
            cur = out.setdefault(line, [])
        elif cur is not None:
            cur.append(line)
    return out


def tags(lines):
    """The tag lines of a section's entries (.TP): at column 7, with their
    description at column 14 on the next line, or on the same line when
    the tag is short. Paragraphs, also at column 7, are not tags."""
    out = []
    for i, ln in enumerate(lines):
        if not re.match(r' {7}\S', ln):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ''
        if re.match(r' {14}\S', nxt) or re.match(r' {7}\S{1,6} +\S', ln) and \
                len(ln) > 14 and ln[13] == ' ' and ln[14] != ' ':
            out.append(ln[7:])
    return out


def help_items(exe):
    """(options, commands) named by the tags of exe --help's entries."""
    text = subprocess.run([exe, '--help'], stdout=subprocess.PIPE, check=True,
                          universal_newlines=True).stdout
    opts, cmds, section = set(), set(), None
    for line in text.split('\n'):
        if re.fullmatch(r'[A-Z][A-Za-z ]*:', line):
            section = line[:-1]
            continue
        m = re.match(r' {2,8}(-\S.*?)(\s{2,}|$)', line)
        if m:
            opts.update(OPT.findall(m.group(1)))
        elif section == 'Commands':
            m = re.match(r'  ([a-z]+)\b', line)
            if m:
                cmds.add(m.group(1))
    return opts, cmds


def check_help_page(exe, page):
    text = render(page)
    if text is None:
        return
    secs = sections(text)
    want_opts, want_cmds = help_items(exe)
    if not want_opts:
        fail('%s --help: no options found' % exe)
    got_opts = set()
    for t in tags(secs.get('OPTIONS', [])):
        got_opts.update(OPT.findall(t.split('  ')[0]))
    for o in sorted(want_opts - got_opts):
        fail('%s: option %s of --help is not an entry of OPTIONS' % (page, o))
    got_cmds = {t.split()[0] for t in tags(secs.get('COMMANDS', []))}
    for c in sorted(want_cmds - got_cmds):
        fail('%s: command %s of --help is not an entry of COMMANDS' % (page, c))
    print('%s: %d options, %d commands checked' % (page, len(want_opts), len(want_cmds)))


def check_config_page(readme, page):
    text = render(page)
    if text is None:
        return
    with open(readme, encoding='utf-8') as f:
        md = f.read()
    body = md.split('\n## Configuration\n', 1)[1].split('\n## ', 1)[0]
    want = re.findall(r'^\| `([^`]+)`', body, re.M)
    if len(want) < 10:
        fail('README: Configuration: only %d keys found' % len(want))
    got = {t.split(',')[0].split()[0] for t in tags(sections(text).get('KEYS', []))}
    for k in want:
        if k not in got:
            fail('%s: key %s of README is not an entry of KEYS' % (page, k))
    print('%s: %d keys checked' % (page, len(want)))


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    vhostmq, vhostmqctl, readme, man_vhostmq, man_ctl, man_config = sys.argv[1:]
    if not shutil.which('groff'):
        if os.environ.get('CI') == 'true':
            sys.exit('groff not found (Debian package groff-base), and CI=true')
        print('groff not found: skipped')
        sys.exit(77)
    check_help_page(vhostmq, man_vhostmq)
    check_help_page(vhostmqctl, man_ctl)
    check_config_page(readme, man_config)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
