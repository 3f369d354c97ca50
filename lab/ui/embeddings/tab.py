"""The Embeddings tab: images and words as points, before vs after training, semantic search."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from lab.core import paths as lab_paths
from lab.core.classifier import Classifier
from lab.core.embeddings.image_embeddings import classifier_source
from lab.core.features import FeatureCache
from lab.core.workspace import Workspace
from lab.ui.embeddings.compare_panel import ComparePanel
from lab.ui.embeddings.images_panel import ImageMapPanel
from lab.ui.embeddings.search_panel import SearchPanel
from lab.ui.embeddings.text_model import TextModelHolder
from lab.ui.embeddings.words_panel import WordsPanel


class EmbeddingsTab(QWidget):
    """Four views sharing the image collection, the trained classifier and the word model."""

    title = "Embeddings"
    status_message = Signal(str)

    def __init__(
        self,
        workspace: Workspace | None = None,
        cache: FeatureCache | None = None,
        document_sources: dict | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace or Workspace(lab_paths.workspace_dir())
        self.cache = cache or FeatureCache(lab_paths.cache_dir() / "features")
        self.classifier: Classifier | None = None
        self.text_model = TextModelHolder(self)
        self.images = ImageMapPanel(self.workspace, self.cache)
        self.compare = ComparePanel(self.workspace, self.cache)
        self.words = WordsPanel(self.text_model)
        self.search = SearchPanel(self.text_model, document_sources or default_document_sources())
        self.views = QTabWidget()
        self.views.addTab(self.images, "Images")
        self.views.addTab(self.compare, "Before vs after")
        self.views.addTab(self.words, "Words")
        self.views.addTab(self.search, "Search")
        self.views.currentChanged.connect(self._view_changed)
        for panel in (self.images, self.compare, self.words, self.search):
            panel.status_message.connect(self.status_message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.views)

    @classmethod
    def beside(cls, classifier_tab) -> EmbeddingsTab:
        """A tab on the Classifier tab's images and feature cache."""
        return cls(classifier_tab.workspace, classifier_tab.cache)

    def set_trained(self, result) -> None:
        """Take a TrainResult (or a Classifier): its penultimate layer becomes a map source."""
        classifier = getattr(result, "classifier", result)
        if not isinstance(classifier, Classifier):
            return
        self.classifier = classifier
        source = classifier_source(classifier)
        self.images.set_trained_source(source)
        self.compare.set_trained_source(source)

    def _view_changed(self, index: int) -> None:
        view = self.views.widget(index)
        if view in (self.words, self.search):
            view.activate()  # loads the word model in the background on first use

    def shutdown(self) -> None:
        for panel in (self.images, self.compare, self.words, self.search):
            panel.shutdown()
        self.text_model.shutdown()


def default_document_sources() -> dict:
    """The lesson texts (when the lessons are installed) and ML Lab's own glossary."""
    from lab.core.embeddings.search import documents_from_texts, glossary_documents

    sources = {}
    try:
        from lab.lessons import lesson_texts
    except ImportError:  # a build without the lessons: the glossary alone
        lesson_texts = None
    if lesson_texts is not None:
        sources["ML Lab lessons"] = lambda: documents_from_texts("ML Lab lessons", lesson_texts())
    sources["ML Lab glossary"] = glossary_documents
    return sources
