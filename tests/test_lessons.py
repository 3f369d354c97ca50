"""The lesson content, headless: texts, pictures, questions, passages, speed measurement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.core.tasks import StopFlag
from lab.lessons import (
    IMAGE_DIR,
    LESSONS,
    ChoiceQuestion,
    SliderQuestion,
    find_lesson,
    lesson_passages,
    lesson_texts,
    search_lessons,
)
from lab.lessons.model import plain_text, split_sections
from lab.lessons.speed import measure_speed

KNOWN_TABS = {"Classifier", "Curves", "Embeddings", "Diffusion", "Labs"}


def test_sixteen_lessons_in_order_with_unique_ids():
    assert [lesson.number for lesson in LESSONS] == list(range(1, 17))
    ids = [lesson.id for lesson in LESSONS]
    assert len(set(ids)) == 16
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lesson_has_sections_pictures_a_question_and_a_try_it(lesson):
    sections = lesson.sections
    titled = [s for s in sections if s.heading]
    assert len(titled) >= 3, "short, titled sections"
    for section in titled:
        words = len(section.plain_text.split())
        assert 15 <= words <= 260, f"{section.heading!r} has {words} words"
    assert lesson.images, "at least one picture"
    for name in lesson.images:
        path = IMAGE_DIR / name
        assert path.is_file(), f"missing picture {name}"
        assert path.stat().st_size > 1000
    assert lesson.try_its
    for try_it in lesson.try_its:
        assert try_it.tab in KNOWN_TABS
        assert try_it.label and try_it.hint.endswith((".", "?", "!"))
    q = lesson.question
    assert q.prompt.endswith("?") and len(q.explanation) > 80
    if isinstance(q, ChoiceQuestion):
        assert 2 <= len(q.choices) <= 5 and 0 <= q.answer < len(q.choices)
        assert len(set(q.choices)) == len(q.choices)
    else:
        assert isinstance(q, SliderQuestion)
        assert q.minimum <= q.answer <= q.maximum and q.tolerance > 0


def test_the_questions_say_what_the_lessons_teach():
    # The numbers in questions and answers agree with the arithmetic they explain.
    loss = find_lesson("loss").question
    assert loss.choices[loss.answer] == "about 0.69"
    node = find_lesson("neural-networks").question
    assert node.choices[node.answer] == "0"  # ReLU(2 * 0.5 + 3 * -1 + 0.5) = ReLU(-1.5)
    cosine = find_lesson("embeddings").question
    assert cosine.choices[cosine.answer] == "1"
    assert find_lesson(4).question.is_right(95) and not find_lesson(4).question.is_right(60)


def test_every_picture_in_assets_is_used_by_a_lesson():
    used = {name for lesson in LESSONS for name in lesson.images}
    on_disk = {p.name for p in IMAGE_DIR.iterdir() if p.suffix in (".svg", ".png")}
    assert used == on_disk


def test_find_lesson_by_number_or_id():
    assert find_lesson(5).id == "overfitting"
    assert find_lesson("5").id == "overfitting"
    assert find_lesson(" Overfitting ").number == 5
    assert find_lesson("17") is None and find_lesson("nonsense") is None


def test_passages_are_plain_text_sections_of_every_lesson():
    passages = lesson_passages()
    assert {p.lesson_id for p in passages} == {lesson.id for lesson in LESSONS}
    lesson_id, title, text = passages[0]
    assert lesson_id == "what-is-ml" and title == "What machine learning is"
    for p in passages:
        assert p.text.strip()
        assert "**" not in p.text and "![" not in p.text and "](" not in p.text
    overfitting = [p.text for p in passages if p.lesson_id == "overfitting"]
    assert any(t.startswith("When the curves part\n") for t in overfitting)
    pairs = lesson_texts()
    assert len(pairs) == len(passages)
    assert pairs[0][0].startswith("1. What machine learning is")


def test_plain_text_and_sections():
    md = (
        "Intro **bold**.\n\n## First\n![A cat](cat.svg)\n- one\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    sections = split_sections(md)
    assert [s.heading for s in sections] == ["", "First"]
    assert sections[1].images == ["cat.svg"]
    assert plain_text(md).splitlines()[0] == "Intro bold."
    text = plain_text(sections[1].markdown)
    assert "(Picture: A cat)" in text and "one" in text and "1, 2" in text and "---" not in text


def test_search_finds_lessons_by_all_words():
    assert [lesson.id for lesson in search_lessons("cosine")] == ["embeddings", "rag"]
    # Lesson 14's question offers "catastrophic forgetting" as a (wrong) choice.
    found = [lesson.id for lesson in search_lessons("catastrophic FORGETTING")]
    assert found == ["forgetting", "gans-vaes"]
    assert [lesson.id for lesson in search_lessons("rehearsal frozen")] == ["forgetting"]
    assert search_lessons("cosine forgetting zebra") == []


def test_lessons_never_import_qt():
    for path in Path("lab/lessons").rglob("*.py"):
        assert "PySide6" not in path.read_text(encoding="utf-8"), path


def test_speed_measurement_gives_both_rates_and_stops():
    gen = measure_speed(image_size=32, batch_size=2, seconds=0.05, network="small_cnn")
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as done:
        result = done.value
    assert {e["what"] for e in events} == {"inference", "training"}
    assert result.inference_per_s > 0 and result.training_per_s > 0
    assert result.training_cost == pytest.approx(result.inference_per_s / result.training_per_s)
    assert result.seconds_for(100, 2) == pytest.approx(200 / result.training_per_s)
    stop = StopFlag()
    stop.request()
    gen = measure_speed(stop, image_size=32, batch_size=2, network="small_cnn")
    with pytest.raises(StopIteration) as stopped:
        next(gen)
    assert stopped.value.value is None
