"""The Lessons tab: a list of lessons on the left, the open lesson on the right.

Each lesson is text and pictures, Try it buttons that open another tab with a preset and
point at the control to use, and a predict-then-check question. Left/Right arrows and Page
Up/Down (what a presenter's clicker sends) move between lessons; Page Down scrolls a long
lesson first. Ticks and the last open lesson are kept across restarts.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lab.lessons import LESSONS, Lesson, TryIt, find_lesson
from lab.ui.appearance import appearance
from lab.ui.lessons.document import LessonText
from lab.ui.lessons.highlight import ControlHighlight
from lab.ui.lessons.presets import Outcome, TryItError, apply_try_it, is_available
from lab.ui.lessons.progress import LessonProgress
from lab.ui.lessons.question import QuestionBox
from lab.ui.lessons.speed_panel import SpeedPanel
from lab.ui.runs_model import RunsModel
from lab.ui.widgets.help import chain_tab_order, explain
from lab.ui.widgets.notice import Notice

LIST_POINT_SIZE = 14
PAGE_WIDTH = 1040  # the lesson column's widest: long lines are hard to follow
NAV_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)

STYLE = """
QWidget#lessonPage { background: white; }
QWidget#lessonPage QLabel, QWidget#lessonPage QRadioButton { font-size: 16pt; color: #111111; }
QWidget#lessonPage QPushButton { font-size: 15pt; padding: 8px 16px; }
QWidget#lessonPage QLabel#questionHeading { font-size: 18pt; font-weight: 700; color: #0b3d66; }
QWidget#lessonPage QLabel#tryItHint { font-size: 13pt; color: #333333; }
QFrame#questionBox, QFrame#speedPanel, QFrame#tryItBox {
    background: #f3f7fb; border: 1px solid #9db7cf; border-radius: 8px; }
QFrame#speedPanel { background: #f6f6ef; border-color: #c9c28a; }
QLineEdit#lessonSearch { font-size: 14pt; padding: 4px; }
QLabel#lessonPosition { font-size: 14pt; }
"""


class LessonsTab(QWidget):
    title = "Lessons"
    status_message = Signal(str)
    lesson_opened = Signal(str)

    highlight_ms = 3500  # how long a Try it points at its control

    def __init__(
        self,
        tabs: QTabWidget | None = None,
        runs: RunsModel | None = None,
        settings: QSettings | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.tabs = tabs  # the window's tabs, where Try its go; None: Try its are left out
        self.lessons: tuple[Lesson, ...] = LESSONS
        self.progress = LessonProgress(settings, [lesson.id for lesson in LESSONS])
        self.current: Lesson | None = None
        self.last_outcome: Outcome | None = None
        self.try_it_buttons: list[QPushButton] = []
        self.highlight = ControlHighlight(self)
        appearance().style(self, STYLE)  # font sizes follow presentation mode

        # -- left: search, list, progress --------------------------------------------------
        self.search = QLineEdit()
        self.search.setObjectName("lessonSearch")
        self.search.setPlaceholderText("Search the lessons…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only the lessons that contain all of these words")
        self.search.textChanged.connect(self._apply_search)
        self.search_note = QLabel()
        self.search_note.setObjectName("note")
        self.search_note.hide()
        self.list = QListWidget()
        self.list.setObjectName("lessonList")
        self.list.setAccessibleName("Lessons")
        appearance().set_font(self.list, LIST_POINT_SIZE)
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap titles on resize
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A steady width: items wrapped before a scroll bar appeared would be cut off.
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.list.setToolTip("Tick a lesson when you have done it; answering its question ticks it")
        for lesson in self.lessons:
            item = QListWidgetItem(lesson.heading)
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setToolTip(lesson.summary)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._on_list_current)
        self.list.itemChanged.connect(self._on_item_changed)
        self.progress_label = QLabel()
        self._sync_ticks()
        self.clear_button = QPushButton("Clear ticks")
        self.clear_button.setToolTip("Untick every lesson (for example, for the next class)")
        self.clear_button.clicked.connect(self.clear_progress)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.clear_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.search_note)
        left_layout.addWidget(self.list, 1)
        left_layout.addLayout(progress_row)

        # -- right: the lesson page ----------------------------------------------------------
        self.text = LessonText()
        self.speed = SpeedPanel(runs)
        self.try_it_box = QFrame()
        self.try_it_box.setObjectName("tryItBox")
        self.try_it_layout = QVBoxLayout(self.try_it_box)
        self.try_it_layout.setContentsMargins(18, 14, 18, 14)
        self.try_it_notice = Notice()
        self.question = QuestionBox()
        self.question.answered.connect(self._on_answered)

        column = QWidget()
        column.setObjectName("lessonPage")
        column.setMaximumWidth(PAGE_WIDTH)
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(24, 16, 24, 24)
        column_layout.setSpacing(16)
        column_layout.addWidget(self.text)
        column_layout.addWidget(self.speed)
        column_layout.addWidget(self.try_it_box)
        column_layout.addWidget(self.try_it_notice)
        column_layout.addWidget(self.question)
        column_layout.addStretch(1)
        page = QWidget()
        page.setObjectName("lessonPage")
        page_layout = QHBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addStretch(0)
        page_layout.addWidget(column, 1)
        page_layout.addStretch(0)
        self.scroll = QScrollArea()
        self.scroll.setWidget(page)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAccessibleName("Lesson")

        self.prev_button = QPushButton("◀ Previous")
        self.prev_button.setToolTip("The previous lesson (Left arrow or Page Up)")
        self.prev_button.clicked.connect(self.previous_lesson)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("primary")
        self.next_button.setToolTip("The next lesson (Right arrow or Page Down)")
        self.next_button.clicked.connect(self.next_lesson)
        explain(self.search, "Search the lessons")
        explain(self.list, "Lessons")
        explain(self.clear_button, "Clear ticks")
        explain(self.prev_button, "Previous lesson")
        explain(self.next_button, "Next lesson")
        self.position = QLabel()
        self.position.setObjectName("lessonPosition")
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.position, 1)
        nav.addWidget(self.next_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.scroll, 1)
        right_layout.addLayout(nav)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 1030])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        for w in (self.list, self.text, self.scroll, self.scroll.viewport(), page, column):
            w.installEventFilter(self)
        self.list.viewport().installEventFilter(self)  # resizes: re-fit the wrapped titles
        for button in (self.prev_button, self.next_button, self.clear_button):
            button.installEventFilter(self)

        # The first start opens lesson 1; later starts go back to the last open lesson.
        self.first_start = self.progress.first_start
        self.progress.mark_started()
        self.open_lesson(self.progress.last or self.lessons[0].id)

    # -- opening lessons ------------------------------------------------------------------------
    def open_lesson(self, key: str | int) -> bool:
        """Show a lesson by id or number; False (nothing changes) if there is no such lesson."""
        lesson = find_lesson(key)
        if lesson is None:
            return False
        self.highlight.stop()
        self.current = lesson
        row = self.lessons.index(lesson)
        self.list.blockSignals(True)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self.text.show_lesson(lesson)
        self.speed.setVisible(lesson.extra == "speed")
        if lesson.extra == "speed":
            self.speed.start()
        self._show_try_its(lesson)
        self.try_it_notice.hide()
        self.question.set_question(lesson.question)
        self._order_tabs()
        self.position.setText(f"Lesson {lesson.number} of {len(self.lessons)}")
        self.prev_button.setEnabled(row > 0)
        self.next_button.setEnabled(row < len(self.lessons) - 1)
        self.progress.set_last(lesson.id)
        self._mark_search_words()
        if not self.search.text().strip():
            self.scroll.verticalScrollBar().setValue(0)
        self.lesson_opened.emit(lesson.id)
        return True

    def next_lesson(self) -> bool:
        return self._step(1)

    def previous_lesson(self) -> bool:
        return self._step(-1)

    def _step(self, delta: int) -> bool:
        row = self.lessons.index(self.current) + delta if self.current else 0
        if not 0 <= row < len(self.lessons):
            return False
        return self.open_lesson(self.lessons[row].id)

    def page_down(self) -> None:
        """Scroll one screen; at the end of the lesson, go to the next one (clicker-friendly)."""
        bar = self.scroll.verticalScrollBar()
        if bar.value() < bar.maximum():
            bar.setValue(bar.value() + bar.pageStep())
        else:
            self.next_lesson()

    def page_up(self) -> None:
        bar = self.scroll.verticalScrollBar()
        if bar.value() > bar.minimum():
            bar.setValue(bar.value() - bar.pageStep())
        else:
            self.previous_lesson()

    def _on_list_current(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.open_lesson(item.data(Qt.ItemDataRole.UserRole))

    # -- keyboard ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.KeyPress and self._navigate(event):  # type: ignore[arg-type]
            return True
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_list_items()
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if not self._navigate(event):
            super().keyPressEvent(event)

    def _fit_list_items(self) -> None:
        """Make each title's row tall enough for its wrapped lines at the list's width.

        Qt's own estimate can be a few pixels off with a check box, which cuts off the
        second line of a title that only just wraps.
        """
        self.list.ensurePolished()
        metrics = self.list.fontMetrics()
        width = max(80, self.list.viewport().width() - 44)  # the check box and margins
        flags = Qt.TextFlag.TextWordWrap
        for i in range(self.list.count()):
            item = self.list.item(i)
            text = metrics.boundingRect(QRect(0, 0, width, 10_000), flags, item.text())
            item.setSizeHint(QSize(10, text.height() + 10))  # the row fills the width anyway

    def _navigate(self, event: QKeyEvent) -> bool:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        key = event.key()
        if key not in NAV_KEYS:
            return False
        if key == Qt.Key.Key_Right:
            self.next_lesson()
        elif key == Qt.Key.Key_Left:
            self.previous_lesson()
        elif key == Qt.Key.Key_PageDown:
            self.page_down()
        else:
            self.page_up()
        return True

    # -- Try its ---------------------------------------------------------------------------------
    def available_try_its(self, lesson: Lesson) -> list[TryIt]:
        """The lesson's Try its whose tab and controls exist in this window."""
        return [t for t in lesson.try_its if is_available(t, self.tabs)]

    def refresh_try_its(self) -> None:
        """Lay out the open lesson's Try its again (the window calls this once every tab is
        built)."""
        if self.current is not None:
            self._show_try_its(self.current)
            self._order_tabs()

    def _order_tabs(self) -> None:
        """The Try it buttons and the question's answers are made anew for each lesson: put
        them back in reading order, between the lesson text and Previous/Next."""
        question = self.question
        chain_tab_order(
            self.clear_button,
            self.text,
            *self.try_it_buttons,
            *question.choice_buttons,
            question.slider,
            question.check_button,
            question.again_button,
            self.prev_button,
            self.next_button,
        )

    def _show_try_its(self, lesson: Lesson) -> None:
        _clear_layout(self.try_it_layout)
        self.try_it_buttons = []
        available = self.available_try_its(lesson)
        if not lesson.try_its:
            self.try_it_box.hide()
            return
        self.try_it_box.show()
        heading = QLabel("Try it")
        heading.setObjectName("questionHeading")
        self.try_it_layout.addWidget(heading)
        if not available:
            missing = sorted({t.tab for t in lesson.try_its})
            note = QLabel(
                f"The {' and '.join(missing)} lab for this lesson is not part of this version "
                "of ML Lab yet. The text and pictures above teach the idea; the question "
                "below still works."
            )
            note.setWordWrap(True)
            note.setObjectName("tryItHint")
            self.try_it_layout.addWidget(note)
            return
        for try_it in available:
            button = QPushButton(f"▶  {try_it.label}")
            button.setToolTip(f"Opens the {try_it.tab} tab. {try_it.hint}")
            button.setAccessibleDescription(try_it.hint)
            explain(button, try_it.label)
            button.clicked.connect(lambda _=False, t=try_it: self.run_try_it(t))
            row = QHBoxLayout()
            row.addWidget(button)
            where = QLabel(f"opens the {try_it.tab} tab")
            where.setObjectName("tryItHint")
            row.addWidget(where)
            row.addStretch(1)
            self.try_it_layout.addLayout(row)
            self.try_it_buttons.append(button)

    def run_try_it(self, try_it: TryIt) -> Outcome | None:
        """Open the Try it's tab with its preset and point at the control to use."""
        if self.tabs is None:
            return None
        try:
            outcome = apply_try_it(try_it, self.tabs)
        except TryItError as exc:
            self.tabs.setCurrentWidget(self)
            self.try_it_notice.show_message(f"This Try it did not work: {exc}", "warning")
            return None
        self.last_outcome = outcome
        self.highlight.show(outcome.control, outcome.hint, self.highlight_ms)
        self.status_message.emit(f"Try it: {outcome.hint}")
        return outcome

    # -- questions and progress ---------------------------------------------------------------
    def _on_answered(self, _right: bool) -> None:
        if self.current is not None:
            self.set_done(self.current.id, True)
        # Once the answer has been laid out, scroll so the explanation is in view.
        QTimer.singleShot(0, self, self._show_explanation)

    def _show_explanation(self) -> None:
        if self.question.revealed:
            self.scroll.ensureWidgetVisible(self.question.explanation, 0, 24)

    def set_done(self, lesson_id: str, done: bool) -> None:
        self.progress.set_done(lesson_id, done)
        self._sync_ticks()

    def clear_progress(self) -> None:
        self.progress.clear()
        self._sync_ticks()

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        lesson_id = item.data(Qt.ItemDataRole.UserRole)
        done = item.checkState() == Qt.CheckState.Checked
        if done != (lesson_id in self.progress.done):
            self.set_done(lesson_id, done)

    def _sync_ticks(self) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            done = item.data(Qt.ItemDataRole.UserRole) in self.progress.done
            item.setCheckState(Qt.CheckState.Checked if done else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self.progress_label.setText(f"{len(self.progress.done)} of {len(self.lessons)} done")

    # -- search --------------------------------------------------------------------------------------
    def matching_lessons(self) -> list[str]:
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def _apply_search(self, text: str) -> None:
        query = text.strip()
        matches = 0
        for i, lesson in enumerate(self.lessons):
            hit = not query or lesson.matches(query)
            self.list.item(i).setHidden(not hit)
            matches += hit
        if query:
            self.search_note.setText(
                f"{matches} lesson{'s' if matches != 1 else ''} match"
                if matches
                else "No lesson has all of these words."
            )
            self.search_note.show()
            first = next((lesson for lesson in self.lessons if lesson.matches(query)), None)
            if first is not None and (self.current is None or not self.current.matches(query)):
                self.open_lesson(first.id)
        else:
            self.search_note.hide()
        self._mark_search_words()

    def _mark_search_words(self) -> None:
        words = [w for w in self.search.text().split() if len(w) > 1]
        first = self.text.mark_words(words)
        if first is not None:
            rect = self.text.cursorRect(first)
            y = self.text.mapTo(self.scroll.widget(), rect.center()).y()
            self.scroll.ensureVisible(0, y, 0, self.scroll.viewport().height() // 3)

    # -- lifetime -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.highlight.stop()
        self.text.stop_timers()
        self.speed.shutdown()


def _clear_layout(layout) -> None:
    """Remove and delete everything in a layout, nested layouts included."""
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().hide()  # gone from view now, deleted when control returns to Qt
            item.widget().deleteLater()
        elif item.layout() is not None:
            _clear_layout(item.layout())
            item.layout().deleteLater()
