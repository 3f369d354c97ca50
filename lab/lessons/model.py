"""What a lesson is made of: text sections, Try its, and a predict-then-check question.

Everything here is plain data (no Qt), so the lesson texts can also be searched, tested and
used as documents elsewhere (for example semantic search in the Embeddings tab).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

TEXT_DIR = Path(__file__).resolve().parent / "text"
IMAGE_DIR = Path(__file__).resolve().parents[2] / "assets" / "lessons"

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]+\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)((?:(?!\n\n).)+?)(?<=\S)\1", re.DOTALL)


@dataclass(frozen=True)
class TryIt:
    """A button that opens a tab, sets some of its controls, and highlights the one to use.

    Paths are attribute names on the tab, dotted (``form.learning_rate``); a part may also be a
    key of a dict attribute (``form.mode_buttons.head``). ``values`` are applied in order, so a
    mode can be chosen before the settings that mode would otherwise reset. ``action`` names
    an extra step in the UI's preset registry (for example: check there are images to train
    on, and point at the Starter images button when there are none).
    """

    label: str
    tab: str
    highlight: str
    hint: str
    values: tuple[tuple[str, object], ...] = ()
    action: str = ""

    def paths(self) -> list[str]:
        return [self.highlight, *(path for path, _ in self.values)]


@dataclass(frozen=True)
class ChoiceQuestion:
    """Multiple choice: one right answer, explained after the student has committed."""

    prompt: str
    choices: tuple[str, ...]
    answer: int
    explanation: str

    def is_right(self, choice: int) -> bool:
        return choice == self.answer


@dataclass(frozen=True)
class SliderQuestion:
    """A guess on a scale; within `tolerance` of `answer` counts as a good guess."""

    prompt: str
    minimum: int
    maximum: int
    answer: int
    tolerance: int
    unit: str
    explanation: str
    start: int | None = None  # where the slider starts (the middle if None)

    def is_right(self, guess: int) -> bool:
        return abs(guess - self.answer) <= self.tolerance


Question = ChoiceQuestion | SliderQuestion


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the text before the first heading
    markdown: str

    @property
    def images(self) -> list[str]:
        return [src for _, src in _IMAGE.findall(self.markdown)]

    @property
    def plain_text(self) -> str:
        return plain_text(self.markdown)


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int
    title: str
    summary: str  # one line, shown under the title in the list's tooltip
    question: Question
    try_its: tuple[TryIt, ...] = ()
    extra: str = ""  # a live panel the page adds below the text ("speed": this machine's speed)
    text_file: str = ""

    @property
    def markdown(self) -> str:
        """The lesson's text as Markdown, from lab/lessons/text/."""
        return _read_text(self.text_file)

    @property
    def sections(self) -> list[Section]:
        return split_sections(self.markdown)

    @property
    def images(self) -> list[str]:
        return [src for s in self.sections for src in s.images]

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}"

    def searchable_text(self) -> str:
        q = self.question
        parts = [self.title, self.summary, plain_text(self.markdown), q.prompt, q.explanation]
        if isinstance(q, ChoiceQuestion):
            parts.extend(q.choices)
        parts.extend(t.label for t in self.try_its)
        return "\n".join(parts)

    def matches(self, query: str) -> bool:
        """True when every word of the query appears in the lesson (any case)."""
        words = query.lower().split()
        text = self.searchable_text().lower()
        return all(w in text for w in words)


@functools.cache
def _read_text(name: str) -> str:
    return (TEXT_DIR / name).read_text(encoding="utf-8")


class LessonPassage(NamedTuple):
    """One section of a lesson, as a document for search: (lesson id, title, text)."""

    lesson_id: str
    title: str
    text: str


def split_sections(markdown: str) -> list[Section]:
    """Split at level-2 headings ('## ...'); text before the first one is an untitled section."""
    sections: list[Section] = []
    heading, lines = "", []
    for line in markdown.splitlines():
        if line.startswith("## "):
            if "".join(lines).strip() or heading:
                sections.append(Section(heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    if "".join(lines).strip() or heading:
        sections.append(Section(heading, "\n".join(lines).strip()))
    return sections


def plain_text(markdown: str) -> str:
    """Markdown without its markup: images become their captions, links their words."""
    text = _IMAGE.sub(lambda m: f"(Picture: {m.group(1)})" if m.group(1) else "", markdown)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)", "", line)
        if re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line) and "-" in line:
            continue  # a table's divider row
        out.append(line.strip().strip("|").replace(" | ", ", "))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
