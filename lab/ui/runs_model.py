"""The run history as the views see it: the core RunStore plus change signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from lab.core.runs import RunRecord, RunRecorder, RunStore, RunStoreError
from lab.ui.theme import OKABE_ITO


class RunsModel(QObject):
    """Holds every run in memory; views subscribe to its signals, never the other way round."""

    run_added = Signal(str)
    run_changed = Signal(str)  # new data or a new status
    run_looks_changed = Signal(str)  # name, colour or hidden
    run_removed = Signal(str)
    problem = Signal(str)

    def __init__(self, store: RunStore, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self._runs: dict[str, RunRecord] = {r.id: r for r in store.load_all()}
        for run in self._runs.values():
            if run.status == "running":  # the app closed mid-run last time
                run.status = "stopped"
        self.load_problems = list(store.problems)

    def runs(self) -> list[RunRecord]:
        return sorted(self._runs.values(), key=lambda r: r.started)

    def get(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def next_color(self) -> str:
        used = [r.color for r in self._runs.values()]
        return min(OKABE_ITO, key=lambda c: (used.count(c), OKABE_ITO.index(c)))

    def start_run(self, name: str, kind: str, settings: dict) -> RunRecorder:
        run = RunRecord.new(name, kind, settings)
        run.color = self.next_color()
        self._runs[run.id] = run
        self.run_added.emit(run.id)
        return RunRecorder(run)

    def data_changed(self, run_id: str) -> None:
        self.run_changed.emit(run_id)

    def save(self, run_id: str) -> bool:
        run = self._runs.get(run_id)
        if run is None:
            return False
        try:
            self.store.save(run)
        except RunStoreError as exc:
            self.problem.emit(str(exc))
            return False
        self.run_changed.emit(run_id)
        return True

    def _save_meta(self, run: RunRecord) -> None:
        try:
            self.store.save_meta(run)
        except RunStoreError as exc:
            self.problem.emit(str(exc))
        self.run_looks_changed.emit(run.id)

    def rename(self, run_id: str, name: str) -> None:
        run = self._runs[run_id]
        run.name = name.strip() or run.name
        self._save_meta(run)

    def set_color(self, run_id: str, color: str) -> None:
        run = self._runs[run_id]
        run.color = color
        self._save_meta(run)

    def set_hidden(self, run_id: str, hidden: bool) -> None:
        run = self._runs[run_id]
        if run.hidden != hidden:
            run.hidden = hidden
            self._save_meta(run)

    def delete(self, run_id: str) -> None:
        if self._runs.pop(run_id, None) is not None:
            self.store.delete(run_id)
            self.run_removed.emit(run_id)
