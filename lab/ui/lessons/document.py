"""A lesson's text: Markdown in a text browser, large and airy, with crisp pictures.

Pictures are drawn for the width they are shown at (SVG, redrawn when the width changes;
PNG, drawn at twice its display size), at least twice the screen's pixel density, so they
stay sharp on a projector. The browser is as tall as its text: the page around it scrolls.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QTextEdit

from lab.lessons import IMAGE_DIR, Lesson
from lab.ui.appearance import appearance

TEXT_POINT_SIZE = 17
MAX_IMAGE_WIDTH = 900  # pixels on screen; the diagrams are drawn for about this width
MARK_COLOR = QColor("#F0E442")  # Okabe–Ito yellow: search matches, black text stays readable
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)[ \t]*$", re.MULTILINE)


def lesson_markdown(lesson: Lesson) -> str:
    """The lesson with its title, each picture followed by its caption."""
    body = _IMAGE.sub(
        lambda m: f"{m.group(0).strip()}\n\n*{m.group(1)}*\n" if m.group(1) else m.group(0),
        lesson.markdown,
    )
    return f"# {lesson.heading}\n\n{body}\n"


class LessonText(QTextBrowser):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.setAccessibleName("Lesson text")
        appearance().set_font(self, TEXT_POINT_SIZE)  # follows presentation mode
        self.document().setDefaultFont(self.font())
        self.document().setDocumentMargin(4)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.setStyleSheet("QTextBrowser { background: white; color: #111111; }")
        self._renderers: dict[str, QSvgRenderer] = {}
        self._image_width = 0
        self.images: list[str] = []  # the pictures of the lesson shown, in order
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(80)
        self._resize_timer.timeout.connect(self._fit_images)

    # -- content -------------------------------------------------------------------------------
    def show_lesson(self, lesson: Lesson) -> None:
        self._image_width = self._target_width()
        self.setMarkdown(lesson_markdown(lesson))
        self._style_blocks()
        self.images = lesson.images
        self._fit_images(force=True)

    def _style_blocks(self) -> None:
        """More space between lines and paragraphs than Qt's default: easier to read aloud."""
        doc = self.document()
        block = doc.begin()
        while block.isValid():
            fmt = QTextBlockFormat(block.blockFormat())
            heading = fmt.headingLevel()
            if "\ufffc" not in block.text():  # a picture's line keeps its own height
                fmt.setLineHeight(135 if not heading else 115, 1)  # 1: proportional height
            fmt.setBottomMargin(10 if not heading else 6)
            if heading:
                fmt.setTopMargin(18 if heading > 1 else 0)
            cursor = QTextCursor(block)
            cursor.setBlockFormat(fmt)
            if heading:
                char = QTextCharFormat()
                char.setForeground(QColor("#0b3d66") if heading > 1 else QColor("#111111"))
                cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
                cursor.mergeCharFormat(char)
            block = block.next()

    # -- pictures ----------------------------------------------------------------------------
    def _target_width(self) -> int:
        margin = int(2 * self.document().documentMargin()) + 8
        return max(200, min(MAX_IMAGE_WIDTH, self.viewport().width() - margin))

    def _path(self, name: str) -> Path:
        return IMAGE_DIR / Path(name).name

    def image_size(self, name: str, width: int | None = None) -> QSize:
        """The size a picture is shown at, for a given width of the text."""
        width = width or self._image_width or self._target_width()
        path = self._path(name)
        if path.suffix.lower() == ".svg":
            renderer = self._renderer(path)
            view = renderer.viewBoxF()
            natural = QSize(int(view.width()), int(view.height()))
        else:
            image = QImage(str(path))
            natural = QSize(image.width() // 2, image.height() // 2)  # drawn at 2×
        if natural.isEmpty():
            return QSize(0, 0)
        w = min(width, natural.width())
        return QSize(w, round(natural.height() * w / natural.width()))

    def _renderer(self, path: Path) -> QSvgRenderer:
        key = str(path)
        if key not in self._renderers:
            self._renderers[key] = QSvgRenderer(key)
        return self._renderers[key]

    def render_image(self, name: str, size: QSize) -> QImage:
        path = self._path(name)
        scale = max(2.0, self.devicePixelRatioF())
        pixels = QSize(round(size.width() * scale), round(size.height() * scale))
        if path.suffix.lower() == ".svg":
            image = QImage(pixels, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.white)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            self._renderer(path).render(painter)
            painter.end()
        else:
            image = QImage(str(path)).scaled(
                pixels,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        image.setDevicePixelRatio(scale)
        return image

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 (Qt's name)
        if kind == QTextDocument.ResourceType.ImageResource.value:
            name = url.toString()
            if self._path(name).is_file():
                return self.render_image(name, self.image_size(name))
            return QImage()
        return super().loadResource(kind, url)

    def _fit_images(self, force: bool = False) -> None:
        """Give each picture its display size and redraw it sharp at that size."""
        width = self._target_width()
        if width == self._image_width and not force:
            return
        self._image_width = width
        doc = self.document()
        found: list[tuple[int, int, str]] = []
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.isValid() and frag.charFormat().isImageFormat():
                    name = frag.charFormat().toImageFormat().name()
                    found.append((frag.position(), frag.length(), name))
                it += 1
            block = block.next()
        for position, length, name in found:
            if not self._path(name).is_file():
                continue
            size = self.image_size(name, width)
            doc.addResource(
                QTextDocument.ResourceType.ImageResource.value,
                QUrl(name),
                self.render_image(name, size),
            )
            cursor = QTextCursor(doc)
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            fmt = cursor.charFormat().toImageFormat()
            fmt.setWidth(size.width())
            fmt.setHeight(size.height())
            cursor.setCharFormat(fmt)

    # -- height and width --------------------------------------------------------------------
    def _fit_height(self, size) -> None:
        self.setFixedHeight(int(size.height()) + 2 * self.frameWidth() + 4)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._target_width() != self._image_width:
            self._resize_timer.start()

    def stop_timers(self) -> None:
        self._resize_timer.stop()

    # -- search ------------------------------------------------------------------------------
    def mark_words(self, words: list[str]) -> QTextCursor | None:
        """Mark every occurrence of the words in yellow; the first match, to scroll to."""
        selections = []
        first: QTextCursor | None = None
        fmt = QTextCharFormat()
        fmt.setBackground(MARK_COLOR)
        fmt.setForeground(QColor("#000000"))
        doc = self.document()
        for word in words:
            cursor = QTextCursor(doc)
            while True:
                cursor = doc.find(word, cursor)
                if cursor.isNull():
                    break
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
                if first is None or cursor.position() < first.position():
                    first = QTextCursor(cursor)
        self.setExtraSelections(selections)
        return first

    def marked_count(self) -> int:
        return len(self.extraSelections())
