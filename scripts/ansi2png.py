#!/usr/bin/env python3
"""Renders a terminal capture with ANSI colours (tmux capture-pane -p -e) to a PNG.

Usage: scripts/ansi2png.py CAPTURE.txt OUT.png [--cols 100]
Needs Pillow (pip install pillow) and the DejaVu Sans Mono font (Debian: fonts-dejavu-core).
Understands what smtpcli and its prompt print: SGR reset, bold, dim, the 8 basic and
8 bright foreground colours, 256-colour and truecolour foregrounds.
"""

import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BG = (30, 30, 36)
FG = (220, 220, 220)
BASIC = [
    (40, 40, 40), (220, 80, 70), (110, 200, 90), (220, 190, 80),
    (90, 140, 230), (190, 110, 210), (80, 200, 210), (220, 220, 220),
]
BRIGHT = [
    (120, 120, 120), (255, 110, 100), (140, 230, 120), (250, 220, 110),
    (130, 170, 255), (220, 140, 240), (120, 230, 240), (255, 255, 255),
]
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour256(n):
    if n < 8:
        return BASIC[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def spans(line, state):
    """(text, fg, bold, dim) runs of one line. `state` carries the
    attributes from line to line, as a terminal does (tmux only writes a
    code where they change)."""
    fg, bold, dim = state
    pos = 0
    for m in SGR.finditer(line):
        if m.start() > pos:
            yield line[pos:m.start()], fg, bold, dim
        codes = [int(c) if c else 0 for c in m.group(1).split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg, bold, dim = FG, False, False
            elif c == 1:
                bold = True
            elif c == 2:
                dim = True
            elif c == 22:
                bold = dim = False
            elif 30 <= c <= 37:
                fg = BASIC[c - 30]
            elif 90 <= c <= 97:
                fg = BRIGHT[c - 90]
            elif c == 39:
                fg = FG
            elif c == 38 and i + 2 < len(codes) and codes[i + 1] == 5:
                fg = colour256(codes[i + 2])
                i += 2
            elif c == 38 and i + 4 < len(codes) and codes[i + 1] == 2:
                fg = tuple(codes[i + 2:i + 5])
                i += 4
            i += 1
        pos = m.end()
        state[:] = [fg, bold, dim]
    if pos < len(line):
        yield line[pos:], fg, bold, dim


def main():
    args = sys.argv[1:]
    cols = 100
    if "--cols" in args:
        k = args.index("--cols")
        cols = int(args[k + 1])
        del args[k:k + 2]
    src, out = args
    lines = open(src, encoding="utf-8", errors="replace").read().rstrip("\n").split("\n")
    size = 15
    font, bold_font = ImageFont.truetype(FONT, size), ImageFont.truetype(BOLD, size)
    cw = font.getbbox("M")[2]
    ch = size + 5
    pad = 14
    img = Image.new("RGB", (cols * cw + 2 * pad, len(lines) * ch + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    state = [FG, False, False]
    for row, line in enumerate(lines):
        x = pad
        y = pad + row * ch
        for text, fg, bold, dim in spans(line, state):
            colour = tuple(int(c * 0.6 + BG[i] * 0.4) for i, c in enumerate(fg)) if dim else fg
            for char in text:
                draw.text((x, y), char, font=bold_font if bold else font, fill=colour)
                x += cw
    img.save(out)


if __name__ == "__main__":
    main()
