"""'Predict, then check': commit to an answer first, then see whether it was right, and why."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from lab.lessons import ChoiceQuestion, Question, SliderQuestion
from lab.ui.widgets.help import explain

RIGHT_COLOR = "#006e52"  # a darker Okabe–Ito green, for contrast on white
WRONG_COLOR = "#a34700"  # a darker vermillion
RIGHT_MARK, WRONG_MARK = "✓ ", "✗ "


class AnswerRadio(QRadioButton):
    """The round button of one answer; its text is drawn by an AnswerLabel, which can wrap.

    As tall as one line of the answer's text, so the circle sits beside the first line.
    """

    def __init__(self, label: QLabel, parent=None) -> None:
        super().__init__(parent)
        self._label = label
        label.installEventFilter(self)

    def eventFilter(self, watched, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.Polish):
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def sizeHint(self):  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        hint.setHeight(max(hint.height(), self._label.fontMetrics().height()))
        return hint

    def minimumSizeHint(self):  # noqa: N802 (Qt's name)
        return self.sizeHint()


class AnswerLabel(QLabel):
    """One answer's text, word-wrapped; a click on it picks its radio button (the buddy)."""

    def __init__(self, text: str, parent=None) -> None:
        super().__init__(text.replace("&", "&&"), parent)  # "&" is a mnemonic in a buddy label
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def answer_text(self) -> str:
        return self.text().replace("&&", "&")

    def set_answer_text(self, text: str) -> None:
        self.setText(text.replace("&", "&&"))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        radio = self.buddy()
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside and radio is not None:
            if radio.isEnabled():
                radio.setFocus(Qt.FocusReason.MouseFocusReason)
                radio.click()
        super().mouseReleaseEvent(event)


class QuestionBox(QFrame):
    """Shows one question; `answered(right)` fires when the student commits."""

    answered = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("questionBox")
        self.question: Question | None = None
        self.revealed = False
        self.heading = QLabel("Predict, then check")
        self.heading.setObjectName("questionHeading")
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choices_box = QWidget()
        self.choices_layout = QVBoxLayout(self.choices_box)
        self.choices_layout.setContentsMargins(12, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.group.idClicked.connect(lambda _: self._update_button())
        self.choice_buttons: list[QRadioButton] = []
        self.choice_labels: list[AnswerLabel] = []  # each answer's text, beside its button

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Your guess")
        self.slider_label = QLabel()
        self.slider_label.setMinimumWidth(140)
        self.slider.valueChanged.connect(self._show_guess)
        self.slider_box = QWidget()
        slider_row = QHBoxLayout(self.slider_box)
        slider_row.setContentsMargins(12, 0, 0, 0)
        self.slider_min = QLabel()
        self.slider_max = QLabel()
        for w in (self.slider_min, self.slider):
            slider_row.addWidget(w, 1 if w is self.slider else 0)
        slider_row.addWidget(self.slider_max)
        slider_row.addWidget(self.slider_label)

        self.check_button = QPushButton("Check my answer")
        self.check_button.setObjectName("primary")
        self.check_button.setToolTip("Commit to your answer, then see the right one and why")
        self.check_button.clicked.connect(self.check)
        self.again_button = QPushButton("Try again")
        self.again_button.setToolTip("Hide the answer and choose again")
        self.again_button.clicked.connect(self.reset)
        explain(
            self.slider,
            "Your guess",
            "Move the slider (or use the arrow keys) to your guess, then press Check my answer.",
        )
        explain(self.check_button, "Check my answer")
        explain(self.again_button, "Try again")
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.heading)
        layout.addWidget(self.prompt)
        layout.addWidget(self.choices_box)
        layout.addWidget(self.slider_box)
        layout.addLayout(buttons)
        layout.addWidget(self.verdict)
        layout.addWidget(self.explanation)

    # -- showing a question ----------------------------------------------------------------
    def set_question(self, question: Question) -> None:
        self.question = question
        self.prompt.setText(question.prompt)
        for b in self.choice_buttons:
            self.group.removeButton(b)
        while self.choices_layout.count():
            row = self.choices_layout.takeAt(0).layout()
            while row is not None and row.count():
                widget = row.takeAt(0).widget()
                if widget is not None:
                    widget.hide()
                    widget.deleteLater()
            if row is not None:
                row.deleteLater()
        self.choice_buttons = []
        self.choice_labels = []
        is_choice = isinstance(question, ChoiceQuestion)
        self.choices_box.setVisible(is_choice)
        self.slider_box.setVisible(not is_choice)
        if isinstance(question, ChoiceQuestion):
            for i, text in enumerate(question.choices):
                # A radio button's own text cannot wrap: a long answer would make the whole
                # lesson wider than a projected window. The text is a wrapping label beside it.
                label = AnswerLabel(text, self.choices_box)
                button = AnswerRadio(label, self.choices_box)
                label.setBuddy(button)
                tip = f"Choose this answer: {text}"
                explain(button, text, tip)
                label.setToolTip(tip)
                self.group.addButton(button, i)
                row = QHBoxLayout()
                row.setSpacing(8)
                row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
                row.addWidget(label, 1)
                self.choices_layout.addLayout(row)
                self.choice_buttons.append(button)
                self.choice_labels.append(label)
        else:
            self.slider.setRange(question.minimum, question.maximum)
            self.slider_min.setText(f"{question.minimum}{question.unit}")
            self.slider_max.setText(f"{question.maximum}{question.unit}")
        self.reset()

    def reset(self) -> None:
        """Back to an unanswered question: choices open, answer hidden."""
        question = self.question
        self.revealed = False
        self.group.setExclusive(False)
        for b, label in zip(self.choice_buttons, self.choice_labels):
            b.setChecked(False)
            b.setEnabled(True)
            label.setEnabled(True)
            label.setStyleSheet("")
            text = label.answer_text().removeprefix(RIGHT_MARK).removeprefix(WRONG_MARK)
            label.set_answer_text(text)
            b.setAccessibleDescription(label.toolTip())
        self.group.setExclusive(True)
        if isinstance(question, SliderQuestion):
            start = question.start
            if start is None:
                start = (question.minimum + question.maximum) // 2
            self.slider.setValue(start)
            self._show_guess(start)
        self.slider.setEnabled(True)
        self.verdict.setText("")
        self.verdict.hide()
        self.explanation.setText("")  # the explanation is not even in the widget until then
        self.explanation.hide()
        self.again_button.hide()
        self.check_button.show()
        self._update_button()

    def _show_guess(self, value: int) -> None:
        unit = self.question.unit if isinstance(self.question, SliderQuestion) else ""
        self.slider_label.setText(f"Your guess: <b>{value}{unit}</b>")

    def _update_button(self) -> None:
        chosen = isinstance(self.question, SliderQuestion) or self.group.checkedId() >= 0
        self.check_button.setEnabled(chosen and not self.revealed)

    # -- committing --------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        """Pick a choice (as a click would)."""
        self.choice_buttons[index].click()

    def choice_text(self, index: int) -> str:
        """An answer as shown, with ✓ or ✗ in front once the answer is revealed."""
        return self.choice_labels[index].answer_text()

    def check(self) -> bool | None:
        """Commit the current answer and reveal the explanation; None if nothing is chosen."""
        q = self.question
        if q is None or self.revealed:
            return None
        if isinstance(q, ChoiceQuestion):
            picked = self.group.checkedId()
            if picked < 0:
                return None
            right = q.is_right(picked)
            for i, (b, label) in enumerate(zip(self.choice_buttons, self.choice_labels)):
                b.setEnabled(False)
                if i == q.answer:
                    label.set_answer_text(f"{RIGHT_MARK}{label.answer_text()}")
                    label.setStyleSheet(f"color:{RIGHT_COLOR}; font-weight:600;")
                    b.setAccessibleDescription("The right answer")
                elif i == picked:
                    label.set_answer_text(f"{WRONG_MARK}{label.answer_text()}")
                    label.setStyleSheet(f"color:{WRONG_COLOR};")
                    b.setAccessibleDescription("Your answer; not the right one")
            verdict = "Right!" if right else "Not quite."
        else:
            guess = self.slider.value()
            right = q.is_right(guess)
            self.slider.setEnabled(False)
            off = abs(guess - q.answer)
            verdict = (
                f"Good guess! You said {guess}{q.unit}; the answer is about {q.answer}{q.unit}."
                if right
                else f"You said {guess}{q.unit}; the answer is about {q.answer}{q.unit} "
                f"({off}{q.unit} away)."
            )
        self.revealed = True
        color = RIGHT_COLOR if right else WRONG_COLOR
        self.verdict.setText(f"<span style='color:{color}; font-weight:700'>{verdict}</span>")
        self.verdict.show()
        self.explanation.setText(q.explanation)
        self.explanation.show()
        self.check_button.hide()
        self.again_button.show()
        self.answered.emit(right)
        return right
