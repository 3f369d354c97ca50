"""The sentence model, loaded once in the background and shared by the Words and Search views."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from lab.core.embeddings.text_model import TextModel, load_text_model
from lab.ui.worker import TaskRunner


class TextModelHolder(QObject):
    """Loads the model on first request; says `ready` (or `failed`) once."""

    ready = Signal(object)  # TextModel
    failed = Signal(str)
    loading = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model: TextModel | None = None
        self.error = ""
        self.runner = TaskRunner(self)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)

    @property
    def busy(self) -> bool:
        return self.runner.running

    def request(self) -> None:
        """Start loading unless the model is there or on its way."""
        if self.model is not None or self.runner.running:
            return
        self.error = ""
        self.loading.emit()
        self.runner.start(lambda stop: load_text_model(stop))

    def _on_result(self, model: TextModel | None) -> None:
        if model is not None:
            self.model = model
            self.ready.emit(model)

    def _on_error(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

    def shutdown(self) -> None:
        self.runner.shutdown()
