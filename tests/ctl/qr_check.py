"""Reads the QR code wsgatectl user totp draws (UTF-8 half blocks, light modules painted) back
into a module matrix and checks its structure: a 4-module light quiet zone, a size of 17 + 4v,
and the three 7x7 finder patterns (ISO/IEC 18004 sect. 6.3.3) at the right corners. This catches
an inverted, mirrored or truncated drawing; the encoding itself is libqrencode's."""
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[1:]
lines = [l for l in lines if l]
# (top is dark, bottom is dark) for each glyph
glyph = {"\u2588": (0, 0), "\u2580": (0, 1), "\u2584": (1, 0), " ": (1, 1)}
rows = []
for l in lines:
    top, bot = [], []
    for ch in l:
        t, b = glyph[ch]
        top.append(t)
        bot.append(b)
    rows += [top, bot]
width = len(rows[0])
assert all(len(r) == width for r in rows), "ragged drawing"
q = 4
n = width - 2 * q
assert n >= 21 and (n - 17) % 4 == 0, "size %d is not 17+4v" % n
assert len(rows) in (width, width + 1), "height %d for width %d" % (len(rows), width)
for r in list(range(q)) + list(range(q + n, len(rows))):
    assert not any(rows[r]), "quiet zone row %d is not light" % r
for r in range(len(rows)):
    assert not any(rows[r][:q]) and not any(rows[r][q + n:]), "quiet zone column in row %d" % r
m = [row[q:q + n] for row in rows[q:q + n]]


def finder(y, x):
    for dy in range(7):
        for dx in range(7):
            ring = max(abs(dy - 3), abs(dx - 3))
            want = 0 if ring == 2 else 1
            assert m[y + dy][x + dx] == want, "finder at %d,%d broken" % (y, x)


finder(0, 0)
finder(0, n - 7)
finder(n - 7, 0)
# The fourth corner has no finder: its 7x7 block is not a finder pattern.
try:
    finder(n - 7, n - 7)
    raise SystemExit("a finder pattern in the bottom-right corner: drawing is mirrored")
except AssertionError:
    pass
print("qr ok: %dx%d modules" % (n, n))
