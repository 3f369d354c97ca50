"""The lessons: texts, their Try its and questions (plain data, no Qt).

- ``LESSONS``: the sixteen lessons in order; ``find_lesson("5")`` or ``find_lesson("overfitting")``
- ``lesson_passages()``: every lesson section as (lesson id, title, text), for search
- ``lesson_texts()``: the same as (title, text) pairs, as the Embeddings tab's search reads them
- ``search_lessons(query)``: the lessons whose text holds every word of the query
"""

from __future__ import annotations

from lab.lessons.catalog import LESSONS
from lab.lessons.model import (
    IMAGE_DIR,
    ChoiceQuestion,
    Lesson,
    LessonPassage,
    Question,
    Section,
    SliderQuestion,
    TryIt,
)


def find_lesson(key: str | int) -> Lesson | None:
    """A lesson by id ('overfitting') or number (5 or '5'); None if there is none."""
    text = str(key).strip().lower()
    for lesson in LESSONS:
        if text in (lesson.id, str(lesson.number)):
            return lesson
    return None


def lesson_passages() -> list[LessonPassage]:
    """Each titled section of each lesson as plain text: (lesson id, lesson title, text).

    The text starts with the section's heading, then its words without Markdown markup; a
    picture appears as its caption. Meant as a document set for semantic search.
    """
    out = []
    for lesson in LESSONS:
        for section in lesson.sections:
            body = section.plain_text
            text = f"{section.heading}\n{body}" if section.heading else body
            if text.strip():
                out.append(LessonPassage(lesson.id, lesson.title, text.strip()))
    return out


def lesson_texts() -> list[tuple[str, str]]:
    """Each lesson section as (title, text), the title naming lesson and section."""
    out = []
    for lesson in LESSONS:
        for section in lesson.sections:
            name = f"{lesson.heading}: {section.heading}" if section.heading else lesson.heading
            if section.plain_text.strip():
                out.append((name, section.plain_text))
    return out


def search_lessons(query: str) -> list[Lesson]:
    return [lesson for lesson in LESSONS if lesson.matches(query)]


__all__ = [
    "IMAGE_DIR",
    "LESSONS",
    "ChoiceQuestion",
    "Lesson",
    "LessonPassage",
    "Question",
    "Section",
    "SliderQuestion",
    "TryIt",
    "find_lesson",
    "lesson_passages",
    "lesson_texts",
    "search_lessons",
]
