"""Semantic search: rank a small set of passages by meaning, the retrieval step of RAG."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.core.embeddings.search import (
    DocumentSet,
    SearchHit,
    SearchIndex,
    build_index,
    folder_documents,
    glossary_documents,
    search,
)
from lab.ui.embeddings.common import heading, note
from lab.ui.embeddings.text_model import TextModelHolder
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

TOP_K = 5
FOLDER = "__folder__"


def index_task(load: Callable[[], DocumentSet], model, stop):
    yield {"kind": "stage", "stage": "reading"}
    docs = load()
    yield {"kind": "stage", "stage": "embedding", "total": len(docs.passages)}
    index = yield from build_index(docs, model, stop)
    return docs, index


def search_task(index: SearchIndex, model, question: str, stop):
    hits = search(index, model, question, TOP_K)
    return question, hits
    yield  # a generator, as the runner expects


class SearchPanel(QWidget):
    status_message = Signal(str)
    searched = Signal(object)  # list[SearchHit]

    def __init__(
        self,
        holder: TextModelHolder,
        sources: dict[str, Callable[[], DocumentSet]] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.holder = holder
        self.sources = dict(sources or {"ML Lab glossary": glossary_documents})
        self.index: SearchIndex | None = None
        self.index_key: str | None = None
        self.hits: list[SearchHit] = []
        self._want_search = False
        self.index_runner = TaskRunner(self)
        self.index_runner.progress.connect(self._on_index_progress)
        self.index_runner.result.connect(self._on_index)
        self.index_runner.error.connect(self._on_error)
        self.search_runner = TaskRunner(self)
        self.search_runner.result.connect(self._on_hits)
        self.search_runner.error.connect(self._on_error)
        holder.ready.connect(lambda _: self._prepare())
        holder.failed.connect(self._on_error)

        self.source_box = QComboBox()
        for name in self.sources:
            self.source_box.addItem(name, name)
        self.source_box.addItem("A folder of my .txt / .md files…", FOLDER)
        self.source_box.activated.connect(self._source_chosen)
        self.question = QLineEdit()
        self.question.setPlaceholderText(
            "Ask a question, e.g. how do I stop a model from overfitting?"
        )
        self.question.returnPressed.connect(self.run_search)
        self.search_button = QPushButton("Search")
        self.search_button.setObjectName("primary")
        self.search_button.clicked.connect(self.run_search)
        self.status = note()
        self.notice = Notice()
        self.results = QTextBrowser()
        self.results.setOpenLinks(False)
        docs_row = QHBoxLayout()
        docs_label = QLabel("Documents")
        docs_label.setBuddy(self.source_box)
        docs_row.addWidget(docs_label)
        docs_row.addWidget(self.source_box, 1)
        explain(
            self.source_box,
            "Documents to search",
            "The texts to search: ML Lab's lessons, or a folder of your own .txt and .md files.",
        )
        explain(
            self.question,
            "Question",
            "Ask in your own words; the search finds passages with the same meaning, even "
            "without the same words. Press Enter to search.",
        )
        explain(
            self.search_button, "Search", "Find the passages closest in meaning to your question."
        )
        explain(
            self.results,
            "Search results",
            "The passages that best match your question, best first, with how close each is.",
        )
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Semantic search"))
        layout.addWidget(
            note(
                "Your question and every passage become embeddings, and the passages closest "
                "in meaning come first, even when they share no words with the question. This "
                "is the retrieval step of RAG: a chatbot would be handed these passages to "
                "write its answer from."
            )
        )
        layout.addLayout(docs_row)
        layout.addLayout(ask_row)
        layout.addWidget(self.status)
        layout.addWidget(self.notice)
        layout.addWidget(self.results, 1)
        self.folder: Path | None = None

    # -- documents ------------------------------------------------------------------------
    def activate(self) -> None:
        self.holder.request()
        self._prepare()

    def _current_loader(self) -> tuple[str, Callable[[], DocumentSet]] | None:
        key = self.source_box.currentData()
        if key == FOLDER:
            if self.folder is None:
                return None
            folder = self.folder
            return f"folder:{folder}", lambda: folder_documents(folder)
        return key, self.sources[key]

    def use_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.source_box.setCurrentIndex(self.source_box.findData(FOLDER))
        self._prepare()

    def _source_chosen(self) -> None:
        if self.source_box.currentData() == FOLDER:
            folder = QFileDialog.getExistingDirectory(self, "Folder of .txt and .md files")
            if not folder:
                self.source_box.setCurrentIndex(0)
                return
            self.folder = Path(folder)
        self._prepare()

    def _prepare(self) -> None:
        """Embed the chosen document set unless it is already indexed."""
        current = self._current_loader()
        model = self.holder.model
        if current is None:
            return
        key, load = current
        if model is None:
            self.status.setText("Loading the word model (a few seconds)…")
            return
        if key == self.index_key and self.index is not None:
            return
        self.index, self.index_key = None, key
        self.status.setText("Reading the documents…")
        self.index_runner.start(lambda stop: index_task(load, model, stop))

    def _on_index_progress(self, ev: dict) -> None:
        if ev.get("kind") == "encode":
            self.status.setText(f"Embedding passages: {ev['done']} of {ev['total']}…")

    def _on_index(self, value) -> None:
        docs, index = value
        if index is None:
            return
        self.index = index
        skipped = ""
        if docs.skipped:
            skipped = " Skipped: " + "; ".join(f"{n} ({why})" for n, why in docs.skipped[:5])
        self.status.setText(f"{docs.name}: {len(index.passages)} passages ready.{skipped}")
        if self._want_search:
            self.run_search()

    # -- searching ------------------------------------------------------------------------
    def run_search(self) -> bool:
        question = self.question.text().strip()
        if not question:
            self.notice.show_message("Type a question or a few words first.", "info")
            return False
        self.notice.hide()
        model = self.holder.model
        if model is None or self.index is None:
            self._want_search = True
            self.activate()
            return False
        self._want_search = False
        index = self.index
        self.search_runner.start(lambda stop: search_task(index, model, question, stop))
        return True

    def _on_hits(self, value) -> None:
        question, hits = value
        self.hits = hits
        parts = [f"<p><b>Top {len(hits)} passages for</b> “{html.escape(question)}”</p>"]
        for rank, hit in enumerate(hits, 1):
            p = hit.passage
            bar = "█" * max(1, round(max(hit.score, 0.0) * 20))
            parts.append(
                f"<p><b>{rank}. {html.escape(p.title)}</b> "
                f"<span style='color:#555'>({html.escape(p.source)})</span><br>"
                f"<span style='color:#0072B2'>{bar}</span> cosine similarity "
                f"<b>{hit.score:.3f}</b><br>{html.escape(p.text)}</p>"
            )
        self.results.setHtml("\n".join(parts))
        self.searched.emit(hits)

    def _on_error(self, message: str) -> None:
        self.status.setText("")
        self.notice.show_message(message, "error")

    def shutdown(self) -> None:
        self.index_runner.shutdown()
        self.search_runner.shutdown()
