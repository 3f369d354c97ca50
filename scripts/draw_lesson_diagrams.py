"""Draw the lessons' diagrams into assets/lessons/ (SVG, plus one PNG made of noise).

Run from the repository root:  python scripts/draw_lesson_diagrams.py
Every picture is drawn here from shapes and numbers; nothing is downloaded. SVG stays sharp
at any size; the lesson view redraws it for the width it is shown at. Colours are the
Okabe–Ito palette, and cats and raccoons also differ in shape (pointed vs round ears, the
raccoon's mask), so the pictures work without colour too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "assets" / "lessons"

BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY, YELLOW, INK = "#CC79A7", "#56B4E9", "#F0E442", "#1a1a1a"
GREY, LIGHT, PALE_BLUE, PALE_ORANGE = "#5f6670", "#eef1f4", "#e3eef8", "#fdf0d8"
FONT = "sans-serif"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Svg:
    """A tiny SVG writer: shapes, text and arrows (drawn as polygons: QtSvg has no markers)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x, y, w, h, fill="none", stroke=INK, sw=2.0, r=8, dash="", opacity=1.0):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        o = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        self.add(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{r}" '
            f'fill="{fill}"{o} stroke="{stroke}" stroke-width="{sw}"{d}/>'
        )

    def circle(self, cx, cy, r, fill="none", stroke=INK, sw=2.0):
        self.add(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{sw}"/>'
        )

    def ellipse(self, cx, cy, rx, ry, fill="none", stroke=INK, sw=2.0, rotate=0.0):
        t = f' transform="rotate({rotate:.1f} {cx:.1f} {cy:.1f})"' if rotate else ""
        self.add(
            f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx:.1f}" ry="{ry:.1f}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{sw}"{t}/>'
        )

    def line(self, x1, y1, x2, y2, stroke=INK, sw=2.0, dash=""):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{sw}" stroke-linecap="round"{d}/>'
        )

    def polyline(self, points, stroke=INK, sw=2.5, dash="", fill="none"):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<polyline points="{pts}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}" '
            f'stroke-linejoin="round" stroke-linecap="round"{d}/>'
        )

    def polygon(self, points, fill=INK, stroke="none", sw=0.0, opacity=1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        o = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        self.add(
            f'<polygon points="{pts}" fill="{fill}"{o} stroke="{stroke}" stroke-width="{sw}"/>'
        )

    def path(self, d, fill="none", stroke=INK, sw=2.0):
        self.add(f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>')

    def text(self, x, y, text, size=18, anchor="middle", weight="normal", fill=INK, italic=False):
        style = ' font-style="italic"' if italic else ""
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
            f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}"{style}>{_esc(text)}</text>'
        )

    def lines(self, x, y, rows, size=18, gap=1.3, **kw):
        for i, row in enumerate(rows):
            self.text(x, y + i * size * gap, row, size=size, **kw)

    def arrow(self, x1, y1, x2, y2, color=INK, sw=3.0, head=12.0, dash=""):
        angle = math.atan2(y2 - y1, x2 - x1)
        bx, by = x2 - head * math.cos(angle), y2 - head * math.sin(angle)
        self.line(x1, y1, bx, by, color, sw, dash)
        left = (bx + head * 0.5 * math.sin(angle), by - head * 0.5 * math.cos(angle))
        right = (bx - head * 0.5 * math.sin(angle), by + head * 0.5 * math.cos(angle))
        self.polygon([(x2, y2), left, right], fill=color)

    def save(self, name: str) -> None:
        body = "\n".join(self.parts)
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}">\n'
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="white"/>\n'
            f"{body}\n</svg>\n"
        )
        (OUT / name).write_text(svg, encoding="utf-8")


# -- the two stars -------------------------------------------------------------------------------
def cat(s: Svg, cx: float, cy: float, size: float = 60) -> None:
    """A cat's face: orange, pointed ears, whiskers."""
    r = size / 2
    s.polygon(
        [
            (cx - r * 0.95, cy - r * 0.2),
            (cx - r * 0.85, cy - r * 1.25),
            (cx - r * 0.2, cy - r * 0.8),
        ],
        fill=ORANGE,
        stroke=INK,
        sw=2,
    )
    s.polygon(
        [
            (cx + r * 0.95, cy - r * 0.2),
            (cx + r * 0.85, cy - r * 1.25),
            (cx + r * 0.2, cy - r * 0.8),
        ],
        fill=ORANGE,
        stroke=INK,
        sw=2,
    )
    s.ellipse(cx, cy, r, r * 0.88, fill=ORANGE, stroke=INK, sw=2)
    for dx in (-0.38, 0.38):
        s.ellipse(cx + dx * r, cy - r * 0.12, r * 0.13, r * 0.2, fill=INK, stroke="none")
    s.polygon(
        [(cx - r * 0.12, cy + r * 0.2), (cx + r * 0.12, cy + r * 0.2), (cx, cy + r * 0.34)],
        fill="#c0506e",
    )
    for side in (-1, 1):
        for dy in (0.22, 0.38):
            s.line(cx + side * r * 0.25, cy + r * 0.3, cx + side * r * 1.15, cy + r * dy, INK, 1.4)


def raccoon(s: Svg, cx: float, cy: float, size: float = 60) -> None:
    """A raccoon's face: grey, round ears, a black mask across the eyes."""
    r = size / 2
    for side in (-1, 1):
        s.circle(cx + side * r * 0.68, cy - r * 0.72, r * 0.32, fill="#8c939c", stroke=INK, sw=2)
        s.circle(cx + side * r * 0.68, cy - r * 0.72, r * 0.15, fill="#d9dde2", stroke="none")
    s.ellipse(cx, cy, r * 1.02, r * 0.86, fill="#9aa1aa", stroke=INK, sw=2)
    s.ellipse(cx, cy + r * 0.35, r * 0.55, r * 0.42, fill="#eef0f2", stroke="none")
    s.path(
        f"M {cx - r * 0.95:.1f} {cy - r * 0.05:.1f} Q {cx - r * 0.5:.1f} {cy - r * 0.5:.1f} "
        f"{cx:.1f} {cy - r * 0.2:.1f} Q {cx + r * 0.5:.1f} {cy - r * 0.5:.1f} "
        f"{cx + r * 0.95:.1f} {cy - r * 0.05:.1f} Q {cx + r * 0.5:.1f} {cy + r * 0.22:.1f} "
        f"{cx:.1f} {cy + r * 0.02:.1f} Q {cx - r * 0.5:.1f} {cy + r * 0.22:.1f} "
        f"{cx - r * 0.95:.1f} {cy - r * 0.05:.1f} Z",
        fill="#1f1f1f",
        stroke="none",
    )
    for dx in (-0.42, 0.42):
        s.circle(cx + dx * r, cy - r * 0.1, r * 0.1, fill="white", stroke="none")
    s.ellipse(cx, cy + r * 0.3, r * 0.14, r * 0.1, fill=INK, stroke="none")


def photo(s: Svg, x: float, y: float, w: float, animal: str, label: str = "") -> None:
    """A framed photo of a cat or a raccoon, with an optional label under it."""
    s.rect(
        x, y, w, w, fill=PALE_BLUE if animal == "raccoon" else PALE_ORANGE, stroke=GREY, sw=2, r=6
    )
    (cat if animal == "cat" else raccoon)(s, x + w / 2, y + w * 0.56, w * 0.56)
    if label:
        s.text(x + w / 2, y + w + 22, label, size=17)


def box(s: Svg, x, y, w, h, rows, fill=LIGHT, stroke=GREY, size=18, bold_first=True):
    s.rect(x, y, w, h, fill=fill, stroke=stroke, sw=2, r=10)
    n = len(rows)
    top = y + h / 2 - (n - 1) * size * 0.65 + size * 0.35
    for i, row in enumerate(rows):
        s.text(
            x + w / 2,
            top + i * size * 1.3,
            row,
            size=size,
            weight="bold" if (i == 0 and bold_first) else "normal",
        )


def axes(s: Svg, x0, y0, x1, y1, xlabel="", ylabel="", size=16, ylabel_gap=18):
    s.arrow(x0, y0, x1 + 12, y0, INK, 2, 10)
    s.arrow(x0, y0, x0, y1 - 12, INK, 2, 10)
    if xlabel:
        s.text((x0 + x1) / 2, y0 + 48, xlabel, size=size)
    if ylabel:
        s.add(
            f'<text x="0" y="0" font-family="{FONT}" font-size="{size}" fill="{INK}" '
            f'text-anchor="middle" transform="translate({x0 - ylabel_gap:.1f} {(y0 + y1) / 2:.1f}) '
            f'rotate(-90)">{_esc(ylabel)}</text>'
        )


def bars(s: Svg, x, y, rows, width=180, size=17):
    """Probability bars: rows of (label, value, colour), the label and percentage above."""
    for i, (label, value, color) in enumerate(rows):
        yy = y + i * 58
        s.text(x, yy + 16, label, size=size, anchor="start")
        s.text(x + width, yy + 16, f"{value:.0%}", size=size, anchor="end", weight="bold")
        s.rect(x, yy + 24, width, 20, fill=LIGHT, stroke=GREY, sw=1, r=3)
        s.rect(x, yy + 24, max(4, width * value), 20, fill=color, stroke="none", r=3)


# -- the diagrams ----------------------------------------------------------------------------------
def program_vs_model() -> None:
    s = Svg(880, 400)
    s.text(20, 34, "Programming: a person writes the rules", size=21, anchor="start", weight="bold")
    box(s, 20, 52, 230, 110, ["Rules", "“mask and ringed", "tail → raccoon”"], fill=PALE_ORANGE)
    s.arrow(255, 107, 320, 107)
    box(s, 325, 62, 180, 90, ["Program", "follows the rules"])
    photo(s, 380, 176, 70, "raccoon")
    s.arrow(415, 176, 415, 157)
    s.arrow(510, 107, 575, 107)
    box(s, 580, 72, 180, 70, ["“raccoon”"], fill="white")
    s.line(20, 262, 860, 262, GREY, 1, "6 6")
    s.text(
        20,
        296,
        "Machine learning: the model is learned from examples",
        size=21,
        anchor="start",
        weight="bold",
    )
    for i, animal in enumerate(("cat", "raccoon", "cat", "raccoon")):
        photo(s, 20 + i * 58, 316, 50, animal)
    s.text(135, 392, "examples with labels", size=16)
    s.arrow(258, 345, 320, 345)
    box(s, 325, 310, 180, 70, ["Training", "adjusts the weights"], fill=PALE_BLUE)
    s.arrow(510, 345, 575, 345)
    box(
        s,
        580,
        300,
        280,
        90,
        ["Model", "recipe (fixed) +", "weights (learned)"],
        fill=PALE_BLUE,
        stroke=BLUE,
    )
    s.save("ml-program-vs-model.svg")


def loss_curve() -> None:
    s = Svg(880, 400)
    x0, y0, x1, y1 = 110, 330, 820, 40
    axes(s, x0, y0, x1, y1, "probability the model gave to the right answer", "loss")
    ymax = 5.0

    def pt(p, loss):
        return x0 + p * (x1 - x0), y0 - loss / ymax * (y0 - y1)

    s.polyline([pt(p, -math.log(p)) for p in np.linspace(0.007, 1.0, 200)], BLUE, 4)
    for p in (0.0, 0.5, 1.0):
        x, _ = pt(p, 0)
        s.line(x, y0, x, y0 + 6)
        s.text(x, y0 + 24 if p else y0 + 24, f"{p:.0%}", size=15)
    for v in (0, 1, 2, 3, 4):
        _, y = pt(0, v)
        s.line(x0 - 6, y, x0, y)
        s.text(x0 - 12, y + 5, str(v), size=15, anchor="end")
    for p, label, dx, anchor in (
        (0.01, "1%: loss 4.61", 16, "start"),
        (0.1, "10%: loss 2.30", 16, "start"),
        (0.5, "50% (a coin toss): loss 0.69", 8, "start"),
        (0.9, "90%: loss 0.11", 0, "middle"),
    ):
        x, y = pt(p, -math.log(p))
        s.circle(x, y, 7, fill=VERMILLION, stroke="white", sw=2)
        s.text(x + dx, y - 16, label, size=16, anchor=anchor, weight="bold")
    s.text(170, 90, "confidently wrong:", size=16, anchor="start", fill=GREY, italic=True)
    s.text(170, 110, "a big loss", size=16, anchor="start", fill=GREY, italic=True)
    s.text(800, 230, "right and sure: almost 0", size=16, anchor="end", fill=GREY, italic=True)
    s.save("loss-curve.svg")


def loss_vs_accuracy() -> None:
    s = Svg(880, 350)
    for k, (title, smooth) in enumerate(
        (
            ("Accuracy: flat steps, no slope to follow", False),
            ("Loss: smooth, a slope everywhere", True),
        )
    ):
        ox = 40 + k * 440
        x0, y0, x1, y1 = ox + 30, 270, ox + 390, 70
        s.text(ox + 200, 36, title, size=18, weight="bold")
        axes(s, x0, y0, x1, y1, "one weight's value", "accuracy" if not smooth else "loss")
        if not smooth:
            steps = [0.15, 0.15, 0.35, 0.35, 0.35, 0.6, 0.6, 0.8, 0.8, 0.8]
            pts = []
            for i, v in enumerate(steps):
                xa = x0 + i * (x1 - x0) / len(steps)
                xb = x0 + (i + 1) * (x1 - x0) / len(steps)
                y = y0 - v * (y0 - y1)
                pts += [(xa, y), (xb, y)]
            s.polyline(pts, ORANGE, 4)
            s.text(
                ox + 200,
                62,
                "a tiny nudge usually changes nothing",
                size=15,
                fill=GREY,
                italic=True,
            )
        else:
            f = lambda u: 0.12 + 0.75 * (u - 0.72) ** 2 * 1.6  # noqa: E731
            pts = [(x0 + u * (x1 - x0), y0 - f(u) * (y0 - y1)) for u in np.linspace(0, 1, 80)]
            s.polyline(pts, BLUE, 4)
            u = 0.3
            slope = 0.75 * 2 * (u - 0.72) * 1.6
            px, py = x0 + u * (x1 - x0), y0 - f(u) * (y0 - y1)
            dx = 70
            dy = slope * (y0 - y1) / (x1 - x0) * dx
            s.line(px - dx, py + dy, px + dx, py - dy, VERMILLION, 3, "8 5")
            s.circle(px, py, 7, fill=VERMILLION, stroke="white", sw=2)
            s.text(
                px + 30,
                py - 45,
                "the slope says: go right",
                size=15,
                anchor="start",
                fill=VERMILLION,
                weight="bold",
            )
    s.save("loss-vs-accuracy.svg")


def gradient_steps() -> None:
    s = Svg(880, 360)
    cases = (
        ("Too small (0.00001)", [0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2], "crawls: still far away"),
        ("About right (0.001)", [0.08, 0.3, 0.42, 0.47, 0.49], "down quickly, then settles"),
        ("Too large (10)", [0.38, 0.66, 0.26, 0.8, 0.1, 0.95], "jumps over the valley"),
    )
    for k, (title, xs, note) in enumerate(cases):
        ox = 15 + k * 290
        w, top, bottom = 260, 80, 290

        def pt(u, ox=ox, w=w, top=top, bottom=bottom):
            return ox + u * w, top + (bottom - top) * (1 - 4 * (u - 0.5) ** 2)

        s.text(ox + w / 2, 36, title, size=18, weight="bold")
        s.polyline([pt(u) for u in np.linspace(0, 1, 60)], GREY, 3)
        px, py = pt(0.5)
        s.text(px, py + 26, "lowest loss", size=14, fill=GREY)
        color = (BLUE, GREEN, VERMILLION)[k]
        prev = None
        for u in xs:
            x, y = pt(u)
            if prev is not None:
                s.arrow(prev[0], prev[1], x, y, color, 2.5, 10)
            prev = (x, y)
        for u in xs:
            x, y = pt(u)
            s.circle(x, y, 6, fill=color, stroke="white", sw=1.5)
        s.text(ox + w / 2, 340, note, size=16, italic=True)
    s.save("gradient-steps.svg")


def classifier_pipeline() -> None:
    s = Svg(880, 280)
    photo(s, 20, 70, 130, "raccoon", "a new photo")
    s.arrow(160, 135, 205, 135)
    # the network: layers narrowing to features
    heights = (170, 140, 110, 80, 56)
    for i, h in enumerate(heights):
        x = 215 + i * 44
        s.rect(x, 135 - h / 2, 30, h, fill=PALE_BLUE, stroke=BLUE, sw=2, r=4)
    s.text(323, 250, "pretrained layers", size=16)
    s.arrow(430, 135, 470, 135)
    for i in range(8):
        s.rect(480, 60 + i * 19, 34, 15, fill=[SKY, BLUE][i % 2], stroke="none", r=2)
    s.text(497, 250, "1,280 numbers", size=16)
    s.arrow(525, 135, 565, 135)
    s.rect(570, 105, 60, 60, fill=PALE_ORANGE, stroke=ORANGE, sw=2.5, r=6)
    s.text(600, 141, "head", size=16, weight="bold")
    s.arrow(635, 135, 668, 135)
    bars(s, 676, 80, [("raccoon", 0.94, BLUE), ("cat", 0.06, ORANGE)], width=180)
    s.save("classifier-pipeline.svg")


def overfitting_curves() -> None:
    s = Svg(880, 380)
    x0, y0, x1, y1 = 90, 320, 840, 40
    axes(s, x0, y0, x1, y1, "epoch", "loss")
    e = np.linspace(0, 1, 120)
    train = 0.05 + 0.9 * np.exp(-4.2 * e)
    val = 0.33 + 0.62 * np.exp(-6 * e) + 0.55 * np.maximum(0, e - 0.32) ** 1.4

    def pts(vals):
        return [(x0 + u * (x1 - x0), y0 - v * (y0 - y1)) for u, v in zip(e, vals)]

    best = int(np.argmin(val))
    bx = x0 + e[best] * (x1 - x0)
    s.rect(bx, y1, x1 - bx, y0 - y1, fill=ORANGE, stroke="none", r=0, opacity=0.16)
    s.text(
        (bx + x1) / 2,
        y1 + 26,
        "memorizing: the curves part",
        size=17,
        weight="bold",
        fill="#8a5a00",
    )
    s.polyline(pts(train), BLUE, 4)
    s.polyline(pts(val), VERMILLION, 4, dash="12 7")
    by = y0 - val[best] * (y0 - y1)
    s.text(bx, by + 9, "★", size=30, fill=INK)
    s.text(bx, by + 42, "best epoch", size=16)
    s.text(
        x1 - 10,
        y0 - train[-1] * (y0 - y1) - 14,
        "training loss: keeps falling",
        size=16,
        anchor="end",
        fill=BLUE,
        weight="bold",
    )
    s.text(
        x1 - 10,
        y0 - val[-1] * (y0 - y1) - 14,
        "validation loss: climbs again",
        size=16,
        anchor="end",
        fill=VERMILLION,
        weight="bold",
    )
    s.text(x0 + 150, y0 - 50, "at first both fall: learning what", size=16, fill=GREY, italic=True)
    s.text(x0 + 150, y0 - 28, "all cats and all raccoons share", size=16, fill=GREY, italic=True)
    s.save("overfitting-curves.svg")


def transfer_learning() -> None:
    s = Svg(880, 360)
    s.text(20, 32, "Head only (transfer learning)", size=20, anchor="start", weight="bold")
    photo(s, 20, 50, 90, "cat")
    s.arrow(118, 95, 150, 95)
    s.rect(155, 48, 370, 94, fill="#e6e8eb", stroke=GREY, sw=2, r=10)
    for i, label in enumerate(("edges", "fur, eyes", "faces")):
        s.rect(170 + i * 118, 62, 104, 44, fill="white", stroke=GREY, sw=1.5, r=6)
        s.text(222 + i * 118, 90, label, size=16)
    s.text(340, 130, "pretrained on 1.3 million photos: frozen", size=15, fill=GREY, italic=True)
    s.arrow(530, 95, 575, 95)
    s.text(552, 78, "1,280", size=14, fill=GREY)
    s.rect(580, 62, 90, 66, fill=PALE_ORANGE, stroke=ORANGE, sw=3, r=8)
    s.text(625, 92, "new head", size=16, weight="bold")
    s.text(625, 114, "learns", size=15)
    s.arrow(675, 95, 710, 95)
    s.text(720, 88, "cat or", size=17, anchor="start")
    s.text(720, 110, "raccoon", size=17, anchor="start")
    s.line(20, 180, 860, 180, GREY, 1, "6 6")
    s.text(20, 216, "From scratch", size=20, anchor="start", weight="bold")
    photo(s, 20, 234, 90, "raccoon")
    s.arrow(118, 279, 150, 279)
    s.rect(155, 232, 370, 94, fill=PALE_ORANGE, stroke=ORANGE, sw=2, r=10, dash="8 5")
    for i in range(4):
        s.rect(172 + i * 88, 248, 74, 44, fill="white", stroke=ORANGE, sw=1.5, r=6)
        s.text(209 + i * 88, 276, "?", size=20, weight="bold", fill=VERMILLION)
    s.text(
        340,
        316,
        "random at first: all layers learn from 240 photos",
        size=14,
        fill=GREY,
        italic=True,
    )
    s.arrow(530, 279, 575, 279)
    s.rect(580, 246, 90, 66, fill=PALE_ORANGE, stroke=ORANGE, sw=3, r=8)
    s.text(625, 276, "head", size=16, weight="bold")
    s.text(625, 298, "learns", size=15)
    s.arrow(675, 279, 710, 279)
    s.text(720, 272, "cat or", size=17, anchor="start")
    s.text(720, 294, "raccoon", size=17, anchor="start")
    s.save("transfer-learning.svg")


def forgetting_curves() -> None:
    s = Svg(880, 360)
    x0, y0, x1, y1 = 90, 300, 840, 40
    axes(s, x0, y0, x1, y1, "training steps on task B only", "accuracy", ylabel_gap=60)
    u = np.linspace(0, 1, 100)
    b = 0.5 + 0.45 * (1 - np.exp(-7 * u))
    a = 0.3 + 0.62 / (1 + np.exp(14 * (u - 0.35)))

    def pts(vals):
        return [(x0 + t * (x1 - x0), y0 - v * (y0 - y1)) for t, v in zip(u, vals)]

    for v in (0.5, 1.0):
        y = y0 - v * (y0 - y1)
        s.line(x0, y, x1, y, "#c8ccd2", 1, "4 6")
        s.text(x0 - 10, y + 5, f"{v:.0%}", size=14, anchor="end")
    s.polyline(pts(b), BLUE, 4)
    s.polyline(pts(a), VERMILLION, 4, dash="12 7")
    s.text(
        x1 - 10,
        y0 - b[-1] * (y0 - y1) - 14,
        "task B (new): cats vs raccoons",
        size=16,
        anchor="end",
        fill=BLUE,
        weight="bold",
    )
    s.text(
        x1 - 10,
        y0 - a[-1] * (y0 - y1) + 28,
        "task A (learned before): forgotten",
        size=16,
        anchor="end",
        fill=VERMILLION,
        weight="bold",
    )
    s.save("forgetting-curves.svg")


def inference_modes() -> None:
    s = Svg(880, 330)
    s.text(200, 32, "Real time: one photo, now", size=19, weight="bold")
    photo(s, 30, 70, 110, "raccoon")
    s.arrow(148, 125, 190, 125)
    box(s, 195, 95, 90, 60, ["model"], fill=PALE_BLUE, stroke=BLUE)
    s.arrow(290, 125, 330, 125)
    s.text(340, 118, "raccoon", size=18, anchor="start", weight="bold")
    s.text(340, 142, "93%", size=18, anchor="start")
    s.text(200, 230, "what counts: latency", size=17, fill=GREY, italic=True)
    s.text(200, 254, "(the wait for one answer)", size=17, fill=GREY, italic=True)
    s.line(440, 20, 440, 310, GREY, 1, "6 6")
    s.text(660, 32, "Batch: a whole folder, later", size=19, weight="bold")
    for i in range(4):
        photo(s, 470 + i * 9, 60 + i * 9, 72, ("cat", "raccoon")[i % 2])
    s.text(520, 190, "10,000 photos", size=15, fill=GREY)
    s.arrow(585, 125, 615, 125)
    box(s, 620, 95, 80, 60, ["model"], fill=PALE_BLUE, stroke=BLUE)
    s.arrow(705, 125, 730, 125)
    s.rect(735, 62, 130, 128, fill="white", stroke=GREY, sw=1.5, r=4)
    for i, (name, label) in enumerate(
        (("0001", "cat"), ("0002", "raccoon"), ("0003", "raccoon"), ("0004", "cat"), ("…", "…"))
    ):
        s.text(745, 86 + i * 24, name, size=14, anchor="start", fill=GREY)
        s.text(795, 86 + i * 24, label, size=14, anchor="start")
    s.text(660, 230, "what counts: throughput", size=17, fill=GREY, italic=True)
    s.text(660, 254, "(photos per second)", size=17, fill=GREY, italic=True)
    s.save("inference-modes.svg")


def embedding_map() -> None:
    s = Svg(880, 420)
    rng = np.random.default_rng(3)
    s.rect(20, 20, 840, 380, fill="#fbfbfb", stroke="#c8ccd2", sw=1.5, r=6)
    cats = np.clip(rng.normal([280, 170], [65, 50], size=(26, 2)), [40, 40], [840, 380])
    racs = np.clip(rng.normal([600, 270], [65, 45], size=(26, 2)), [40, 40], [840, 380])
    s.line(300, 400, 560, 20, GREY, 2.5, "10 7")
    s.text(572, 56, "the head's straight cut", size=15, anchor="start", fill=GREY, italic=True)
    for x, y in cats:
        s.circle(x, y, 9, fill=ORANGE, stroke=INK, sw=1.2)
    for x, y in racs:
        s.rect(x - 8, y - 8, 16, 16, fill=BLUE, stroke=INK, sw=1.2, r=2)
    cat(s, 130, 330, 60)
    s.text(130, 385, "cats", size=18, weight="bold")
    raccoon(s, 795, 110, 60)
    s.text(795, 165, "raccoons", size=18, weight="bold")
    s.line(655, 232, 760, 330, VERMILLION, 2)
    s.text(640, 245, "★", size=38, fill=VERMILLION)
    s.text(850, 355, "a new photo lands", size=16, anchor="end", weight="bold", fill=VERMILLION)
    s.text(850, 377, "among the raccoons", size=16, anchor="end", weight="bold", fill=VERMILLION)
    s.save("embedding-map.svg")


def cosine_similarity() -> None:
    s = Svg(880, 320)
    cases = (
        ("similar", (3, 4), (4, 3), "cos = 0.96"),
        ("unrelated", (4, 1), (-1, 4), "cos = 0"),
        ("opposite", (4, 1.5), (-4, -1.5), "cos = −1"),
    )
    for k, (title, a, b, result) in enumerate(cases):
        ox, oy = 150 + k * 290, 180
        s.text(ox, 36, title, size=19, weight="bold")
        s.circle(ox, oy, 4, fill=INK)
        scale = 24
        s.arrow(ox, oy, ox + a[0] * scale, oy - a[1] * scale, BLUE, 4, 14)
        s.arrow(ox, oy, ox + b[0] * scale, oy - b[1] * scale, ORANGE, 4, 14)
        s.text(ox, 300, result, size=20, weight="bold")
    s.text(150, 230, "(3, 4) and (4, 3)", size=15, fill=GREY)
    s.save("cosine-similarity.svg")


def rag_pipeline() -> None:
    s = Svg(880, 380)
    box(
        s,
        20,
        40,
        220,
        90,
        ["Question", "“Why does my detector", "get worse over time?”"],
        fill=PALE_ORANGE,
        stroke=ORANGE,
        size=16,
    )
    s.arrow(245, 85, 290, 85)
    box(s, 295, 55, 120, 60, ["embed"], fill=LIGHT)
    s.arrow(420, 85, 465, 85)
    s.text(550, 30, "passages, ranked by cosine similarity", size=15, fill=GREY, italic=True)
    for i, (text, score, strong) in enumerate(
        (
            ("Overfitting: validation loss rises…", 0.71, True),
            ("Early stopping keeps the best…", 0.58, True),
            ("Raccoons are nocturnal…", 0.12, False),
        )
    ):
        y = 45 + i * 48
        s.rect(
            470,
            y,
            320,
            38,
            fill="white" if not strong else PALE_BLUE,
            stroke=BLUE if strong else GREY,
            sw=2 if strong else 1,
            r=5,
        )
        s.text(482, y + 25, text, size=15, anchor="start")
        s.text(
            850,
            y + 25,
            f"{score:.2f}",
            size=16,
            anchor="end",
            weight="bold" if strong else "normal",
        )
    s.arrow(630, 190, 630, 235)
    s.text(640, 218, "top 2 + the question", size=15, anchor="start", fill=GREY)
    box(
        s,
        470,
        240,
        320,
        60,
        ["language model writes the answer"],
        fill=PALE_BLUE,
        stroke=BLUE,
        size=16,
    )
    s.arrow(465, 270, 300, 270)
    box(
        s,
        20,
        225,
        275,
        130,
        ["Answer", "“It is overfitting: stop at", "the best epoch… [1], [2]”", "with its sources"],
        fill="#e6f4ee",
        stroke=GREEN,
        size=16,
    )
    s.save("rag-pipeline.svg")


def kinds_of_learning() -> None:
    s = Svg(880, 470)
    panels = (
        ("Supervised", "every example has its label"),
        ("Unsupervised", "no labels: find the groups"),
        ("Reinforcement", "act, get a reward, do better"),
        ("Semi-supervised", "a few labels, many without"),
    )
    rng = np.random.default_rng(5)
    for k, (title, note) in enumerate(panels):
        ox, oy = 20 + (k % 2) * 430, 20 + (k // 2) * 225
        s.rect(ox, oy, 410, 210, fill="#fbfbfb", stroke="#c8ccd2", sw=1.5, r=8)
        s.text(ox + 205, oy + 32, title, size=20, weight="bold")
        s.text(ox + 205, oy + 196, note, size=16, fill=GREY, italic=True)
        if k == 0:
            for i, animal in enumerate(("cat", "raccoon", "cat")):
                photo(s, ox + 40 + i * 120, oy + 52, 90, animal)
                s.text(ox + 85 + i * 120, oy + 168, animal, size=16, weight="bold")
        elif k == 1:
            for c, (cx, cy) in enumerate(((ox + 118, oy + 98), (ox + 292, oy + 104))):
                pts = rng.normal([cx, cy], [24, 16], size=(12, 2))
                s.ellipse(cx, cy, 70, 48, fill="none", stroke=GREY, sw=1.5)
                for x, y in pts:
                    s.circle(x, y, 6, fill="#9aa1aa", stroke=INK, sw=1)
                s.text(cx, cy + 64, f"group {c + 1}", size=14, fill=GREY)
        elif k == 2:
            raccoon(s, ox + 95, oy + 110, 60)
            s.text(ox + 95, oy + 165, "agent", size=15)
            s.rect(ox + 250, oy + 80, 90, 70, fill="#d9dde2", stroke=INK, sw=2, r=4)
            s.text(ox + 295, oy + 122, "bin", size=16)
            s.arrow(ox + 140, oy + 95, ox + 245, oy + 95, INK, 2.5)
            s.text(ox + 192, oy + 85, "action", size=14)
            s.arrow(ox + 245, oy + 140, ox + 140, oy + 140, GREEN, 2.5)
            s.text(ox + 192, oy + 162, "reward +1", size=14, fill=GREEN, weight="bold")
        else:
            pts = rng.normal([ox + 205, oy + 108], [100, 30], size=(26, 2))
            pts = np.clip(pts, [ox + 25, oy + 55], [ox + 380, oy + 170])
            for i, (x, y) in enumerate(pts):
                if i in (2, 9):
                    s.circle(x, y, 9, fill=ORANGE, stroke=INK, sw=1.5)
                elif i in (5, 17):
                    s.rect(x - 8, y - 8, 16, 16, fill=BLUE, stroke=INK, sw=1.5, r=2)
                else:
                    s.circle(x, y, 6, fill="#c8ccd2", stroke=GREY, sw=1)
    s.save("kinds-of-learning.svg")


def neural_network() -> None:
    s = Svg(880, 420)
    layers = [3, 4, 2]
    xs = [70, 220, 370]
    pos = []
    for x, n in zip(xs, layers):
        top = 210 - (n - 1) * 45
        pos.append([(x, top + i * 90) for i in range(n)])
    for a, b in zip(pos, pos[1:]):
        for p in a:
            for q in b:
                s.line(p[0], p[1], q[0], q[1], "#b5bcc5", 1.5)
    for li, layer in enumerate(pos):
        for i, (x, y) in enumerate(layer):
            hl = li == 1 and i == 1
            s.circle(
                x,
                y,
                22,
                fill=PALE_ORANGE if hl else (PALE_BLUE if li != 1 else "white"),
                stroke=VERMILLION if hl else BLUE,
                sw=3 if hl else 2,
            )
    s.text(70, 395, "input", size=16)
    s.text(220, 395, "hidden layer", size=16)
    s.text(370, 395, "output", size=16)
    s.text(410, pos[2][0][1] + 6, "cat", size=16, anchor="start")
    s.text(410, pos[2][1][1] + 6, "raccoon", size=16, anchor="start")
    hx, hy = pos[1][1]
    s.line(hx + 22, hy - 10, 480, 60, VERMILLION, 1.5, "5 5")
    s.line(hx + 22, hy + 10, 480, 370, VERMILLION, 1.5, "5 5")
    s.rect(480, 40, 385, 340, fill="#fffaf2", stroke=VERMILLION, sw=2, r=10)
    s.text(672, 72, "one node", size=19, weight="bold")
    s.text(500, 112, "inputs  2  and  3", size=17, anchor="start")
    s.text(500, 142, "× weights  0.5  and  −1", size=17, anchor="start")
    s.text(500, 172, "+ bias  0.5", size=17, anchor="start")
    s.text(500, 208, "sum = 1 − 3 + 0.5 = −1.5", size=17, anchor="start", weight="bold")
    s.text(500, 244, "ReLU: negative → 0", size=17, anchor="start")
    s.text(500, 280, "output = 0", size=19, anchor="start", weight="bold", fill=VERMILLION)
    # a small ReLU plot
    px, py = 770, 330
    s.line(px - 60, py, px + 60, py, GREY, 1.5)
    s.line(px, py + 8, px, py - 80, GREY, 1.5)
    s.polyline([(px - 60, py), (px, py), (px + 60, py - 60)], BLUE, 3.5)
    s.text(px, py - 88, "ReLU", size=15, weight="bold")
    s.save("neural-network.svg")


def gan_loop() -> None:
    s = Svg(880, 340)
    box(s, 20, 70, 140, 70, ["random", "numbers"], fill=LIGHT, bold_first=False)
    s.arrow(165, 105, 205, 105)
    box(s, 210, 65, 170, 80, ["Generator", "the forger"], fill=PALE_ORANGE, stroke=ORANGE)
    s.arrow(385, 105, 425, 105)
    photo(s, 430, 60, 90, "raccoon")
    s.text(475, 172, "a fake", size=16)
    photo(s, 430, 200, 90, "raccoon")
    s.text(475, 312, "a real photo", size=16)
    s.arrow(525, 105, 600, 150)
    s.arrow(525, 245, 600, 190)
    box(s, 605, 130, 180, 80, ["Discriminator", "the critic"], fill=PALE_BLUE, stroke=BLUE)
    s.text(695, 240, "“real or fake?”", size=17, weight="bold")
    s.path("M 695 128 C 695 20, 300 10, 295 60", stroke=VERMILLION, sw=2.5)
    s.polygon([(295, 63), (289, 49), (302, 50)], fill=VERMILLION)
    s.text(
        500, 26, "the critic's verdict teaches the forger", size=15, fill=VERMILLION, italic=True
    )
    s.save("gan-loop.svg")


def vae_hourglass() -> None:
    s = Svg(880, 300)
    photo(s, 20, 80, 120, "raccoon", "a photo")
    s.arrow(148, 140, 180, 140)
    s.polygon([(185, 50), (345, 110), (345, 170), (185, 230)], fill=PALE_BLUE, stroke=BLUE, sw=2)
    s.text(255, 146, "encoder", size=17, weight="bold")
    s.arrow(350, 140, 380, 140)
    s.rect(385, 95, 110, 90, fill=PALE_ORANGE, stroke=ORANGE, sw=2.5, r=8)
    s.text(440, 128, "code", size=17, weight="bold")
    s.text(440, 152, "16 numbers", size=14)
    s.text(440, 172, "± spread", size=14)
    s.arrow(500, 140, 530, 140)
    s.polygon([(535, 110), (695, 50), (695, 230), (535, 170)], fill=PALE_BLUE, stroke=BLUE, sw=2)
    s.text(625, 146, "decoder", size=17, weight="bold")
    s.arrow(700, 140, 730, 140)
    s.rect(735, 80, 120, 120, fill=PALE_BLUE, stroke=GREY, sw=2, r=6)
    raccoon(s, 795, 147, 67)
    s.rect(735, 80, 120, 120, fill="white", stroke="none", r=6, opacity=0.35)
    s.text(795, 224, "rebuilt, a bit blurry", size=15)
    s.text(
        440,
        272,
        "loss = rebuild well + keep codes close to a bell curve",
        size=16,
        fill=GREY,
        italic=True,
    )
    s.save("vae-hourglass.svg")


def tokens_pipeline() -> None:
    s = Svg(880, 400)
    s.text(440, 36, "“The raccoon opened the bin.”", size=22, weight="bold")
    tokens = ["The", " rac", "coon", " opened", " the", " bin", "."]
    ids = ["791", "9416", "3599", "9107", "279", "9736", "13"]
    x = 60
    widths = [max(62, 15 * len(t) + 22) for t in tokens]
    total = sum(widths) + 10 * (len(tokens) - 1)
    x = (880 - total) / 2
    for tok, tid, w in zip(tokens, ids, widths):
        s.rect(x, 62, w, 42, fill=PALE_ORANGE, stroke=ORANGE, sw=2, r=6)
        s.text(x + w / 2, 90, tok.replace(" ", "␣"), size=18)
        s.arrow(x + w / 2, 108, x + w / 2, 138, GREY, 2, 9)
        s.text(x + w / 2, 160, tid, size=17, weight="bold")
        s.arrow(x + w / 2, 168, x + w / 2, 196, GREY, 2, 9)
        for j in range(5):
            h = 8 + 22 * abs(math.sin(int(tid) * 0.37 + j * 1.3))
            s.rect(x + w / 2 - 22 + j * 9, 238 - h, 7, h, fill=BLUE, stroke="none", r=1)
        x += w + 10
    s.text(30, 90, "tokens", size=15, anchor="start", fill=GREY)
    s.text(30, 160, "numbers", size=15, anchor="start", fill=GREY)
    s.text(30, 228, "vectors", size=15, anchor="start", fill=GREY)
    s.arrow(440, 252, 440, 280)
    box(s, 300, 284, 280, 50, ["the model's layers"], fill=PALE_BLUE, stroke=BLUE, size=17)
    s.arrow(440, 338, 440, 352)
    s.text(440, 378, "next token: “It” 31% · “and” 18% · “while” 7% · …", size=17)
    s.text(860, 262, "(example numbers)", size=13, anchor="end", fill=GREY, italic=True)
    s.save("tokens-pipeline.svg")


def hardware_trip() -> None:
    s = Svg(880, 360)
    s.text(
        440, 30, "Training an ImageNet-sized image model once (rough times)", size=19, weight="bold"
    )
    x0, x1 = 250, 840
    hour, year = 3600.0, 365 * 86400.0
    lo, hi = math.log10(600), math.log10(2 * year)

    def xp(seconds):
        return x0 + (math.log10(seconds) - lo) / (hi - lo) * (x1 - x0)

    for label, secs in (
        ("10 min", 600),
        ("1 hour", hour),
        ("1 day", 86400),
        ("1 week", 7 * 86400),
        ("1 month", 30 * 86400),
        ("1 year", year),
    ):
        x = xp(secs)
        s.line(x, 60, x, 290, "#d5d9de", 1.5, "4 5")
        s.text(x, 314, label, size=14, fill=GREY)
    rows = (
        ("on foot: a laptop CPU", 0.8 * year, VERMILLION, "about a year"),
        ("by car: one GPU", 4 * 86400, ORANGE, "a few days"),
        ("by jet: a data centre", 1.0 * hour, BLUE, "about an hour"),
    )
    for i, (label, secs, color, note) in enumerate(rows):
        y = 80 + i * 72
        s.text(x0 - 12, y + 30, label, size=17, anchor="end", weight="bold")
        s.rect(x0, y + 8, xp(secs) - x0, 34, fill=color, stroke="none", r=4)
        if xp(secs) > 700:  # a long bar carries its note inside
            s.text(xp(secs) - 12, y + 31, note, size=16, anchor="end", weight="bold", fill="white")
        else:
            s.text(xp(secs) + 10, y + 31, note, size=16, anchor="start", weight="bold")
    s.text(
        440,
        346,
        "time on a log scale: each grid line is many times the one before",
        size=15,
        fill=GREY,
        italic=True,
    )
    s.save("hardware-trip.svg")


# -- the one bitmap: noise ---------------------------------------------------------------------------
def diffusion_strip() -> None:
    """A raccoon drawn in pixels, noised with a real DDPM schedule (linear betas, T = 1000)."""
    size, scale = 96, 3  # each image 96 px, shown at 3× (then the page draws it at half)
    img = Image.new("RGB", (size, size), (226, 236, 246))
    d = ImageDraw.Draw(img)
    c, r = size / 2, size * 0.36
    for side in (-1, 1):
        d.ellipse(
            [
                c + side * r * 0.68 - r * 0.32,
                c - r * 0.72 - r * 0.32,
                c + side * r * 0.68 + r * 0.32,
                c - r * 0.72 + r * 0.32,
            ],
            fill=(140, 147, 156),
        )
    d.ellipse([c - r, c - r * 0.86, c + r, c + r * 0.86], fill=(154, 161, 170))
    d.ellipse([c - r * 0.55, c - r * 0.05, c + r * 0.55, c + r * 0.77], fill=(238, 240, 242))
    d.polygon(
        [
            (c - r * 0.95, c - r * 0.05),
            (c - r * 0.45, c - r * 0.42),
            (c, c - r * 0.2),
            (c + r * 0.45, c - r * 0.42),
            (c + r * 0.95, c - r * 0.05),
            (c + r * 0.45, c + r * 0.2),
            (c, c + r * 0.02),
            (c - r * 0.45, c + r * 0.2),
        ],
        fill=(31, 31, 31),
    )
    for dx in (-0.42, 0.42):
        d.ellipse([c + dx * r - 4, c - r * 0.1 - 4, c + dx * r + 4, c - r * 0.1 + 4], fill="white")
    d.ellipse([c - 6, c + r * 0.3 - 4, c + 6, c + r * 0.3 + 4], fill=(26, 26, 26))
    x0 = np.asarray(img, dtype=np.float64) / 127.5 - 1.0
    betas = np.linspace(1e-4, 0.02, 1000)
    alpha_bar = np.cumprod(1 - betas)
    steps = [0, 50, 150, 300, 500, 999]
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x0.shape)
    tile = size * scale
    gap, margin_top, margin_bottom = 28, 110, 160
    width = len(steps) * tile + (len(steps) - 1) * gap + 80
    canvas = Image.new("RGB", (width, margin_top + tile + margin_bottom), "white")
    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    bold_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    font = ImageFont.truetype(font_path, 44)
    bold = ImageFont.truetype(bold_path, 44)
    draw = ImageDraw.Draw(canvas)
    for i, t in enumerate(steps):
        a = alpha_bar[t]
        xt = math.sqrt(a) * x0 + math.sqrt(1 - a) * noise if t else x0
        pic = Image.fromarray(np.clip((xt + 1) * 127.5, 0, 255).astype(np.uint8))
        pic = pic.resize((tile, tile), Image.Resampling.NEAREST)
        x = 40 + i * (tile + gap)
        canvas.paste(pic, (x, margin_top))
        label = "t = 0" if t == 0 else ("t = T" if t == 999 else f"t = {t}")
        draw.text(
            (x + tile / 2, margin_top + tile + 40), label, font=bold, fill=(26, 26, 26), anchor="mm"
        )
    y_top = 56
    draw.line([(60, y_top), (width - 80, y_top)], fill=(213, 94, 0), width=6)
    draw.polygon(
        [(width - 50, y_top), (width - 84, y_top - 16), (width - 84, y_top + 16)], fill=(213, 94, 0)
    )
    draw.text(
        (width / 2, y_top - 30),
        "forward: add a little noise at each step",
        font=font,
        fill=(213, 94, 0),
        anchor="mm",
    )
    y_bot = margin_top + tile + 84
    draw.line([(80, y_bot), (width - 60, y_bot)], fill=(0, 114, 178), width=6)
    draw.polygon([(50, y_bot), (84, y_bot - 16), (84, y_bot + 16)], fill=(0, 114, 178))
    draw.text(
        (width / 2, y_bot + 34),
        "reverse: the network removes noise, step by step",
        font=font,
        fill=(0, 114, 178),
        anchor="mm",
    )
    canvas.save(OUT / "diffusion-strip.png", optimize=True)


DIAGRAMS = (
    program_vs_model,
    loss_curve,
    loss_vs_accuracy,
    gradient_steps,
    classifier_pipeline,
    overfitting_curves,
    transfer_learning,
    forgetting_curves,
    inference_modes,
    embedding_map,
    cosine_similarity,
    rag_pipeline,
    kinds_of_learning,
    neural_network,
    gan_loop,
    vae_hourglass,
    tokens_pipeline,
    hardware_trip,
    diffusion_strip,
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for draw in DIAGRAMS:
        draw()
    print(f"Drew {len(DIAGRAMS)} pictures into {OUT}")


if __name__ == "__main__":
    main()
