"""Semantic search: rank passages by how close their meaning is to a question.

This is the retrieval step of retrieval-augmented generation (RAG). Documents come from a
source that lists passages: ML Lab's glossary, a folder of the user's .txt/.md files, or
any other callable that returns (title, text) pairs (for example, lesson texts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lab.core.dataset import DatasetError
from lab.core.embeddings.glossary import ENTRIES, GLOSSARY_NAME
from lab.core.embeddings.text_model import TextModel
from lab.core.tasks import StopFlag

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
MAX_FILES = 500
MAX_FILE_BYTES = 2_000_000
PASSAGE_CHARS = 700  # about 150 words: within the model's 256-token window


class SearchError(DatasetError):
    """The documents cannot be searched; the message says why (shown to the user as is)."""


@dataclass(frozen=True)
class Passage:
    title: str  # the entry, section or file it comes from
    text: str
    source: str  # the document set's or file's name, for the user


@dataclass
class DocumentSet:
    name: str
    passages: list[Passage]
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    score: float


DocumentSource = Callable[[], DocumentSet]


def glossary_documents() -> DocumentSet:
    return DocumentSet(
        GLOSSARY_NAME, [Passage(term, text, GLOSSARY_NAME) for term, text in ENTRIES]
    )


def documents_from_texts(name: str, texts: Iterable[tuple[str, str]]) -> DocumentSet:
    """A document set from (title, text) pairs, split into passages."""
    passages: list[Passage] = []
    for title, text in texts:
        passages.extend(split_passages(text, title, name))
    return DocumentSet(name, passages)


def folder_documents(folder: str | Path) -> DocumentSet:
    """Every .txt and .md file below a folder, split into passages; unusable files listed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SearchError(f"{folder} is not a folder.")
    files = sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES),
        key=lambda p: str(p).lower(),
    )
    skipped: list[tuple[str, str]] = []
    if len(files) > MAX_FILES:
        skipped.append((f"{len(files) - MAX_FILES} more files", f"only {MAX_FILES} are read"))
        files = files[:MAX_FILES]
    passages: list[Passage] = []
    for path in files:
        try:
            text = read_text_file(path)
        except SearchError as exc:
            skipped.append((path.name, str(exc)))
            continue
        found = split_passages(text, path.stem, path.name)
        if not found:
            skipped.append((path.name, "it has no text"))
        passages.extend(found)
    if not passages:
        raise SearchError(
            f"No text found in {folder.name}: put .txt or .md files in it (found {len(files)})."
        )
    return DocumentSet(folder.name, passages, skipped)


def read_text_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SearchError(f"it is too large ({size // 1_000_000} MB; at most 2 MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise SearchError(f"it cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in data[:4096]:
        raise SearchError("it is not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old Windows text: every byte is some character


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _plain(line: str) -> str:
    """Markdown emphasis, code marks and link syntax removed."""
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"[*_`]{1,3}", "", line)
    return re.sub(r"^\s*(?:[-+>]|\d+\.)\s+", "", line).strip()


def split_passages(text: str, title: str, source: str, limit: int = PASSAGE_CHARS) -> list[Passage]:
    """Paragraphs joined up to `limit` characters; a Markdown heading starts a new section."""
    sections: list[tuple[str, list[str]]] = [(title, [])]
    para: list[str] = []

    def end_paragraph() -> None:
        if para:
            sections[-1][1].append(" ".join(para))
            para.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading:
            end_paragraph()
            name = _plain(heading.group(1))
            sections.append((f"{title}: {name}" if name and name != title else title, []))
        elif not line.strip() or line.strip().startswith("```"):
            end_paragraph()
        else:
            plain = _plain(line)
            if plain:
                para.append(plain)
    end_paragraph()

    passages: list[Passage] = []
    for section_title, paragraphs in sections:
        chunk = ""
        for piece in _pieces(paragraphs, limit):
            if chunk and len(chunk) + 1 + len(piece) > limit:
                passages.append(Passage(section_title, chunk, source))
                chunk = piece
            else:
                chunk = f"{chunk} {piece}".strip()
        if chunk:
            passages.append(Passage(section_title, chunk, source))
    return passages


def _pieces(paragraphs: Sequence[str], limit: int) -> Iterable[str]:
    """Paragraphs, with an over-long one cut at sentence ends (or hard, as a last resort)."""
    for p in paragraphs:
        if len(p) <= limit:
            yield p
            continue
        piece = ""
        for sentence in _SENTENCE_END.split(p):
            while len(sentence) > limit:
                yield sentence[:limit]
                sentence = sentence[limit:]
            if piece and len(piece) + 1 + len(sentence) > limit:
                yield piece
                piece = sentence
            else:
                piece = f"{piece} {sentence}".strip()
        if piece:
            yield piece


@dataclass
class SearchIndex:
    """Passages and their unit-length embeddings."""

    name: str
    passages: list[Passage]
    vectors: np.ndarray

    def search(self, query_vector: np.ndarray, k: int = 5) -> list[SearchHit]:
        if not self.passages:
            return []
        scores = self.vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [SearchHit(self.passages[i], float(scores[i])) for i in order]


def build_index(
    documents: DocumentSet, model: TextModel, stop: StopFlag | None = None
) -> Generator[dict, None, SearchIndex | None]:
    """Embed every passage (the slow part, done once per document set)."""
    texts = [f"{p.title}. {p.text}" for p in documents.passages]
    vectors = yield from model.encode_chunks(texts, stop)
    if vectors is None:
        return None
    return SearchIndex(documents.name, list(documents.passages), vectors)


def search(index: SearchIndex, model: TextModel, question: str, k: int = 5) -> list[SearchHit]:
    question = question.strip()
    if not question:
        raise SearchError("Type a question or a few words to search for.")
    return index.search(model.encode([question])[0], k)
