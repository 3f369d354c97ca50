"""Words as points: the sentence model's embeddings of a word list, mapped and compared."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.core.embeddings.neighbours import nearest_neighbours
from lab.core.embeddings.projection import TSNESettings, project
from lab.core.embeddings.text_model import STARTER_WORDS, TextModel
from lab.ui.embeddings.common import ScoredList, heading, note
from lab.ui.embeddings.scatter import ScatterMap
from lab.ui.embeddings.text_model import TextModelHolder
from lab.ui.widgets.column import ScrollColumn
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

MAX_WORD_CHARS = 60
MAX_WORDS = 300


def words_task(model: TextModel, words: list[str], method: str, stop):
    vectors = yield from model.encode_chunks(words, stop)
    if vectors is None:
        return None
    # Few points: a perplexity of a third of them keeps t-SNE well defined.
    tsne = TSNESettings(perplexity=max(2.0, min(10.0, (len(words) - 1) / 3)), iterations=500)
    if len(words) < 5:
        method = "pca"  # t-SNE needs a few more points
    layout = yield from project(vectors, method, tsne, stop)
    return words, vectors, layout


class WordsPanel(QWidget):
    status_message = Signal(str)
    mapped = Signal()

    def __init__(self, holder: TextModelHolder, parent=None) -> None:
        super().__init__(parent)
        self.holder = holder
        self.words: list[str] = list(STARTER_WORDS)
        self.vectors: np.ndarray | None = None
        self.mapped_words: list[str] = []
        self.runner = TaskRunner(self)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        holder.ready.connect(lambda _: self.refresh())
        holder.failed.connect(lambda m: self.notice.show_message(m, "error"))

        self.word_list = QListWidget()
        self.word_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.word_list.currentRowChanged.connect(self._on_list_row)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("a word or a short phrase")
        self.entry.setMaxLength(MAX_WORD_CHARS)
        self.entry.returnPressed.connect(self._add_from_entry)
        add = QPushButton("Add")
        add.setToolTip("Add this word to the map (Enter)")
        add.clicked.connect(self._add_from_entry)
        remove = QPushButton("Remove selected")
        remove.clicked.connect(self._remove_selected)
        reset = QPushButton("Starter words")
        reset.setToolTip("Go back to the starter list")
        reset.clicked.connect(lambda: self.set_words(list(STARTER_WORDS)))
        self.method_box = QComboBox()
        self.method_box.addItem("PCA", "pca")
        self.method_box.addItem("t-SNE", "tsne")
        self.method_box.currentIndexChanged.connect(lambda _: self.refresh())
        self.model_status = note()
        self.notice = Notice()
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.entry, 1)
        entry_row.addWidget(add)
        buttons = QHBoxLayout()
        buttons.addWidget(remove)
        buttons.addWidget(reset)
        method_row = QHBoxLayout()
        map_label = note("Map")
        map_label.setBuddy(self.method_box)
        method_row.addWidget(map_label)
        method_row.addWidget(self.method_box, 1)

        explain(
            self.word_list,
            "Words on the map",
            "The words placed on the map. Pick one to rank the others by how close in meaning "
            "they are.",
        )
        explain(
            self.entry, "New word", "Type a word or a short phrase, then press Enter to add it."
        )
        explain(add, "Add word")
        explain(remove, "Remove selected words", "Take the selected words off the map.")
        explain(reset, "Starter words")
        explain(
            self.method_box,
            "Map method",
            "How each word's 384 numbers are squeezed onto a flat map: PCA or t-SNE.",
        )

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(heading("Words as points"))
        lv.addWidget(
            note(
                "A sentence model (all-MiniLM-L6-v2, running on this computer) turns each word "
                "into 384 numbers. Words with related meanings land close together."
            )
        )
        lv.addWidget(self.word_list, 1)
        lv.addLayout(entry_row)
        lv.addLayout(buttons)
        lv.addLayout(method_row)
        lv.addWidget(self.model_status)
        lv.addWidget(self.notice)

        self.map = ScatterMap(empty_text="The words appear here once the word model has loaded.")
        self.map.clicked.connect(self.show_neighbours)
        self.neighbours_title = heading("Nearest words")
        self.neighbours = ScoredList(0)
        explain(
            self.map,
            "Word map",
            "Each word as a point: words with related meanings land close together. Click one "
            "(or walk with the arrow keys and press Enter) to list its nearest words.",
        )
        explain(
            self.neighbours,
            "Nearest words",
            "The other words ranked by cosine similarity to the one you picked.",
        )
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.neighbours_title)
        rv.addWidget(
            note(
                "Click a word (on the map or in the list) to rank the others by cosine similarity."
            )
        )
        rv.addWidget(self.neighbours, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        # Side columns scroll rather than squeeze at presentation sizes.
        splitter.addWidget(ScrollColumn(left, chars=26, max_chars=36))
        splitter.addWidget(self.map)
        splitter.addWidget(ScrollColumn(right, chars=22, max_chars=30))
        splitter.setCollapsible(0, False)
        splitter.setCollapsible(2, False)
        splitter.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._fill_list()
        self._show_model_state()

    # -- the word list --------------------------------------------------------------------
    def set_words(self, words: list[str]) -> None:
        self.words = words
        self._fill_list()
        self.refresh()

    def add_word(self, text: str) -> bool:
        word = " ".join(text.split())
        if not word:
            return False
        if any(w.lower() == word.lower() for w in self.words):
            self.notice.show_message(f"'{word}' is already on the map.", "info")
            return False
        if len(self.words) >= MAX_WORDS:
            self.notice.show_message(f"The map holds at most {MAX_WORDS} words.", "warning")
            return False
        self.notice.hide()
        self.words.append(word)
        self._fill_list()
        self.refresh()
        return True

    def remove_words(self, words: list[str]) -> None:
        self.words = [w for w in self.words if w not in words]
        self._fill_list()
        self.refresh()

    def _add_from_entry(self) -> None:
        if self.add_word(self.entry.text()):
            self.entry.clear()

    def _remove_selected(self) -> None:
        self.remove_words([item.text() for item in self.word_list.selectedItems()])

    def _fill_list(self) -> None:
        self.word_list.blockSignals(True)
        self.word_list.clear()
        self.word_list.addItems(self.words)
        self.word_list.blockSignals(False)

    # -- computing ------------------------------------------------------------------------
    def activate(self) -> None:
        """The view was opened: load the model if needed (in the background)."""
        self.holder.request()
        self._show_model_state()
        if self.holder.model is not None and self.mapped_words != self.words:
            self.refresh()

    def refresh(self) -> None:
        model = self.holder.model
        if model is None:
            self._show_model_state()
            return
        self._show_model_state()
        if len(self.words) < 2:
            self.map.clear_map()
            self.notice.show_message("Add at least two words to draw a map.", "info")
            return
        words, method = list(self.words), self.method_box.currentData()
        self.runner.start(lambda stop: words_task(model, words, method, stop))

    def _on_result(self, value) -> None:
        if value is None:
            return
        words, vectors, layout = value
        if words != self.words:
            return  # the list changed meanwhile; its own task is on its way
        self.mapped_words, self.vectors = words, vectors
        self.map.set_groups(np.zeros(len(words), dtype=int), ["word"])
        self.map.set_positions(layout.xy)
        self.map.set_axes(
            ("principal component 1", "principal component 2") if layout.pca else None
        )
        self.map.set_labels(words)
        self.map.legend.clear()
        self.mapped.emit()

    def _show_model_state(self) -> None:
        if self.holder.model is not None:
            self.model_status.setText("Word model ready.")
        elif self.holder.error:
            self.model_status.setText("The word model could not be loaded.")
        elif self.holder.busy:
            self.model_status.setText("Loading the word model (a few seconds)…")
        else:
            self.model_status.setText("The word model loads when you open this view.")

    # -- neighbours -----------------------------------------------------------------------
    def _on_list_row(self, row: int) -> None:
        if 0 <= row < len(self.words) and self.words[row] in self.mapped_words:
            self.show_neighbours(self.mapped_words.index(self.words[row]))

    def neighbours_of(self, word: str, k: int | None = None) -> list[tuple[str, float]]:
        if self.vectors is None or word not in self.mapped_words:
            return []
        i = self.mapped_words.index(word)
        k = k or len(self.mapped_words) - 1
        idx, scores = nearest_neighbours(self.vectors[i], self.vectors, k, exclude=i)
        return [(self.mapped_words[j], float(s)) for j, s in zip(idx, scores)]

    def show_neighbours(self, i: int) -> None:
        if not 0 <= i < len(self.mapped_words):
            return
        word = self.mapped_words[i]
        ranked = self.neighbours_of(word)
        self.neighbours_title.setText(f"Nearest words to “{word}”")
        self.neighbours.show_items([(w, s, None) for w, s in ranked])
        self.map.set_highlight([i])

    def shutdown(self) -> None:
        self.runner.shutdown()
