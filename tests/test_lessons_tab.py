"""The Lessons tab, driven offscreen: reading, moving around, Try its, questions, progress."""

from __future__ import annotations

import re

import pytest
from conftest import make_dataset
from PySide6.QtCore import QPoint, QRect, QSettings, Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from lab.core.features import FeatureCache
from lab.core.runs import RunStore
from lab.core.workspace import Workspace
from lab.lessons import LESSONS, ChoiceQuestion, SliderQuestion, find_lesson
from lab.ui.classifier import ClassifierTab
from lab.ui.curves import CurvesTab
from lab.ui.lessons import LessonsTab
from lab.ui.lessons.presets import resolve
from lab.ui.runs_model import RunsModel

TINY_SPEED = {"image_size": 32, "batch_size": 2, "seconds": 0.05, "network": "small_cnn"}


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


def make_settings(path: str) -> QSettings:
    return QSettings(path, QSettings.Format.IniFormat)


@pytest.fixture
def lab(qtbot, tmp_path, settings_file):
    """Lessons, Classifier and Curves in one tab widget, as in the window."""
    runs = RunsModel(RunStore(tmp_path / "runs"))
    tabs = QTabWidget()
    lessons = LessonsTab(tabs, runs, make_settings(settings_file))
    lessons.highlight_ms = 40
    lessons.speed.measure_options = dict(TINY_SPEED)
    workspace = Workspace(tmp_path / "images")
    classifier = ClassifierTab(workspace, FeatureCache(tmp_path / "cache"), runs)
    curves = CurvesTab(runs)
    for tab in (lessons, classifier, curves):
        tabs.addTab(tab, tab.title)

    def close(_widget) -> None:
        # A test that opened lesson 16 lets its (tiny) measurement finish, as a user would.
        qtbot.waitUntil(lambda: not lessons.speed.runner.running, timeout=30000)
        for tab in (lessons, classifier, curves):
            getattr(tab, "shutdown", lambda: None)()

    qtbot.addWidget(tabs, before_close_func=close)
    tabs.resize(1280, 800)
    tabs.show()
    return tabs, lessons, classifier, curves


def value_matches(widget, value) -> bool:
    """Does a control show the value a preset gave it (as a user would read it)?"""
    if isinstance(widget, QTabWidget):
        return str(value).lower() in widget.tabText(widget.currentIndex()).lower()
    if isinstance(widget, QComboBox):
        return value in (widget.currentData(), widget.currentText())
    if isinstance(widget, QListWidget):
        item = widget.currentItem()
        return value in (item.data(Qt.ItemDataRole.UserRole), item.text())
    if isinstance(widget, QAbstractButton):
        return widget.isChecked() == bool(value)
    if isinstance(widget, QLineEdit):
        return widget.text() == str(value)
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return widget.toPlainText() == str(value)
    return widget.value() == value


def frame_rect(lessons: LessonsTab) -> QRect:
    return lessons.highlight._frame.geometry()


# -- reading ------------------------------------------------------------------------------------
def test_every_lesson_renders_its_text_and_crisp_pictures_without_warnings(lab, qtlog):
    _, lessons, _, _ = lab
    for lesson in LESSONS:
        assert lessons.open_lesson(lesson.id)
        doc = lessons.text.document()
        assert doc.toPlainText().startswith(lesson.heading)
        for section in lesson.sections:
            if section.heading:
                assert section.heading in doc.toPlainText()
        blocks = []
        block = doc.begin()
        while block.isValid():
            blocks.append(block.text())
            block = block.next()
        for caption in re.findall(r"!\[([^\]]+)\]", lesson.markdown):
            assert caption in blocks, caption  # a caption is a paragraph of its own
        for name in lesson.images:
            image = doc.resource(QTextDocument.ResourceType.ImageResource.value, QUrl(name))
            assert not image.isNull(), name
            shown = lessons.text.image_size(name)
            # Drawn at (at least) twice the size it is shown at: sharp on a projector.
            assert image.width() >= 2 * shown.width() - 1 and shown.width() >= 300
        # The browser is as tall as its text: nothing hides behind a second scroll bar.
        assert lessons.text.height() >= doc.size().height()
    warnings = [r for r in qtlog.records if r.type.name in ("QtWarningMsg", "QtCriticalMsg")]
    assert warnings == [], [r.message for r in warnings]


def test_pictures_are_redrawn_for_a_new_width(lab, qtbot):
    tabs, lessons, _, _ = lab
    lessons.open_lesson("overfitting")
    name = lessons.text.images[0]
    wide = lessons.text.image_size(name)
    tabs.resize(760, 700)
    qtbot.waitUntil(lambda: lessons.text.image_size(name).width() < wide.width(), timeout=3000)
    narrow = lessons.text.image_size(name)
    image = lessons.text.document().resource(
        QTextDocument.ResourceType.ImageResource.value, QUrl(name)
    )
    assert image.width() == pytest.approx(2 * narrow.width(), abs=2)


# -- moving around ---------------------------------------------------------------------------
def test_next_previous_buttons_and_keys(lab, qtbot):
    _, lessons, _, _ = lab
    assert lessons.current.number == 1
    assert not lessons.prev_button.isEnabled()
    qtbot.mouseClick(lessons.next_button, Qt.MouseButton.LeftButton)
    assert lessons.current.number == 2
    assert lessons.position.text() == "Lesson 2 of 16"
    qtbot.keyClick(lessons.list, Qt.Key.Key_Right)
    assert lessons.current.number == 3
    assert lessons.list.currentRow() == 2
    qtbot.keyClick(lessons.text, Qt.Key.Key_Left)
    assert lessons.current.number == 2
    qtbot.keyClick(lessons.list, Qt.Key.Key_Down)  # the list's own arrows pick lessons too
    assert lessons.current.number == 3
    qtbot.mouseClick(lessons.prev_button, Qt.MouseButton.LeftButton)
    assert lessons.current.number == 2
    # Typing in the search box moves its cursor, not the lesson.
    lessons.search.setText("ab")
    qtbot.keyClick(lessons.search, Qt.Key.Key_Left)
    assert lessons.current.number == 2 and lessons.search.cursorPosition() == 1
    lessons.search.clear()
    lessons.open_lesson(16)
    assert not lessons.next_button.isEnabled() and not lessons.next_lesson()


def test_page_down_scrolls_a_long_lesson_then_turns_the_page(lab, qtbot):
    tabs, lessons, _, _ = lab
    tabs.resize(900, 520)
    lessons.open_lesson("transfer")
    bar = lessons.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)
    positions = []
    for _ in range(40):
        if lessons.current.id != "transfer":
            break
        positions.append(bar.value())
        qtbot.keyClick(lessons.scroll.viewport(), Qt.Key.Key_PageDown)
    assert lessons.current.id == "forgetting"
    assert positions[0] == 0 and len(positions) >= 3
    assert all(a < b for a, b in zip(positions, positions[1:]))  # each press scrolled on
    assert bar.value() == 0  # the next lesson starts at its top
    qtbot.keyClick(lessons.scroll.viewport(), Qt.Key.Key_PageUp)
    assert lessons.current.id == "transfer"


def test_search_filters_the_list_and_marks_the_words(lab, qtbot):
    _, lessons, _, _ = lab
    qtbot.keyClicks(lessons.search, "cosine")
    assert lessons.matching_lessons() == ["embeddings", "rag"]
    assert lessons.current.id == "embeddings"  # lesson 1 has no such word
    assert lessons.text.marked_count() >= 3
    selections = lessons.text.extraSelections()
    assert {sel.cursor.selectedText().lower() for sel in selections} == {"cosine"}
    assert lessons.search_note.text() == "2 lessons match"
    lessons.open_lesson("rag")
    assert lessons.text.marked_count() >= 1
    lessons.search.setText("cosine zebra")
    assert lessons.matching_lessons() == []
    assert lessons.search_note.text() == "No lesson has all of these words."
    lessons.search.clear()
    assert len(lessons.matching_lessons()) == 16 and lessons.text.marked_count() == 0


# -- questions and progress ----------------------------------------------------------------------
def test_each_question_reveals_its_explanation_only_after_an_answer(lab, qtbot):
    _, lessons, _, _ = lab
    box = lessons.question
    for lesson in LESSONS:
        lessons.open_lesson(lesson.id)
        q = lesson.question
        assert box.prompt.text() == q.prompt
        assert box.explanation.text() == "" and box.explanation.isHidden()
        assert box.verdict.isHidden() and not box.revealed
        if isinstance(q, ChoiceQuestion):
            shown = [box.choice_text(i) for i in range(len(box.choice_buttons))]
            assert shown == list(q.choices)
            assert [b.accessibleName() for b in box.choice_buttons] == list(q.choices)
            assert not box.check_button.isEnabled()  # nothing chosen yet
            assert box.check() is None and box.explanation.text() == ""
            wrong = (q.answer + 1) % len(q.choices)
            box.choose(wrong)
            assert box.check_button.isEnabled()
            qtbot.mouseClick(box.check_button, Qt.MouseButton.LeftButton)
            assert box.verdict.text().count("Not quite") == 1
            assert box.choice_text(q.answer).startswith("✓ ")
            assert box.choice_text(wrong).startswith("✗ ")
            assert not any(b.isEnabled() for b in box.choice_buttons)
        else:
            assert isinstance(q, SliderQuestion)
            box.slider.setValue(q.answer)
            qtbot.mouseClick(box.check_button, Qt.MouseButton.LeftButton)
            assert "Good guess" in box.verdict.text()
            assert not box.slider.isEnabled()
        assert box.revealed and box.explanation.text() == q.explanation
        assert box.explanation.isVisible()
        # Try again hides the answer and opens the choices.
        qtbot.mouseClick(box.again_button, Qt.MouseButton.LeftButton)
        assert box.explanation.text() == "" and not box.revealed
        if isinstance(q, ChoiceQuestion):
            box.choose(q.answer)
            assert box.check() is True
            assert "Right!" in box.verdict.text()


def test_progress_and_last_lesson_survive_a_restart(qtbot, settings_file):
    first = LessonsTab(settings=make_settings(settings_file))
    qtbot.addWidget(first)
    assert first.first_start and first.current.id == "what-is-ml"
    first.open_lesson("overfitting")
    first.question.choose(first.current.question.answer)
    first.question.check()
    first.open_lesson("tokens")
    first.list.item(2).setCheckState(Qt.CheckState.Checked)  # ticked by hand
    assert first.progress_label.text() == "2 of 16 done"
    first.shutdown()

    again = LessonsTab(settings=make_settings(settings_file))
    qtbot.addWidget(again)
    assert not again.first_start
    assert again.current.id == "tokens" and again.list.currentRow() == 14
    ticked = [
        again.list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(again.list.count())
        if again.list.item(i).checkState() == Qt.CheckState.Checked
    ]
    assert ticked == ["gradients", "overfitting"]
    assert again.progress_label.text() == "2 of 16 done"
    again.clear_progress()
    again.shutdown()
    third = LessonsTab(settings=make_settings(settings_file))
    qtbot.addWidget(third)
    assert third.progress.done == set() and third.progress_label.text() == "0 of 16 done"
    third.shutdown()


def test_a_damaged_settings_file_starts_fresh(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text("[lessons]\nlast=no-such-lesson\ndone=nonsense, loss\n", encoding="utf-8")
    tab = LessonsTab(settings=make_settings(str(path)))
    qtbot.addWidget(tab)
    assert tab.current.id == "what-is-ml" and tab.progress.done == {"loss"}
    tab.shutdown()


# -- Try its -------------------------------------------------------------------------------------
def _run(lessons: LessonsTab, lesson_id: str, index: int = 0):
    lessons.open_lesson(lesson_id)
    try_it = lessons.available_try_its(find_lesson(lesson_id))[index]
    buttons = lessons.try_it_buttons
    assert len(buttons) == len(lessons.available_try_its(find_lesson(lesson_id)))
    buttons[index].click()
    return try_it, lessons.last_outcome


def test_learning_rate_try_it_sets_the_form_and_points_at_starter_images_first(lab, qtbot):
    tabs, lessons, classifier, _ = lab
    try_it, outcome = _run(lessons, "gradients")
    assert tabs.currentWidget() is classifier
    form = classifier.form
    assert form.mode_buttons["head"].isChecked()
    assert form.learning_rate.text() == "10" and form.epochs.value() == 5
    assert form.settings().learning_rate == 10.0
    # No pictures yet: the student is sent to Starter images…, with the plan in words.
    assert outcome.control is classifier.data.starter_button
    assert "Starter images" in outcome.hint and "learning rate is now 10" in outcome.hint
    assert lessons.highlight.active
    frame = frame_rect(lessons)
    button = classifier.data.starter_button
    top_left = button.mapTo(button.window(), QPoint(0, 0))
    assert frame.contains(QRect(top_left, button.size()))
    qtbot.waitUntil(lambda: not lessons.highlight.active, timeout=2000)
    assert lessons.highlight._frame is None


def test_training_try_its_with_images_point_at_train(lab, qtbot, tmp_path):
    tabs, lessons, classifier, _ = lab
    make_dataset(classifier.workspace.root, per_class=3, size=32)
    classifier.data.refresh()
    _, outcome = _run(lessons, "classifier")
    assert outcome.control is classifier.train_button and classifier.train_button.isEnabled()
    assert classifier.form.epochs.value() == 3 and classifier.form.mode() == "head"
    _, outcome = _run(lessons, "overfitting")
    settings = classifier.form.settings()
    assert (settings.mode, settings.epochs, settings.augment) == ("scratch", 40, False)
    assert outcome.control is classifier.train_button
    _, outcome = _run(lessons, "gradients", 1)
    assert classifier.form.learning_rate.text() == "0.00001"
    assert outcome.control is classifier.form.learning_rate
    _, outcome = _run(lessons, "transfer")
    assert outcome.control is classifier.compare_button
    # Only this lesson's buttons are on the page: the last lesson's are gone.
    shown = [b for b in lessons.try_it_box.findChildren(QPushButton) if not b.isHidden()]
    assert shown == lessons.try_it_buttons and len(shown) == 1
    _, outcome = _run(lessons, "forgetting")  # the Labs Try it is left out here
    assert classifier.form.mode() == "finetune"
    assert outcome.control is classifier.form.mode_buttons["finetune"]
    assert not classifier.runner.running  # a Try it sets things up; the student presses Train
    qtbot.waitUntil(lambda: not lessons.highlight.active, timeout=2000)


def test_curves_try_it_shows_validation_loss_per_epoch(lab, qtbot):
    tabs, lessons, _, curves = lab
    curves.metric_box.setCurrentIndex(0)
    _, outcome = _run(lessons, "overfitting", 1)
    assert tabs.currentWidget() is curves
    assert curves.metric_box.currentData() == "val_loss"
    assert curves.x_axis_box.currentData() == "epoch"
    assert outcome.control is curves.metric_box
    qtbot.waitUntil(lambda: not lessons.highlight.active, timeout=2000)


def test_try_its_whose_tab_is_missing_are_left_out(lab):
    _, lessons, _, _ = lab
    lessons.open_lesson("diffusion")  # no Diffusion tab in this window
    assert lessons.try_it_buttons == []
    note = lessons.try_it_box.findChildren(QWidget)
    assert any("Diffusion lab" in getattr(w, "text", lambda: "")() for w in note)
    lessons.open_lesson("forgetting")  # one of two: the Classifier one stays
    assert len(lessons.try_it_buttons) == 1
    assert "fine-tuning" in lessons.try_it_buttons[0].text()
    lone = LessonsTab(tabs=None, settings=make_settings(str(lessons.progress.settings.fileName())))
    lone.open_lesson("classifier")
    assert lone.try_it_buttons == [] and lone.run_try_it(LESSONS[3].try_its[0]) is None
    lone.shutdown()
    lone.deleteLater()


def test_speed_lesson_measures_this_computer(lab, qtbot):
    _, lessons, _, _ = lab
    with qtbot.waitSignal(lessons.speed.runner.finished, timeout=30000):
        lessons.open_lesson("hardware")
    panel = lessons.speed
    assert panel.isVisible() and panel.result is not None
    assert panel.result.inference_per_s > 0
    text = panel.numbers.text()
    assert "photos per second" in text and f"{panel.result.training_cost:.1f} ×" in text
    assert "Train a model in the Classifier tab" in panel.last_run.text()
    # A second visit shows the same numbers without measuring again.
    lessons.open_lesson("tokens")
    assert not panel.isVisible()
    lessons.open_lesson("hardware")
    assert not panel.runner.running and panel.numbers.text() == text


def test_speed_lesson_reads_the_last_training_run(lab, qtbot):
    _, lessons, classifier, _ = lab
    recorder = classifier.runs.start_run("head only · lr 0.001 · 3 epochs", "classifier", {})
    recorder.finish("finished", {"seconds": 12.5, "images": 300, "epochs": 3, "device": "CPU"})
    with qtbot.waitSignal(lessons.speed.runner.finished, timeout=30000):
        lessons.open_lesson(16)
    text = lessons.speed.last_run.text()
    assert "head only · lr 0.001 · 3 epochs" in text and "300 photos" in text and "12 s" in text


# -- the whole window ------------------------------------------------------------------------------
def test_smoke_every_lesson_and_every_try_it_in_the_window(qtbot, monkeypatch, tmp_path):
    """Opens each lesson and each Try it in the real window, then closes it with nothing left."""
    from lab.ui.app import _open_lesson
    from lab.ui.main_window import MainWindow

    try:  # the sentence model would load in the background; not needed to check presets
        from lab.ui.embeddings.text_model import TextModelHolder

        monkeypatch.setattr(TextModelHolder, "request", lambda self: None)
    except ImportError:
        pass
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    lessons = window.lessons
    lessons.highlight_ms = 30
    lessons.speed.measure_options = dict(TINY_SPEED)
    assert window.tabs.currentWidget() is lessons and window.tab_names()[0] == "Lessons"
    assert lessons.first_start
    shown = 0
    for lesson in LESSONS:
        assert _open_lesson(window, lesson.id)
        available = lessons.available_try_its(lesson)
        assert len(lessons.try_it_buttons) == len(available)
        for try_it, button in zip(available, lessons.try_it_buttons):
            window.tabs.setCurrentWidget(lessons)
            button.click()
            target_tab = next(
                window.tabs.widget(i)
                for i in range(window.tabs.count())
                if window.tabs.tabText(i) == try_it.tab
            )
            assert window.tabs.currentWidget() is target_tab, try_it.label
            for path, value in try_it.values:
                assert value_matches(resolve(target_tab, path), value), (try_it.label, path)
            control = lessons.last_outcome.control
            assert control.isVisible(), try_it.label  # its page was brought forward
            shown += 1
        if lesson.extra == "speed":
            qtbot.waitUntil(lambda: lessons.speed.result is not None, timeout=30000)
    assert shown >= 12
    assert not _open_lesson(window, "no-such-lesson")
    window.close()
    assert not lessons.highlight.active


def test_the_lesson_option_is_on_the_command_line():
    from lab.cli import _parser

    assert _parser().parse_args(["--lesson", "5"]).lesson == "5"
    assert _parser().parse_args([]).lesson is None
