#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""man/mkman.py - writes vhostmq's man pages from the text they document, so
they cannot drift from it: vhostmq(8) and vhostmqctl(8) from the program's
own --help (run at build time), vhostmq.json(5) from README.md's
"## Configuration" section (its example and key table) and its "### Who can
attach" section. Only what --help and the README cannot say (files, see
also) is written here. Standard library only.

  mkman.py help --exe BUILD/vhostmq --page vhostmq -o vhostmq.8 [paths]
  mkman.py config --readme README.md -o vhostmq.json.5 [paths]

A help text or README shape it does not know is an error, never a page
with a part missing."""
import argparse
import re
import subprocess
import sys

SECTION_TITLE = {'1': 'User Commands', '5': 'File Formats',
                 '8': 'System Administration'}


class ShapeError(Exception):
    pass


def esc(text):
    """Plain text to roff: backslashes escaped, option-like words given
    real minus signs (\\-), so they copy and search as typed."""
    text = text.replace('\\', '\\e')
    return re.sub(r'(?<![\w-])(--?[A-Za-z][\w-]*)',
                  lambda m: m.group(1).replace('-', '\\-'), text)


def line_safe(line):
    """A line of running text must not start with a control character."""
    return '\\&' + line if line[:1] in ('.', "'") else line


def tag_roff(tag):
    """An option or command tag: option names and command words bold,
    placeholders (FILE, QP, W0, NAME=on|off) italic, punctuation plain."""
    out = []
    for word in tag.split(' '):
        comma = word.endswith(',')
        w = word[:-1] if comma else word
        if w in ('|', '...', '') or re.fullmatch(r'[\[\]]', w):
            r = esc(w)
        elif w.startswith('[') or w.endswith(']'):
            inner = w.strip('[]')
            r = (esc(w[:len(w) - len(w.lstrip('['))]) + tag_roff(inner) +
                 esc(w[len(w.rstrip(']')):]))
        elif re.fullmatch(r'[A-Z][A-Z0-9_]*(=[\w|]+)?', w):
            r = '\\fI' + esc(w) + '\\fR'
        else:
            r = '\\fB' + esc(w) + '\\fR'
        out.append(r + (',' if comma else ''))
    return ' '.join(out)


def parse_help(text):
    """--help text -> (synopsis, description lines, [section]); a section
    is (title, [item | paragraph]), an item ([tags], [description lines]),
    a paragraph ('p', [lines])."""
    lines = text.rstrip('\n').split('\n')
    m = re.fullmatch(r'Usage: (\S+) ?(.*)', lines[0])
    if not m:
        raise ShapeError('first line is not "Usage: PROGRAM ...": %r' % lines[0])
    synopsis = (m.group(1), m.group(2))
    i = 1
    desc = []
    while i < len(lines) and lines[i] != '':
        desc.append(lines[i])
        i += 1
    sections = []
    cur = None          # the section being filled
    para = None         # the paragraph being filled, if any
    col = None          # the section's description column (its first item's)
    for line in lines[i:]:
        if line == '':
            para = None
            continue
        if re.fullmatch(r'[A-Z][A-Za-z ]*:', line):
            cur = (line[:-1].upper(), [])
            sections.append(cur)
            para = col = None
            continue
        indent = len(line) - len(line.lstrip(' '))
        if col is not None and indent >= col and para is None:
            item = cur[1][-1]
            if item[0] == 'p':
                raise ShapeError('indented line after a paragraph: %r' % line)
            item[1].append(line.strip())
            continue
        if indent >= 2 and (col is None or indent < col):
            if cur is None:
                cur = ('OPTIONS', [])
                sections.append(cur)
            para = None
            parts = re.split(r'\s{2,}', line.strip(), maxsplit=1)
            if col is None and len(parts) > 1:
                col = len(line) - len(parts[1])
            prev = cur[1][-1] if cur[1] else None
            if prev and prev[0] != 'p' and not prev[1]:
                prev[0].append(parts[0])   # a second tag for one description
                if len(parts) > 1:
                    prev[1].append(parts[1])
            else:
                cur[1].append(([parts[0]], parts[1:]))
            continue
        if indent:
            raise ShapeError('line of unknown shape: %r' % line)
        # Text at column 0: a paragraph, or a section of its own.
        m = re.match(r'(Exit status): *(.*)', line)
        if m or line.startswith('SIG'):
            cur = ('EXIT STATUS', []) if m else ('SIGNALS', [])
            sections.append(cur)
            para = ('p', [m.group(2)] if m else [line])
            cur[1].append(para)
            continue
        if cur is None:
            raise ShapeError('text before any option: %r' % line)
        if para is None:
            para = ('p', [])
            cur[1].append(para)
        para[1].append(line)
    return synopsis, desc, sections


def roff_help(name, section, help_text, extra):
    synopsis, desc, sections = parse_help(help_text)
    if synopsis[0] != name:
        raise ShapeError('--help is about %r, not %r' % (synopsis[0], name))
    out = header(name, section, extra)
    out += ['.SH NAME', '%s \\- %s' % (esc(name), esc(extra['summary'])),
            '.SH SYNOPSIS', '.B %s' % esc(name)]
    if synopsis[1]:
        out.append(tag_roff(synopsis[1]))
    out.append('.SH DESCRIPTION')
    out += [line_safe(esc(line)) for line in desc]
    for p in extra.get('description', []):
        out += ['.PP'] + [line_safe(esc(line)) for line in p.split('\n')]
    for title, entries in sections:
        out.append('.SH ' + title)
        first = True
        for e in entries:
            if e[0] == 'p':
                if not first:
                    out.append('.PP')
                out += [line_safe(esc(line)) for line in e[1]]
            else:
                tags, text = e
                out += ['.TP', tag_roff(tags[0])]
                for t in tags[1:]:
                    out += ['.TQ', tag_roff(t)]
                out += [line_safe(esc(line)) for line in text]
            first = False
    return out + trailer(extra)


def header(name, section, extra):
    return ['.\\" Generated by man/mkman.py from %s; do not edit.' % extra['source'],
            '.TH %s %s "" "vhostmq %s" "%s"' % (name.upper(), section,
                                               extra['version'],
                                               SECTION_TITLE[section]),
            '.nh', '.ad l']


def trailer(extra):
    out = []
    if extra.get('files'):
        out.append('.SH FILES')
        for path, what in extra['files']:
            out += ['.TP', '.I ' + esc(path), line_safe(esc(what))]
    out += ['.SH SEE ALSO',
            ',\n'.join('.BR %s (%s)' % (esc(n), s) for n, s in extra['see_also'])]
    if extra.get('readme'):
        out += ['.PP', line_safe(esc(extra['readme']))]
    return out


# README markdown -> roff: only what the Configuration sections use.
def md_inline(text):
    out = []
    pos = 0
    for m in re.finditer(r'`([^`]*)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)]+)\)', text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append('\\fB' + esc(m.group(1)) + '\\fR')
        elif m.group(2) is not None:
            out.append('\\fB' + esc(m.group(2)) + '\\fR')
        elif m.group(4).startswith('#'):
            out.append('\\fI' + esc(m.group(3)) + '\\fR (README)')
        else:
            out.append(esc(m.group(3)) + ' <' + esc(m.group(4)) + '>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return ''.join(out)


def md_section(readme, heading):
    """The lines under heading up to the next heading of its level or
    above."""
    level = len(heading) - len(heading.lstrip('#'))
    lines = readme.split('\n')
    try:
        start = lines.index(heading) + 1
    except ValueError:
        raise ShapeError('README has no %r' % heading) from None
    end = start
    fence = False
    while end < len(lines):
        ln = lines[end]
        if ln.startswith('```'):
            fence = not fence
        elif not fence and re.match(r'#{1,%d} ' % level, ln):
            break
        end += 1
    return lines[start:end]


def md_cells(row):
    if not (row.startswith('|') and row.endswith('|')):
        raise ShapeError('table row does not start and end with |: %r' % row)
    cells, cur, code = [], '', False
    for ch in row[1:-1]:
        if ch == '`':
            code = not code
        if ch == '|' and not code:
            cells.append(cur.strip())
            cur = ''
        else:
            cur += ch
    cells.append(cur.strip())
    return cells


def md_to_roff(lines, keys):
    """Paragraphs, fenced code and the key table (collected into keys as
    the page's KEYS section) of one README section."""
    out = []
    para = []
    i = 0

    def flush():
        if para:
            # One line: inline code may run across the README's lines.
            out.extend(['.PP', line_safe(md_inline(' '.join(para)))])
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith('```'):
            flush()
            out += ['.PP', '.RS 4', '.nf']
            i += 1
            while not lines[i].startswith('```'):
                out.append(line_safe(esc(lines[i])) if lines[i] else '')
                i += 1
            out += ['.fi', '.RE']
        elif ln.startswith('|'):
            flush()
            head = md_cells(ln)
            if [h.lower() for h in head] != ['key', 'meaning', 'default']:
                raise ShapeError('a table that is not key | meaning | default: %r' % ln)
            i += 2                       # the |---| line
            while i < len(lines) and lines[i].startswith('|'):
                cells = md_cells(lines[i])
                if len(cells) != 3:
                    raise ShapeError('row without 3 cells: %r' % lines[i])
                keys.append(cells)
                i += 1
            out.append('.PP\nThe keys are listed under \\fBKEYS\\fR below.')
            continue
        elif ln.startswith('#'):
            raise ShapeError('a heading inside the section: %r' % ln)
        elif ln == '':
            flush()
        else:
            para.append(ln)
        i += 1
    flush()
    return out


def roff_config(readme, extra):
    keys = []
    out = header('vhostmq.json', '5', extra)
    out += ['.SH NAME', 'vhostmq.json \\- %s' % esc(extra['summary']),
            '.SH SYNOPSIS', '.I ' + esc(extra['config']),
            '.SH DESCRIPTION',
            'The configuration file of',
            '.BR vhostmq (8),',
            'read with', '.B \\-\\-config',
            '(the unit', '.I vhostmq.service',
            'passes %s).' % esc(extra['config'])]
    out += md_to_roff(md_section(readme, '## Configuration'), keys)
    if not keys:
        raise ShapeError('README: Configuration has no key table')
    out.append('.SH KEYS')
    for key, meaning, default in keys:
        out += ['.TP', line_safe(md_inline(key)), line_safe(md_inline(meaning)),
                '.br', 'Default: ' + md_inline(default) + '.']
    out.append('.SH WHO CAN ATTACH')
    body = md_to_roff(md_section(readme, '### Who can attach'), [])
    out += body[1:] if body[:1] == ['.PP'] else body
    return out + trailer(extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('kind', choices=('help', 'config'))
    ap.add_argument('--exe', help='the program whose --help is read')
    ap.add_argument('--page', help='vhostmq or vhostmqctl')
    ap.add_argument('--readme')
    ap.add_argument('--version', required=True)
    ap.add_argument('--config-file', required=True,
                    help='the config file the unit passes')
    ap.add_argument('--docdir', required=True)
    ap.add_argument('--unit', required=True, help='the installed unit file')
    ap.add_argument('-o', '--output', required=True)
    a = ap.parse_args()

    see_all = [('vhostmq', 8), ('vhostmqctl', 8), ('vhostmq.json', 5)]
    readme = 'The README (%s/README.md) has the full story: ' % a.docdir
    config_files = [
        (a.config_file, 'the configuration vhostmq.service starts vhostmq with; '
                        'see vhostmq.json(5)'),
        (a.docdir + '/vhostmq.json.example', 'an example to copy there'),
    ]
    pages = {
        'vhostmq': {
            'section': '8',
            'summary': 'vhost-user backend for virtio-net multiqueue devices',
            'description': [
                'Under systemd (vhostmq.service) vhostmq reads ' + a.config_file +
                ', puts its sockets in /run/vhostmq and logs to the journal, '
                'each line with its priority.'],
            'files': config_files + [
                (a.unit, 'the systemd unit'),
                ('/run/vhostmq/', 'the sockets, under vhostmq.service'),
                ('/tmp/vhostmq.sock', 'the device socket of the built-in default '
                                      'config (no --config)'),
            ],
            'see_also': [s for s in see_all if s[0] != 'vhostmq'] +
                        [('systemd.exec', 5), ('qemu-system-x86_64', 1)],
            'readme': readme + 'threads and pinning, ports, multiqueue and '
                      'RSS, offloads, attaching QEMU and libvirt, running as '
                      'a service.',
        },
        'vhostmqctl': {
            'section': '8',
            'summary': 'show and change a running vhostmq',
            'files': [
                ('/tmp/vhostmq.sock.ctl', 'the default control socket'),
                ('/run/vhostmq/vm0.sock.ctl',
                 'the control socket of vhostmq.service with the example config '
                 '(the first device\'s socket + ".ctl")'),
            ],
            'see_also': [s for s in see_all if s[0] != 'vhostmqctl'] +
                        [('ethtool', 8)],
            'readme': readme + 'the section Control: vhostmqctl.',
        },
        'vhostmq.json': {
            'section': '5',
            'summary': 'vhostmq configuration file',
            'files': config_files,
            'see_also': [s for s in see_all if s[0] != 'vhostmq.json'],
            'readme': readme + 'the sections Configuration, Tuning and '
                      'Running as a service.',
        },
    }
    try:
        if a.kind == 'help':
            if not a.exe or a.page not in ('vhostmq', 'vhostmqctl'):
                ap.error('help needs --exe and --page vhostmq|vhostmqctl')
            extra = dict(pages[a.page], version=a.version,
                         source='%s --help' % a.page)
            text = subprocess.run([a.exe, '--help'], check=True, stdout=subprocess.PIPE,
                                  universal_newlines=True).stdout
            out = roff_help(a.page, extra['section'], text, extra)
        else:
            if not a.readme:
                ap.error('config needs --readme')
            extra = dict(pages['vhostmq.json'], version=a.version,
                         source='README.md', config=a.config_file)
            with open(a.readme, encoding='utf-8') as f:
                out = roff_config(f.read(), extra)
    except ShapeError as e:
        sys.exit('mkman.py: %s' % e)
    with open(a.output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
