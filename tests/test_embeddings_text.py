"""Words and sentences: the offline sentence model, word neighbours, semantic search, and the
Words and Search views. The real model is loaded once for the whole module (a few seconds)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from lab.core.embeddings.glossary import ENTRIES, GLOSSARY_NAME
from lab.core.embeddings.neighbours import nearest_neighbours
from lab.core.embeddings.search import (
    SearchError,
    build_index,
    documents_from_texts,
    folder_documents,
    glossary_documents,
    search,
    split_passages,
)
from lab.core.embeddings.text_model import STARTER_WORDS, TextModel, load_text_model


def run(gen):
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


@pytest.fixture(scope="module")
def model() -> TextModel:
    """Loaded with every network connection refused: it must never need the network."""
    real_connect = socket.socket.connect

    def refuse(self, *args, **kwargs):
        raise OSError("network disabled in this test")

    socket.socket.connect = refuse
    try:
        return run(load_text_model())
    finally:
        socket.socket.connect = real_connect


def test_the_model_loads_offline_and_gives_unit_384_vectors(model):
    vectors = model.encode(["cat", "a small furry animal", ""])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert model.encode([]).shape == (0, 384)


def test_word_neighbours_of_cat_put_kitten_before_truck(model):
    words = list(STARTER_WORDS)
    vectors = model.encode(words)
    idx, scores = nearest_neighbours(vectors[words.index("cat")], vectors, len(words) - 1, 0)
    ranked = [words[i] for i in idx]
    assert "cat" not in ranked
    assert ranked.index("kitten") < ranked.index("truck")
    assert ranked.index("feline") < ranked.index("banana")
    assert ranked[0] in ("kitten", "feline")


def test_semantic_search_ranks_a_planted_passage_first(model, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "garden.md").write_text(
        "# Garden notes\n\nThe tomatoes need water every morning in July.\n\n"
        "## Visitors\n\nEvery night a masked raccoon climbs the fence and eats the blueberries "
        "from the bushes by the shed.\n",
        encoding="utf-8",
    )
    (folder / "car.txt").write_text("The car's tyres were changed in October.", encoding="utf-8")
    (folder / "photo.txt").write_bytes(b"\x89PNG\x00\x00binary")
    docs = folder_documents(folder)
    assert [name for name, _ in docs.skipped] == ["photo.txt"]
    docs.passages.extend(glossary_documents().passages[:10])
    index = run(build_index(docs, model))
    hits = search(index, model, "Which animal steals fruit from my garden at night?", k=3)
    assert hits[0].passage.title == "garden: Visitors"
    assert hits[0].score > hits[1].score
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    rag = search(index, model, "retrieval augmented generation", k=1)[0]
    assert rag.passage.source == GLOSSARY_NAME and "Retrieval" in rag.passage.title


def test_search_refuses_an_empty_question(model):
    index = run(build_index(documents_from_texts("t", [("a", "Some text.")]), model))
    with pytest.raises(SearchError, match="Type a question"):
        search(index, model, "   ")


# -- documents, no model needed -----------------------------------------------------------
def test_passages_follow_headings_and_stay_short():
    long_para = " ".join(f"Sentence number {i} is here." for i in range(80))
    text = f"Intro line.\n\n# Part one\n\n{long_para}\n\n## Part two\n\n* a **bold** point\n"
    passages = split_passages(text, "doc", "doc.md", limit=300)
    titles = [p.title for p in passages]
    assert titles[0] == "doc" and passages[0].text == "Intro line."
    assert "doc: Part one" in titles and titles[-1] == "doc: Part two"
    assert passages[-1].text == "a bold point"
    assert all(len(p.text) <= 300 for p in passages)
    assert sum(t == "doc: Part one" for t in titles) > 3


def test_folder_documents_explain_problems(tmp_path):
    with pytest.raises(SearchError, match="not a folder"):
        folder_documents(tmp_path / "missing")
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    with pytest.raises(SearchError, match="No text found"):
        folder_documents(tmp_path)
    (tmp_path / "old.txt").write_bytes("café au lait".encode("latin-1"))
    docs = folder_documents(tmp_path)
    assert docs.passages[0].text == "café au lait"
    assert ("empty.md", "it has no text") in docs.skipped


def test_the_glossary_is_labelled_as_ml_labs_own():
    docs = glossary_documents()
    assert docs.name == "ML Lab glossary" and len(docs.passages) == len(ENTRIES) >= 25
    assert all(p.source == "ML Lab glossary" for p in docs.passages)


def test_the_lesson_texts_are_a_document_set():
    from lab.ui.embeddings.tab import default_document_sources

    sources = default_document_sources()
    assert list(sources) == ["ML Lab lessons", "ML Lab glossary"]
    lessons = sources["ML Lab lessons"]()
    assert len(lessons.passages) >= 20
    assert all(p.source == "ML Lab lessons" and p.text for p in lessons.passages)


# -- the Words and Search views -----------------------------------------------------------
@pytest.fixture
def tab(qtbot, tmp_path, model):
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace
    from lab.ui.embeddings import EmbeddingsTab

    t = EmbeddingsTab(Workspace(tmp_path / "ws"), FeatureCache(tmp_path / "cache"))
    t.text_model.model = model  # loaded once for the module; loading itself is tested above
    qtbot.addWidget(t)
    yield t
    t.shutdown()


def test_words_view_maps_words_and_lists_neighbours(tab, qtbot):
    words = tab.words
    with qtbot.waitSignal(words.mapped, timeout=20000):
        tab.views.setCurrentWidget(words)
    qtbot.waitUntil(lambda: not words.runner.running, timeout=5000)
    assert words.map.xy.shape == (len(STARTER_WORDS), 2)
    words.show_neighbours(words.mapped_words.index("cat"))
    listed = [t.split("  ·  ")[0] for t in words.neighbours.texts()]
    assert listed.index("kitten") < listed.index("truck")
    with qtbot.waitSignal(words.mapped, timeout=20000):
        assert words.add_word("  tabby   cat ")
    qtbot.waitUntil(lambda: not words.runner.running, timeout=5000)
    assert words.mapped_words[-1] == "tabby cat" and len(words.map.xy) == len(STARTER_WORDS) + 1
    assert not words.add_word("CAT")  # already there
    assert "already" in words.notice.text
    with qtbot.waitSignal(words.mapped, timeout=20000):
        words.remove_words(["truck", "car"])
    qtbot.waitUntil(lambda: not words.runner.running, timeout=5000)
    assert "truck" not in words.mapped_words and len(words.map.xy) == len(words.words)


def test_search_view_shows_top_passages_with_scores(tab, qtbot):
    panel = tab.search
    assert panel.source_box.currentData() == "ML Lab lessons"  # the lessons come first
    panel.source_box.setCurrentIndex(panel.source_box.findData("ML Lab glossary"))
    tab.views.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.index is not None, timeout=20000)
    panel.question.setText("How big should each training step be?")
    with qtbot.waitSignal(panel.searched, timeout=10000):
        assert panel.run_search()
    qtbot.waitUntil(lambda: not panel.search_runner.running, timeout=5000)
    assert len(panel.hits) == 5
    assert panel.hits[0].passage.title == "Learning rate"
    shown = panel.results.toPlainText()
    assert panel.hits[0].passage.title in shown and f"{panel.hits[0].score:.3f}" in shown
    assert "retrieval step of RAG" in " ".join(
        w.text() for w in panel.findChildren(type(panel.status))
    )
