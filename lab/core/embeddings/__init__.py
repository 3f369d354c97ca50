"""Embeddings: images and texts as vectors, projected to 2D maps, compared and searched.

- image_embeddings: pretrained or trained-classifier features of the dataset's images
- projection: PCA and t-SNE (stoppable generators), placing a new point, separation score
- neighbours: cosine nearest neighbours
- text_model: the offline sentence model (all-MiniLM-L6-v2)
- search: semantic search over a small document set (the retrieval step of RAG)
"""

from __future__ import annotations

from lab.core.embeddings.image_embeddings import (
    EmbeddingSource,
    ImageEmbedder,
    ImageEmbeddings,
    classifier_source,
    embed_images,
    pretrained_source,
)
from lab.core.embeddings.neighbours import cosine_similarities, nearest_neighbours
from lab.core.embeddings.projection import (
    PCA,
    Layout,
    ProjectionError,
    TSNESettings,
    pca_layout,
    place_new_point,
    project,
    separation_score,
    tsne_layout,
)

__all__ = [
    "PCA",
    "EmbeddingSource",
    "ImageEmbedder",
    "ImageEmbeddings",
    "Layout",
    "ProjectionError",
    "TSNESettings",
    "classifier_source",
    "cosine_similarities",
    "embed_images",
    "nearest_neighbours",
    "pca_layout",
    "place_new_point",
    "pretrained_source",
    "project",
    "separation_score",
    "tsne_layout",
]
