"""The Labs tab, driven as a student would (offscreen, tiny settings)."""

from __future__ import annotations

import pytest
from conftest import make_dataset

from lab.core.labs.tokens import tokenize
from lab.core.training import run_to_end
from lab.core.workspace import Workspace
from lab.ui.labs import LabsTab


@pytest.fixture
def labs(qtbot, tmp_path):
    ws = Workspace(tmp_path / "ws")
    tab = LabsTab(ws)
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    yield tab
    tab.shutdown()


def test_landscape_a_large_learning_rate_diverges_and_says_so(labs):
    panel = labs.show_lab("landscape")
    panel.set_surface("bowl")
    panel.set_learning_rate(0.05)
    for _ in range(60):
        panel.step()
    assert not panel.descent.diverged and panel.losses[-1] < panel.losses[0] * 0.01
    assert "falls" in panel.verdict.text()
    panel.set_learning_rate(0.6)
    for _ in range(60):
        panel.step()
    assert panel.descent.diverged
    assert "too large" in panel.verdict.text()
    xs, ys = panel.loss_plot.data("loss")
    assert len(xs) == panel.descent.t + 1 and ys[-1] > 1e6
    panel.reset()
    assert panel.descent.t == 0 and panel.verdict.text() == ""


def test_landscape_play_steps_on_a_timer_and_pauses(labs, qtbot):
    panel = labs.show_lab("landscape")
    panel.set_learning_rate(0.05)
    panel.toggle_play()
    qtbot.waitUntil(lambda: panel.descent.t >= 3, timeout=3000)
    panel.toggle_play()
    t = panel.descent.t
    qtbot.wait(300)
    assert panel.descent.t == t and panel.play_button.text() == "Play"


def test_memorize_lab_shows_the_gap(labs, qtbot):
    panel = labs.show_lab("memorize")
    with qtbot.waitSignal(panel.runner.finished, timeout=300000):
        panel.train(steps=1200)
    r = panel.last
    assert r["true_train"] > 0.9 and r["shuffled_train"] > 0.85
    assert r["true_val"] - r["shuffled_val"] > 0.2
    xs, _ = panel.plot.data("shuffled labels: training")
    assert xs[-1] == 1200
    assert "memorized" in panel.result.text()


def test_gan_lab_fake_points_approach_a_drawn_shape(labs, qtbot):
    panel = labs.show_lab("gan")
    panel.draw_shape([(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0)])
    assert len(panel.target()) == 2000
    with qtbot.waitSignal(panel.runner.finished, timeout=300000):
        panel.train(steps=600)
    assert panel.last["distance"] < panel.first_distance * 0.6
    assert "Step 600" in panel.status.text()


def test_tokens_lab_shows_the_tokenizer_ids(labs):
    panel = labs.show_lab("tokens")
    panel.editor.setPlainText("Raccoons are unbelievably curious")
    ids = [t.id for t in panel.tokens]
    assert ids == [t.id for t in tokenize("Raccoons are unbelievably curious")]
    assert f"<b>{len(ids)}</b> tokens" in panel.counts.text()
    assert "##" in panel.view.toPlainText()


def test_vae_lab_decodes_where_the_cross_is(labs):
    panel = labs.show_lab("vae")
    assert panel.model is not None, panel.notice.label.text()
    a = panel.decode_at(-2.0, 0.0)
    b = panel.decode_at(2.0, 1.5)
    assert a.shape == (28, 28) and abs(a.astype(int) - b.astype(int)).mean() > 5


def test_vae_cross_moves_with_the_arrow_keys(labs, qtbot):
    from PySide6.QtCore import Qt

    panel = labs.show_lab("vae")
    panel.cross.setPos((0.0, 0.0))
    qtbot.keyClick(panel.map, Qt.Key.Key_Right)
    qtbot.keyClick(panel.map, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    x, y = panel.cross.pos()
    assert (round(x, 3), round(y, 3)) == (0.1, 0.5)


def test_clustering_lab_finds_the_two_made_up_classes(labs, qtbot, tmp_path):
    run_to_end(
        labs.panels["clustering"].workspace.import_tree(
            make_dataset(tmp_path / "src", per_class=10)
        )
    )
    panel = labs.show_lab("clustering")
    with qtbot.waitSignal(panel.runner.finished, timeout=300000):
        assert panel.run()
    assert panel.last.purity >= 0.9
    assert "Purity" in panel.result.text()


def test_labs_needing_images_say_so_when_there_are_none(labs):
    assert not labs.panels["clustering"].run()
    assert "two classes" in labs.panels["clustering"].notice.label.text()
    assert not labs.panels["forgetting"].run()
