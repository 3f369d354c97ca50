"""Training settings: defaults per mode, and validation with reasons a student can act on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

MODES = ("head", "finetune", "scratch")
MODE_TITLES = {
    "head": "Fine-tune a pretrained network, head only (fast)",
    "finetune": "Fine-tune the whole pretrained network (slower)",
    "scratch": "Train a small network from scratch",
}
MODE_NOTES = {
    "head": "The pretrained network turns each image into 1,280 numbers once; only the last "
    "layer learns. Seconds on a laptop.",
    "finetune": "Every layer of the pretrained network learns. Much slower on a CPU: expect "
    "minutes, not seconds.",
    "scratch": "A small network starts from random weights and learns everything from your "
    "images. Shows how much pretrained weights help.",
}


class SettingsError(ValueError):
    """Invalid settings; .problems maps each field to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in problems.items()))


@dataclass(frozen=True)
class TrainSettings:
    mode: str = "head"
    epochs: int = 15
    learning_rate: float = 0.001
    batch_size: int = 32
    image_size: int = 224
    val_share: float = 0.2
    augment: bool = False
    seed: int = 0
    patience: int = 0  # 0: train every epoch; N: stop after N epochs without a better val loss

    @classmethod
    def for_mode(cls, mode: str, **changes) -> TrainSettings:
        base = {
            "head": cls(mode="head", epochs=15, learning_rate=0.001, batch_size=32, image_size=224),
            "finetune": cls(
                mode="finetune", epochs=3, learning_rate=0.0002, batch_size=16, image_size=160
            ),
            "scratch": cls(
                mode="scratch",
                epochs=20,
                learning_rate=0.002,
                batch_size=32,
                image_size=64,
                augment=True,
            ),
        }
        if mode not in base:
            raise SettingsError({"mode": f"must be one of {', '.join(MODES)}"})
        return replace(base[mode], **changes)

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}

        def whole(name: str, lo: int, hi: int, why: str = "") -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                p[name] = "must be a whole number"
            elif not lo <= value <= hi:
                p[name] = f"must be between {lo:,} and {hi:,}{why}"

        if self.mode not in MODES:
            p["mode"] = f"must be one of {', '.join(MODES)}"
        whole("epochs", 1, 1000)
        whole("batch_size", 1, 1024)
        whole("image_size", 32, 512, " pixels")
        whole("seed", 0, 2**31 - 1)
        whole("patience", 0, 1000)
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr != lr:
            p["learning_rate"] = "must be a number"
        elif not 0 < lr <= 100:
            p["learning_rate"] = "must be above 0 and at most 100"
        share = self.val_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or share != share:
            p["val_share"] = "must be a number"
        elif not 0.05 <= share <= 0.5:
            p["val_share"] = "must be between 5% and 50% of the images"
        if not isinstance(self.augment, bool):
            p["augment"] = "must be on or off"
        return p

    def check(self) -> TrainSettings:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
