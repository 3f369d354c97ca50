"""Reverse diffusion: generate a grid of samples, then step and scrub through the denoising.

Generating runs the sampler once in the background and keeps every step (TrajectoryCache);
stepping, playing and scrubbing only read that record and never call the model.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.diffusion.sampling import (
    ANY_CLASS,
    DEFAULT_DDIM_STEPS,
    DEFAULT_GUIDANCE,
    MAX_GUIDANCE,
    MAX_SAMPLES,
    NO_CLASS,
    SampleSettings,
    Trajectory,
    TrajectoryCache,
    sample_trajectory,
)
from lab.core.diffusion.weights import DiffusionModelError, ImageDenoiser, load_shipped
from lab.core.settings import SettingsError
from lab.ui.diffusion.pictures import ImageView, SampleGrid
from lab.ui.widgets.advanced import AdvancedSection
from lab.ui.widgets.help import explain as explain_widget
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

PLAY_MS = 40
PLAY_SECONDS = 5.0  # a whole trajectory plays in about this long, however many steps


def describe_model(model: ImageDenoiser) -> str:
    """One plain sentence about how a model was trained, from its record."""
    m = model.meta
    parts = [f"About this model: {model.config.image_size}×{model.config.image_size} pictures"]
    if m.get("steps_done") is not None:
        parts.append(f"trained {int(m['steps_done']):,} steps")
    data = str(m.get("data", ""))
    if "(" in data:  # the shipped record already says how many
        parts.append(f"on the {data}")
    elif m.get("images"):
        parts.append(f"on {int(m['images']):,} pictures ({data or 'unknown data'})")
    if m.get("seconds"):
        parts.append(f"in {float(m['seconds']) / 60:.0f} min")
    if m.get("final_loss") is not None:
        parts.append(f"final loss {float(m['final_loss']):.3f}")
    params = sum(p.numel() for p in model.diffusion.model.parameters())
    return ", ".join(parts) + f"; {params / 1e6:.2f} million weights."


class ReversePanel(QWidget):
    status_message = Signal(str)

    def __init__(self, model: ImageDenoiser | None = None, parent=None) -> None:
        super().__init__(parent)
        self.models: list[ImageDenoiser] = []
        self.cache = TrajectoryCache()
        self.trajectory: Trajectory | None = None
        self._pending: tuple[ImageDenoiser, SampleSettings] | None = None
        self._started = 0.0
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        self.runner.finished.connect(self._update_buttons)

        self.notice = Notice()
        self.model_box = QComboBox()
        self.model_box.setToolTip("Which trained model makes the pictures")
        self.samples = QSpinBox()
        self.samples.setRange(1, MAX_SAMPLES)
        self.samples.setValue(16)
        self.samples.setToolTip(f"How many pictures to make at once (1 to {MAX_SAMPLES})")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed and settings always give the same pictures")
        self.class_box = QComboBox()
        self.class_box.setToolTip("Which kind of picture to ask for")
        self.guidance = QSlider(Qt.Orientation.Horizontal)
        self.guidance.setRange(0, int(MAX_GUIDANCE * 4))
        self.guidance.setValue(int(DEFAULT_GUIDANCE * 4))
        self.guidance.setToolTip(
            "Classifier-free guidance: 0 follows the model's plain class-conditional guess; "
            "higher values push harder towards the class (clearer, less varied)"
        )
        self.guidance_label = QLabel()
        self.sampler = QComboBox()
        self.sampler.addItem("DDIM (fewer, larger steps)", "ddim")
        self.sampler.addItem("DDPM (every step, with fresh noise)", "ddpm")
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(DEFAULT_DDIM_STEPS)
        self.steps.setToolTip("DDIM steps: 25 to 50 are usually enough")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.setShortcut("Ctrl+G")
        self.generate_button.setToolTip("Make pictures from pure noise (Ctrl+G)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop generating")
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m steps")

        form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow("Samples", self.samples)
        form.addRow("Class", self.class_box)
        # Seed, guidance, sampler and steps fold away under "Advanced" in presentation mode.
        self.advanced = AdvancedSection("Advanced settings")
        advanced_form = QFormLayout()
        advanced_form.addRow("Seed", self.seed)
        g = QHBoxLayout()
        g.addWidget(self.guidance, 1)
        g.addWidget(self.guidance_label)
        advanced_form.addRow("Guidance", g)
        advanced_form.addRow("Sampler", self.sampler)
        advanced_form.addRow("Steps", self.steps)
        self.advanced.add_layout(advanced_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)

        heading = QLabel("Reverse diffusion: making pictures")
        heading.setObjectName("heading")
        heading.setWordWrap(True)  # fits the column at presentation sizes
        note = QLabel(
            "Start from pure noise. At each step the model predicts the noise ε in the picture, "
            "which gives a guess of the clean picture x₀, and the sampler takes a small step "
            "towards that guess."
        )
        note.setObjectName("note")
        note.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(heading)
        left.addWidget(note)
        left.addLayout(form)
        left.addWidget(self.advanced)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setObjectName("note")
        left.addWidget(self.info)
        left.addStretch(1)

        self.grid = SampleGrid()
        self.x_view = ImageView("x_t: the picture now", size=112)
        self.eps_view = ImageView("predicted noise ε", size=112)
        self.x0_view = ImageView("predicted clean x₀", size=112)
        self.x_view.setToolTip("The sample at this step: noise with a picture slowly appearing")
        self.eps_view.setToolTip("The noise the model thinks is in x_t (grey is 0)")
        self.x0_view.setToolTip("What x_t would be with all that noise taken out")
        self.sample_label = QLabel()
        self.sample_label.setObjectName("result")
        self.sample_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        detail = QHBoxLayout()
        for v in (self.x_view, self.eps_view, self.x0_view):
            detail.addWidget(v)
        explain = QLabel(
            "x₀ = (x_t − √(1 − ᾱ_t) · ε) / √ᾱ_t. Early on the guess x₀ is a blurry average "
            "of the class; each step commits to more detail. Click a sample in the grid to "
            "look at it here."
        )
        explain.setWordWrap(True)
        explain.setObjectName("note")
        right = QVBoxLayout()
        right.addWidget(self.sample_label)
        right.addLayout(detail)
        right.addWidget(explain)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        self.model_info.setObjectName("note")
        right.addWidget(self.model_info)
        right.addStretch(1)

        self.back_button = QPushButton("◀ Step")
        self.back_button.setToolTip("One step back (Left arrow on the scrubber)")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the denoising from noise to picture")
        self.forward_button = QPushButton("Step ▶")
        self.forward_button.setToolTip("One step forward (Right arrow on the scrubber)")
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setAccessibleName("Denoising step")
        self.scrubber.setToolTip("Drag to move through the denoising steps; nothing is recomputed")
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(160)
        transport = QHBoxLayout()
        for w in (self.back_button, self.play_button, self.forward_button):
            transport.addWidget(w)
        transport.addWidget(self.scrubber, 1)
        transport.addWidget(self.step_label)

        explain_widget(self.model_box, "Model")
        explain_widget(self.samples, "Number of samples")
        explain_widget(self.seed, "Seed")
        explain_widget(self.class_box, "Class to generate")
        explain_widget(self.guidance, "Guidance strength")
        explain_widget(
            self.sampler,
            "Sampler",
            "How the noise is taken away: DDIM takes fewer, larger steps; DDPM takes every step "
            "and adds a little fresh noise each time.",
        )
        explain_widget(self.steps, "Denoising steps")
        explain_widget(self.generate_button, "Generate")
        explain_widget(self.stop_button, "Stop generating")
        explain_widget(
            self.grid,
            "Generated samples",
            "The pictures made from noise. Click one, or use the arrow keys, to look at it "
            "closely on the right.",
            focus=True,
        )
        explain_widget(self.x_view, "Picture at this step")
        explain_widget(self.eps_view, "Predicted noise")
        explain_widget(self.x0_view, "Predicted clean picture")
        explain_widget(self.back_button, "Step back")
        explain_widget(self.play_button, "Play denoising")
        explain_widget(self.forward_button, "Step forward")
        explain_widget(self.scrubber, "Denoising step")

        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addWidget(self.grid, 3)
        top.addLayout(right, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top, 1)
        layout.addLayout(transport)

        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)

        self.generate_button.clicked.connect(self.generate)
        self.stop_button.clicked.connect(self.runner.stop)
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.guidance.valueChanged.connect(self._show_guidance)
        self.sampler.currentIndexChanged.connect(self._sampler_changed)
        self.scrubber.valueChanged.connect(self.show_frame)
        self.grid.sample_clicked.connect(lambda _: self.show_frame(self.scrubber.value()))
        self.back_button.clicked.connect(lambda: self.scrubber.setValue(self.scrubber.value() - 1))
        self.forward_button.clicked.connect(
            lambda: self.scrubber.setValue(self.scrubber.value() + 1)
        )
        self.play_button.clicked.connect(self.toggle_play)
        self._show_guidance()

        if model is None:
            try:
                model = load_shipped()
            except DiffusionModelError as exc:
                self.notice.show_message(str(exc), "warning")
        if model is not None:
            self.add_model(model)
        self._update_buttons()

    # -- models and settings -------------------------------------------------------------
    @property
    def model(self) -> ImageDenoiser | None:
        i = self.model_box.currentIndex()
        return self.models[i] if 0 <= i < len(self.models) else None

    def add_model(self, model: ImageDenoiser, select: bool = True) -> None:
        """Add (or replace, by name) a model others can pick."""
        for i, m in enumerate(self.models):
            if m.name == model.name:
                self.models[i] = model
                self.model_box.setItemText(i, model.name)
                if select:
                    self.model_box.setCurrentIndex(i)
                self._model_changed()
                return
        self.models.append(model)
        self.model_box.addItem(model.name)
        if select:
            self.model_box.setCurrentIndex(len(self.models) - 1)
        self._update_buttons()

    def _model_changed(self) -> None:
        model = self.model
        self.class_box.clear()
        if model is None:
            return
        self.class_box.addItem("Any (a mix of every class)", ANY_CLASS)
        for i, name in enumerate(model.classes):
            self.class_box.addItem(name, i)
        self.class_box.addItem("No class (unconditional)", NO_CLASS)
        self.steps.setMaximum(model.diffusion.timesteps)
        self.model_info.setText(describe_model(model))
        self._sampler_changed()
        self._update_buttons()

    def _sampler_changed(self) -> None:
        ddim = self.sampler.currentData() == "ddim"
        self.steps.setEnabled(ddim)
        if not ddim and self.model is not None:
            self.steps.setToolTip(f"DDPM takes all {self.model.diffusion.timesteps} steps")
        else:
            self.steps.setToolTip("DDIM steps: 25 to 50 are usually enough")

    def _show_guidance(self) -> None:
        self.guidance_label.setText(f"{self.guidance.value() / 4:.2f}")

    def settings(self) -> SampleSettings:
        return SampleSettings(
            n=self.samples.value(),
            seed=self.seed.value(),
            class_index=int(self.class_box.currentData() if self.class_box.count() else ANY_CLASS),
            guidance=self.guidance.value() / 4,
            sampler=self.sampler.currentData(),
            steps=self.steps.value(),
        )

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.generate_button.setEnabled(self.model is not None)
        self.stop_button.setEnabled(running)
        has = self.trajectory is not None
        for w in (self.scrubber, self.back_button, self.forward_button, self.play_button):
            w.setEnabled(has)
        if not running:
            self.progress.setValue(self.progress.maximum() if has else 0)

    # -- generating ----------------------------------------------------------------------
    def generate(self, settings: SampleSettings | None = None) -> bool:
        """Show the cached trajectory for these settings, or compute it in the background."""
        model = self.model
        if model is None:
            return False
        s = settings or self.settings()
        try:
            s.check(model.diffusion.timesteps, len(model.classes))
        except SettingsError as exc:
            self.notice.show_message(f"These settings cannot be used: {exc}.", "error")
            return False
        self.notice.hide()
        self._stop_playing()
        cached = self.cache.get(model.uid, s)
        if cached is not None:
            self.runner.cancel()
            self._show_trajectory(cached, from_cache=True)
            return True
        self._pending = (model, s)
        self._started = time.perf_counter()
        total = s.effective_steps(model.diffusion.timesteps)
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.status_message.emit(f"Generating {s.n} pictures with {total} steps…")
        self.runner.start(lambda stop: sample_trajectory(model, s, stop=stop))
        self._update_buttons()
        return True

    def _on_progress(self, ev: dict) -> None:
        if ev.get("kind") == "sample":
            self.progress.setValue(int(ev["done"]))

    def _on_result(self, traj: Trajectory | None) -> None:
        pending, self._pending = self._pending, None
        if traj is None:
            self.status_message.emit("Generating stopped.")
            return
        # A result for other settings than the ones now asked for is kept, but only shown
        # if it is still what the user wants.
        self.cache.put(traj)
        if pending is not None and self.model is not None and traj.model_uid == self.model.uid:
            self._show_trajectory(traj, from_cache=False)
        self.status_message.emit(f"Generated {traj.settings.n} pictures in {traj.seconds:.1f} s.")

    def _on_error(self, message: str) -> None:
        self.notice.show_message(message, "error")

    def _show_trajectory(self, traj: Trajectory, from_cache: bool) -> None:
        self.trajectory = traj
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, traj.frames - 1)
        self.scrubber.setValue(traj.frames - 1)
        self.scrubber.blockSignals(False)
        if self.grid.selected >= traj.settings.n:
            self.grid.set_selected(0)
        stride_note = ""
        if traj.frames - 1 < traj.total_steps:
            stride_note = f" One step in {traj.step_numbers[1]} is kept, to save memory."
        source = (
            "Shown from memory (computed before)."
            if from_cache
            else f"Computed in {traj.seconds:.1f} s."
        )
        self.info.setText(f"{source}{stride_note} Scrub, step or play: nothing is recomputed.")
        self._update_buttons()
        self.show_frame(self.scrubber.value())

    def class_name(self, label: int) -> str:
        model = self.model
        if model is None or label >= len(model.classes):
            return "no class"
        return model.classes[label]

    def show_frame(self, k: int) -> None:
        """Draw frame k of the current trajectory: the grid and the selected sample's three views."""
        traj = self.trajectory
        if traj is None:
            return
        k = max(0, min(k, traj.frames - 1))
        self.grid.set_images(traj.x[k])
        i = min(self.grid.selected, traj.settings.n - 1)
        self.x_view.set_array(traj.x[k, i])
        self.eps_view.set_array(traj.noise[k, i])
        self.x0_view.set_array(traj.x_start[k, i])
        last = k == traj.frames - 1
        t = traj.times[k]
        where = "finished" if last else f"t = {t}"
        self.step_label.setText(f"step {traj.step_numbers[k]} of {traj.total_steps} · {where}")
        self.sample_label.setText(
            f"Sample {i + 1}: asked for “{self.class_name(int(traj.labels[i]))}”"
        )

    # -- playing -------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.timer.isActive():
            self._stop_playing()
        elif self.trajectory is not None:
            if self.scrubber.value() >= self.scrubber.maximum():
                self.scrubber.setValue(0)
            self.timer.start()
            self.play_button.setText("Pause")

    def _stop_playing(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def _tick(self) -> None:
        traj = self.trajectory
        if traj is None:
            self._stop_playing()
            return
        step = max(1, round(traj.frames * PLAY_MS / 1000 / PLAY_SECONDS))
        k = min(self.scrubber.maximum(), self.scrubber.value() + step)
        self.scrubber.setValue(k)
        if k >= self.scrubber.maximum():
            self._stop_playing()

    def hideEvent(self, event) -> None:
        self._stop_playing()
        super().hideEvent(event)

    def shutdown(self) -> None:
        self._stop_playing()
        self.runner.shutdown()
