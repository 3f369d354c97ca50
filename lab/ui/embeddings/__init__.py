"""The Embeddings tab."""

from lab.ui.embeddings.tab import EmbeddingsTab

__all__ = ["EmbeddingsTab"]
