"""Training runs kept on disk: settings, timing and metric series, comparable later.

A run is a folder runs/<id>/ holding run.json (what it was) and metrics.npz (the numbers),
both written atomically. The maths the Curves tab shows (smoothing, best epoch, where the
curves part) lives here too, as pure functions, so it is tested without Qt.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lab.core.files import atomic_write_bytes

# Every metric series stores these four columns.
COLUMNS = ("step", "epoch", "time", "value")
METRIC_TITLES = {
    "train_loss": "Training loss (each batch)",
    "val_loss": "Validation loss (each epoch)",
    "val_accuracy": "Validation accuracy (each epoch)",
    "train_accuracy": "Training accuracy (each epoch)",
}


class RunStoreError(Exception):
    """A run could not be read or written; the message says why."""


class Series:
    """A growing table of (step, epoch, time, value) rows, stored as numpy arrays."""

    def __init__(self, data: dict[str, np.ndarray] | None = None) -> None:
        self._n = 0
        self._cols = {c: np.zeros(64, dtype=np.float64) for c in COLUMNS}
        if data:
            n = len(data["value"])
            for c in COLUMNS:
                self._cols[c] = np.asarray(data[c], dtype=np.float64).copy()
            self._n = n

    def append(self, step: float, epoch: float, t: float, value: float) -> None:
        if self._n == len(self._cols["value"]):
            for c in COLUMNS:
                self._cols[c] = np.resize(self._cols[c], 2 * self._n)
        for c, v in zip(COLUMNS, (step, epoch, t, value)):
            self._cols[c][self._n] = v
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def column(self, name: str) -> np.ndarray:
        return self._cols[name][: self._n]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {c: self.column(c) for c in COLUMNS}


@dataclass
class RunRecord:
    id: str
    name: str
    kind: str = "classifier"
    settings: dict = field(default_factory=dict)
    started: str = ""
    device: str = ""
    duration_s: float = 0.0
    status: str = "running"  # running | finished | stopped | diverged | failed
    color: str = ""
    hidden: bool = False
    summary: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # e.g. {"kind": "diverged", "step": 12}
    metrics: dict[str, Series] = field(default_factory=dict, repr=False)

    @classmethod
    def new(cls, name: str, kind: str, settings: dict, device: str = "") -> RunRecord:
        now = _dt.datetime.now().astimezone()
        run_id = now.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        return cls(
            id=run_id,
            name=name,
            kind=kind,
            settings=dict(settings),
            started=now.isoformat(timespec="seconds"),
            device=device,
        )

    def series(self, metric: str) -> Series:
        if metric not in self.metrics:
            self.metrics[metric] = Series()
        return self.metrics[metric]

    def meta(self) -> dict:
        data = asdict(self)
        data.pop("metrics")
        return data


class RunRecorder:
    """Turns a training run's events into a RunRecord's series, as they arrive."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self._t0 = time.perf_counter()
        self._step = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def add(self, ev: dict) -> list[str]:
        """Record one event; returns the metric names it changed."""
        kind = ev.get("kind")
        t = self.elapsed()
        rec = self.record
        if kind == "start":
            rec.device = ev.get("device", rec.device)
            return []
        if kind == "step":
            self._step = ev["step"]
            rec.series("train_loss").append(ev["step"], ev["epoch"], t, ev["loss"])
            return ["train_loss"]
        if kind == "epoch":
            e = ev["epoch"]
            changed = []
            for name in ("val_loss", "val_accuracy", "train_accuracy"):
                if name in ev:
                    rec.series(name).append(self._step, e, t, ev[name])
                    changed.append(name)
            if "train_loss" in ev:  # the epoch's mean, for telling overfitting apart
                rec.series("train_loss_epoch").append(self._step, e, t, ev["train_loss"])
                changed.append("train_loss_epoch")
            return changed
        if kind in ("diverged", "early_stop"):
            rec.events.append({k: v for k, v in ev.items() if isinstance(v, (int, float, str))})
        return []

    def finish(self, status: str, summary: dict) -> RunRecord:
        self.record.duration_s = self.elapsed()
        self.record.status = status
        self.record.summary = {
            k: v for k, v in summary.items() if isinstance(v, (int, float, str, bool))
        }
        return self.record


class RunStore:
    """All runs in one folder. Each save is atomic; a damaged run is reported, not fatal."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.problems: list[str] = []

    def _dir(self, run_id: str) -> Path:
        return self.root / run_id

    def save(self, run: RunRecord) -> None:
        folder = self._dir(run.id)
        buf = io.BytesIO()
        arrays = {
            f"{metric}/{col}": series.column(col)
            for metric, series in run.metrics.items()
            for col in COLUMNS
        }
        np.savez(buf, **arrays)
        try:
            atomic_write_bytes(folder / "metrics.npz", buf.getvalue())
            atomic_write_bytes(folder / "run.json", json.dumps(run.meta(), indent=1).encode())
        except OSError as exc:  # a SaveError: the disk is full, or the folder is read-only
            raise RunStoreError(
                f"Could not save the run '{run.name}': {exc.strerror or exc}."
            ) from None

    def save_meta(self, run: RunRecord) -> None:
        try:
            atomic_write_bytes(
                self._dir(run.id) / "run.json", json.dumps(run.meta(), indent=1).encode()
            )
        except OSError as exc:  # a SaveError: the disk is full, or the folder is read-only
            raise RunStoreError(
                f"Could not save the run '{run.name}': {exc.strerror or exc}."
            ) from None

    def load(self, run_id: str) -> RunRecord:
        folder = self._dir(run_id)
        try:
            meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("run.json does not describe a run")
            with np.load(folder / "metrics.npz", allow_pickle=False) as npz:
                cols: dict[str, dict[str, np.ndarray]] = {}
                for key in npz.files:
                    metric, col = key.rsplit("/", 1)
                    cols.setdefault(metric, {})[col] = np.asarray(npz[key], dtype=np.float64)
            for metric, c in cols.items():
                if len({a.shape for a in c.values()}) > 1 or any(a.ndim != 1 for a in c.values()):
                    raise ValueError(f"the columns of {metric} do not match")
            known = {f for f in RunRecord.__dataclass_fields__ if f != "metrics"}
            run = RunRecord(**{k: v for k, v in meta.items() if k in known})
            for name, kind in (("settings", dict), ("summary", dict), ("events", list)):
                if not isinstance(getattr(run, name), kind):
                    raise ValueError(f"its {name} are damaged")
            if not isinstance(run.id, str) or not isinstance(run.name, str):
                raise ValueError("its name is damaged")
            run.metrics = {m: Series(c) for m, c in cols.items() if set(COLUMNS) <= set(c)}
        except Exception as exc:  # a damaged zip, bad JSON, wrong types: skip this run only
            raise RunStoreError(
                f"The run in {folder.name} is damaged and was skipped ({_brief(exc)})."
            ) from None
        return run

    def load_all(self) -> list[RunRecord]:
        self.problems = []
        runs = []
        if not self.root.is_dir():
            return runs
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and (folder / "run.json").exists():
                try:
                    runs.append(self.load(folder.name))
                except RunStoreError as exc:
                    self.problems.append(str(exc))
        return runs

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self._dir(run_id), ignore_errors=True)


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 90 else text[:87] + "..."


# -- the maths the plots show ------------------------------------------------------------------
def ema_smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction, as TensorBoard draws it.

    s_n = (1 - w) * sum_k w^(n-k) x_k / (1 - w^(n+1)): the first values are not pulled
    towards zero. Non-finite values are left as gaps and do not poison the average.
    Vectorized in chunks (a million points in a few milliseconds, no Python loop per point).
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full_like(values, np.nan)
    if not 0 <= weight < 1:
        raise ValueError("smoothing must be at least 0 and below 1")
    finite = np.isfinite(values)
    x = values[finite]
    if weight == 0 or len(x) == 0:
        out[finite] = x
        return out
    taps = int(np.ceil(-17 / np.log10(weight)))
    if taps <= 64:
        # Light smoothing forgets fast: older points weigh under 1e-17, a short filter is exact.
        kernel = (1 - weight) * weight ** np.arange(taps)
        biased = np.convolve(x, kernel)[: len(x)]
        out[finite] = biased / _debias(weight, len(x))
        return out
    # Within a chunk, s_j = w^(j+1) s_prev + (1-w) w^j cumsum(w^-i x_i); chunks keep w^-i
    # below 1e200: no overflow, and float64 keeps the rescaled sums exact enough.
    chunk = max(1, min(len(x), int(200 * np.log(10) / -np.log(weight))))
    powers = weight ** np.arange(chunk + 1)
    inv = 1.0 / powers[:chunk]
    biased = np.empty_like(x)
    prev = 0.0
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        n = len(part)
        acc = np.cumsum(part * inv[:n]) * powers[:n] * (1 - weight)
        biased[start : start + n] = powers[1 : n + 1] * prev + acc
        prev = biased[start + n - 1]
    out[finite] = biased / _debias(weight, len(x))
    return out


def _debias(weight: float, n: int) -> np.ndarray:
    """1 - w^k for k = 1..n; past the point where w^k < 1e-17 it is exactly 1."""
    debias = np.ones(n)
    m = min(n, int(np.ceil(-17 / np.log10(weight))) + 1)
    debias[:m] = 1 - weight ** np.arange(1, m + 1)
    return debias


def best_epoch(epochs: np.ndarray, val_loss: np.ndarray) -> tuple[float, float] | None:
    """(epoch, loss) of the lowest finite validation loss; the first if tied."""
    val_loss = np.asarray(val_loss, dtype=np.float64)
    ok = np.isfinite(val_loss)
    if not ok.any():
        return None
    i = int(np.nanargmin(np.where(ok, val_loss, np.nan)))
    return float(epochs[i]), float(val_loss[i])


def overfitting_spans(epochs, train_loss, val_loss) -> list[tuple[float, float]]:
    """Epoch ranges where validation loss rises while training loss keeps falling."""
    e = np.asarray(epochs, dtype=np.float64)
    tr = np.asarray(train_loss, dtype=np.float64)
    va = np.asarray(val_loss, dtype=np.float64)
    spans: list[tuple[float, float]] = []
    for i in range(1, min(len(e), len(tr), len(va))):
        if va[i] > va[i - 1] and tr[i] < tr[i - 1]:
            if spans and spans[-1][1] == e[i - 1]:
                spans[-1] = (spans[-1][0], float(e[i]))
            else:
                spans.append((float(e[i - 1]), float(e[i])))
    return spans


class EarlyStopping:
    """Stop when validation loss has not improved for `patience` epochs (0: never stop)."""

    def __init__(self, patience: int, min_delta: float = 1e-6) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.best_epoch = 0
        self.bad_epochs = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record an epoch's validation loss; True when training should stop now."""
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
        else:
            self.bad_epochs += 1
        return bool(self.patience) and self.bad_epochs >= self.patience
