"""How the window looks: light / dark / high-contrast themes, presentation scale, contrast maths.

One process-wide `appearance()` object holds the current `Look`. `apply()` sets the palette,
the style sheet and the font size of the whole application, restyles every pyqtgraph plot
(fonts, line widths, marker sizes, colours) and emits `changed`. Widgets that size their own
text register once with `style()` / `set_font()` and follow every later change by themselves.
"""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from lab.ui.theme import BASE_POINT_SIZE, OKABE_ITO

THEMES_CHOICES = ("system", "light", "dark")
SCALES = (1.25, 1.5, 2.0)  # the presentation sizes offered to teachers
PRESENTATION_SCALE = 1.5


# -- contrast (WCAG 2) ---------------------------------------------------------------------------
def relative_luminance(color: str | QColor) -> float:
    c = QColor(color)
    channels = []
    for v in (c.redF(), c.greenF(), c.blueF()):
        channels.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: str | QColor, bg: str | QColor) -> float:
    """WCAG contrast ratio, from 1 (same colour) to 21 (black on white)."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def reach_contrast(color: str, bg: str, target: float) -> str:
    """The colour, mixed step by step towards white or black (away from bg), until it reaches
    `target` contrast on bg: the hue stays recognisable."""
    if contrast_ratio(color, bg) >= target:
        return QColor(color).name()
    toward = QColor("#ffffff" if relative_luminance(bg) < 0.18 else "#000000")
    c = QColor(color)
    for step in range(1, 101):
        t = step / 100
        mixed = QColor.fromRgbF(
            c.redF() + (toward.redF() - c.redF()) * t,
            c.greenF() + (toward.greenF() - c.greenF()) * t,
            c.blueF() + (toward.blueF() - c.blueF()) * t,
        )
        if contrast_ratio(mixed, bg) >= target:
            return mixed.name()
    return toward.name()


# -- themes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Theme:
    name: str
    dark: bool
    window: str
    text: str
    base: str  # inputs, lists
    alt_base: str
    button: str
    button_text: str
    border: str
    highlight: str
    highlighted_text: str
    link: str
    disabled_text: str
    note_text: str
    error_text: str
    focus: str  # the outline around the control that has the keyboard
    primary: str  # background of the main button of a panel
    primary_text: str
    tooltip_base: str
    tooltip_text: str
    plot_background: str
    plot_foreground: str  # axes, ticks, labels
    series: tuple[str, ...]  # plot colours, in Okabe–Ito order


LIGHT = Theme(
    name="light",
    dark=False,
    window="#f3f3f3",
    text="#1a1a1a",
    base="#ffffff",
    alt_base="#f0f0f0",
    button="#e9e9e9",
    button_text="#1a1a1a",
    border="#8c8c8c",
    highlight="#0063a0",
    highlighted_text="#ffffff",
    link="#005a8e",
    disabled_text="#626262",
    note_text="#444444",
    error_text="#a33a08",
    focus="#c05000",
    primary="#0063a0",
    primary_text="#ffffff",
    tooltip_base="#ffffdc",
    tooltip_text="#1a1a1a",
    plot_background="#ffffff",
    plot_foreground="#222222",
    series=OKABE_ITO,
)

DARK = Theme(
    name="dark",
    dark=True,
    window="#202124",
    text="#ececec",
    base="#17181a",
    alt_base="#26272b",
    button="#34363a",
    button_text="#f0f0f0",
    border="#7a7d82",
    highlight="#56B4E9",
    highlighted_text="#000000",
    link="#8fcdf5",
    disabled_text="#a8a8a8",
    note_text="#c9c9c9",
    error_text="#ffa57a",
    focus="#f0a030",
    primary="#56B4E9",
    primary_text="#000000",
    tooltip_base="#34363a",
    tooltip_text="#f0f0f0",
    plot_background="#17181a",
    plot_foreground="#e0e0e0",
    series=(*OKABE_ITO[:7], "#ffffff"),  # black lines would vanish: white instead
)

# Projected in class: black on white for text (projectors wash out dark screens), plots on
# black where the Okabe–Ito hues, lifted just enough, all reach 7:1 (on white, yellow cannot).
_HC_PLOT_BG = "#000000"
HIGH_CONTRAST = Theme(
    name="high-contrast",
    dark=False,
    window="#ffffff",
    text="#000000",
    base="#ffffff",
    alt_base="#f2f2f2",
    button="#ffffff",
    button_text="#000000",
    border="#000000",
    highlight="#003f87",
    highlighted_text="#ffffff",
    link="#00307a",
    disabled_text="#4d4d4d",
    note_text="#1a1a1a",
    error_text="#8a2e00",
    focus="#8f3500",
    primary="#000000",
    primary_text="#ffffff",
    tooltip_base="#ffffff",
    tooltip_text="#000000",
    plot_background=_HC_PLOT_BG,
    plot_foreground="#ffffff",
    series=tuple(reach_contrast(c, _HC_PLOT_BG, 7.2) for c in (*OKABE_ITO[:7], "#ffffff")),
)

THEMES = {t.name: t for t in (LIGHT, DARK, HIGH_CONTRAST)}


def theme_pairs(theme: Theme) -> list[tuple[str, str, str, str]]:
    """Every (what, foreground, background, kind) pair the theme draws; kind is "text",
    "plot" (lines and markers) or "outline" (focus ring, borders)."""
    t = theme
    pairs = [
        ("text / window", t.text, t.window, "text"),
        ("text / input background", t.text, t.base, "text"),
        ("text / alternate rows", t.text, t.alt_base, "text"),
        ("note text / window", t.note_text, t.window, "text"),
        ("error text / window", t.error_text, t.window, "text"),
        ("button text / button", t.button_text, t.button, "text"),
        ("primary button text / primary button", t.primary_text, t.primary, "text"),
        ("highlighted text / highlight", t.highlighted_text, t.highlight, "text"),
        ("link / window", t.link, t.window, "text"),
        ("link / input background", t.link, t.base, "text"),
        ("disabled text / window", t.disabled_text, t.window, "text"),
        ("disabled text / button", t.disabled_text, t.button, "text"),
        ("tooltip text / tooltip", t.tooltip_text, t.tooltip_base, "text"),
        ("plot axes and text / plot", t.plot_foreground, t.plot_background, "text"),
        ("focus outline / window", t.focus, t.window, "outline"),
        ("focus outline / input background", t.focus, t.base, "outline"),
    ]
    names = ("blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue")
    names += ("yellow", "black/white")
    for name, color in zip(names, t.series):
        pairs.append((f"plot series {name} {color} / plot", color, t.plot_background, "plot"))
    return pairs


@dataclass(frozen=True)
class Look:
    theme: str = "light"  # "light" | "dark" | "high-contrast"
    scale: float = 1.0
    presentation: bool = False


# -- style sheets -----------------------------------------------------------------------------
_FONT_SIZE = re.compile(r"font-size:\s*([0-9.]+)pt")


def scale_font_sizes(css: str, scale: float) -> str:
    """Every `font-size: Npt` in a style sheet times scale."""
    return _FONT_SIZE.sub(lambda m: f"font-size: {float(m.group(1)) * scale:.2f}pt", css)


def _css_values(theme: Theme, look: Look) -> dict[str, str]:
    s = look.scale
    grow = 1.35 if look.presentation else 1.0  # presentation: bigger primary buttons
    values = {k: v for k, v in theme.__dict__.items() if isinstance(v, str)}
    pad_y, pad_x = round(4 * s), round(11 * s)
    primary_y, primary_x = round(6 * s * grow), round(22 * s * grow)
    # A focused control's border is 1 px wider: its padding 1 px narrower, so nothing moves.
    values.update(
        pad_y=f"{pad_y}px",
        pad_x=f"{pad_x}px",
        fpad_y=f"{pad_y - 1}px",
        fpad_x=f"{pad_x - 1}px",
        primary_pad_y=f"{primary_y}px",
        primary_pad_x=f"{primary_x}px",
        primary_fpad_y=f"{primary_y - 1}px",
        primary_fpad_x=f"{primary_x - 1}px",
        primary_height=f"{round(22 * s * grow)}px",
        radius=f"{round(4 * s)}px",
        # Tick boxes and radio circles grow with the text (left alone at 100 %).
        indicator_rule=(
            ""
            if s == 1.0
            else "QCheckBox::indicator, QRadioButton::indicator, QAbstractItemView::indicator "
            f"{{ width: {round(13 * s)}px; height: {round(13 * s)}px; }}"
        ),
    )
    return values


def render_css(template: str, theme: Theme, look: Look) -> str:
    """A style sheet template with $colour names (Theme fields) and unscaled font sizes."""
    css = string.Template(template).safe_substitute(_css_values(theme, look))
    return scale_font_sizes(css, look.scale)


# -- the process-wide appearance ----------------------------------------------------------------
class Appearance(QObject):
    """The current look; `changed(Look)` fires after every apply()."""

    changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.look = Look()
        self.requested_theme = "light"  # what the user chose: may be "system"
        self._follow_hooked = False
        self._app: QApplication | None = None

    @property
    def theme(self) -> Theme:
        return THEMES[self.look.theme]

    # -- switching ----------------------------------------------------------------------------
    def apply(
        self,
        app: QApplication | None = None,
        theme: str = "system",
        presentation: bool = False,
        scale: float = 1.0,
    ) -> Look:
        """Set the theme and text scale of the whole application (and every plot in it)."""
        if theme not in (*THEMES_CHOICES, "high-contrast"):
            raise ValueError(f"The theme must be system, light or dark, not '{theme}'.")
        scale = float(scale)
        if presentation and scale <= 1.0:
            scale = PRESENTATION_SCALE
        if not 0.5 <= scale <= 3.0:
            raise ValueError(f"The text scale must be between 50% and 300%, not {scale:.0%}.")
        app = app or QApplication.instance()
        self._app = app
        self.requested_theme = theme
        if presentation:
            name = "high-contrast"
        elif theme == "system":
            name = self._system_theme()
        else:
            name = theme
        self._hook_system_scheme()
        return self._set(Look(name, scale, bool(presentation)))

    def set_scale(self, scale: float) -> Look:
        """Change only the presentation size (125 / 150 / 200 %)."""
        return self.apply(self._app, self.requested_theme, self.look.presentation, scale)

    def _set(self, look: Look) -> Look:
        if getattr(self, "_applied", None) == (id(self._app), look):
            return look  # already so: restyling every widget again costs seconds
        self.look = look
        app = self._app
        self._applied = (id(app), look)
        if app is not None:
            _apply_to_app(app, look, THEMES[look.theme])
            self.restyle_widgets()
            style_all_plots()
        self.changed.emit(look)
        return look

    # -- following the system's light/dark setting --------------------------------------------
    @staticmethod
    def _system_theme() -> str:
        hints = QGuiApplication.styleHints()
        return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"

    def _hook_system_scheme(self) -> None:
        if self._follow_hooked:
            return
        QGuiApplication.styleHints().colorSchemeChanged.connect(self.system_scheme_changed)
        self._follow_hooked = True

    def system_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        """The OS switched light/dark: follow it when the user chose "system"."""
        if self.requested_theme != "system" or self.look.presentation:
            return
        name = "dark" if scheme == Qt.ColorScheme.Dark else "light"
        if name != self.look.theme:
            self._set(replace(self.look, theme=name))

    # -- helpers for widgets that size or colour their own text --------------------------------
    def pt(self, point_size: float) -> float:
        return point_size * self.look.scale

    def font(self, point_size: float, base: QFont | None = None) -> QFont:
        font = QFont(base) if base is not None else QFont()
        font.setPointSizeF(self.pt(point_size))
        return font

    def css(self, template: str) -> str:
        return render_css(template, self.theme, self.look)

    def style(self, widget: QWidget, template: str) -> None:
        """Give the widget a style sheet now and again after every change of look."""
        widget.setProperty("labCss", template)
        widget.setStyleSheet(self.css(template))

    def set_font(self, widget: QWidget, point_size: float) -> None:
        """Give the widget a font of point_size × scale now and after every change of look."""
        widget.setProperty("labPointSize", float(point_size))
        _set_font(widget, self.font(point_size, widget.font()))

    def restyle_widgets(self) -> None:
        app = self._app or QApplication.instance()
        if app is None:
            return
        widgets = app.allWidgets()
        for w in widgets:  # style sheets first: re-polishing resets the fonts of children
            template = w.property("labCss")
            if isinstance(template, str):
                w.setStyleSheet(self.css(template))
        for w in widgets:
            size = w.property("labPointSize")
            if isinstance(size, float):
                _set_font(w, self.font(size, w.font()))


def _set_font(widget: QWidget, font: QFont) -> None:
    widget.setFont(font)
    if isinstance(widget, QAbstractScrollArea):
        # A style sheet above it pins the viewport's font: pass the new one on by hand.
        widget.viewport().setFont(font)


def _apply_to_app(app: QApplication, look: Look, theme: Theme) -> None:
    from lab.ui.app import STYLE

    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")  # the one style that draws every palette, dark ones included
    app.setPalette(make_palette(theme))
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE * look.scale)
    app.setFont(font)
    app.setStyleSheet(render_css(STYLE, theme, look))


def make_palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    window, button = QColor(t.window), QColor(t.button)
    for role, colour in (
        (roles.Window, t.window),
        (roles.WindowText, t.text),
        (roles.Base, t.base),
        (roles.AlternateBase, t.alt_base),
        (roles.Text, t.text),
        (roles.Button, t.button),
        (roles.ButtonText, t.button_text),
        (roles.BrightText, t.error_text),
        (roles.Highlight, t.highlight),
        (roles.HighlightedText, t.highlighted_text),
        (roles.Link, t.link),
        (roles.LinkVisited, t.link),
        (roles.ToolTipBase, t.tooltip_base),
        (roles.ToolTipText, t.tooltip_text),
        (roles.PlaceholderText, t.disabled_text),
        (roles.Light, button.lighter(130).name()),
        (roles.Midlight, button.lighter(115).name()),
        (roles.Mid, t.border),
        (roles.Dark, window.darker(160).name()),
        (roles.Shadow, "#000000"),
    ):
        p.setColor(role, QColor(colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.disabled_text))
    return p


_instance: Appearance | None = None


def appearance() -> Appearance:
    global _instance
    if _instance is None:
        _instance = Appearance()
        if "pyqtgraph" in sys.modules:
            install_plot_hooks()
    return _instance


def install_plot_hooks() -> None:
    """Style plots as they are made. Called before the first plot exists: pyqtgraph takes
    about a second to import, so the window does not import it before it shows."""
    from lab.ui import plot_style

    plot_style.install_hooks()


def style_all_plots() -> None:
    if "pyqtgraph" not in sys.modules:
        return  # no plot exists yet
    from lab.ui.plot_style import style_all_plots as _style

    _style()
