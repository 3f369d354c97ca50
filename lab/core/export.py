"""Sharing a trained classifier outside ML Lab: ONNX and TorchScript files.

Both exported models take what a camera or an image library gives: a batch of RGB pictures
as uint8, N×3×S×S (S = the model's image size, already resized and centre-cropped), and
return class probabilities, N×C. The normalization is inside the model, and the class names
and preprocessing travel in the file's metadata. Each export is checked by running the
written file and comparing its outputs with PyTorch's; files are written atomically.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lab.core.classifier import Classifier
from lab.core.files import atomic_write_bytes
from lab.core.models import normalize

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
ONNX_OPSET = 17
# A float32 network run by another engine differs by rounding only.
TOLERANCE = 1e-4


class ExportError(Exception):
    """An export could not be made or did not check out; the message says why."""


class DeployableClassifier(nn.Module):
    """uint8 pictures in, probabilities out: everything a user of the file needs."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.net = classifier.net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(normalize(images)), dim=1)


@dataclass
class ExportReport:
    path: Path
    format: str
    size_bytes: int
    max_difference: float  # largest gap between the file's and PyTorch's probabilities
    checked_with: str


def metadata(classifier: Classifier) -> dict[str, str]:
    return {
        "classes": json.dumps(list(classifier.classes)),
        "image_size": str(classifier.image_size),
        "input": "uint8 RGB, N x 3 x S x S, resized (shorter side) and centre-cropped",
        "output": "class probabilities, N x C",
        "made_by": "ML Lab",
    }


def sample_input(classifier: Classifier, n: int = 2, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    s = classifier.image_size
    return torch.randint(0, 256, (n, 3, s, s), dtype=torch.uint8, generator=gen)


def _reference(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return model(x).numpy()


def onnx_bytes(classifier: Classifier) -> bytes:
    import onnx

    model = DeployableClassifier(classifier).cpu().eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated in favour of one that needs the extra
        # onnxscript package and takes several times longer; this one is exact for our nets.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (sample_input(classifier, 1),),
            buf,
            input_names=["images"],
            output_names=["probabilities"],
            dynamic_axes={"images": {0: "batch"}, "probabilities": {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    proto = onnx.load_from_string(buf.getvalue())
    for key, value in metadata(classifier).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = "An image classifier made with ML Lab."
    return proto.SerializeToString()


def torchscript_bytes(classifier: Classifier) -> bytes:
    model = DeployableClassifier(classifier).cpu().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, sample_input(classifier, 1), check_trace=False)
        buf = io.BytesIO()
        torch.jit.save(traced, buf, _extra_files={"ml_lab.json": json.dumps(metadata(classifier))})
    return buf.getvalue()


def run_onnx(path: str | Path, images: torch.Tensor) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images.numpy()})[0]


def run_torchscript(path: str | Path, images: torch.Tensor) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated, still works
        model = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        return model(images).numpy()


def export_model(
    classifier: Classifier, path: str | Path, fmt: str
) -> Generator[dict, None, ExportReport]:
    """Write the model as `fmt` ('onnx' or 'torchscript') and check the written file."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format '{fmt}'; choose ONNX or TorchScript.")
    path = Path(path)
    yield {"kind": "stage", "stage": "exporting", "format": fmt}
    try:
        data = onnx_bytes(classifier) if fmt == "onnx" else torchscript_bytes(classifier)
    except ImportError:
        raise ExportError(
            "Exporting to ONNX needs the 'onnx' package; install it with: pip install onnx"
        ) from None
    atomic_write_bytes(path, data)
    yield {"kind": "stage", "stage": "checking", "format": fmt}
    x = sample_input(classifier, n=3, seed=1)
    expected = _reference(DeployableClassifier(classifier).cpu().eval(), x)
    if fmt == "onnx":
        try:
            got = run_onnx(path, x)
            checked_with = "onnxruntime"
        except ImportError:
            return ExportReport(path, fmt, len(data), float("nan"), "")
    else:
        got = run_torchscript(path, x)
        checked_with = "torch.jit.load"
    diff = float(np.abs(got - expected).max())
    if not diff <= TOLERANCE:
        raise ExportError(
            f"The exported file gives different answers from the model (by up to {diff:.2g}); "
            "it was written but should not be used."
        )
    return ExportReport(path, fmt, len(data), diff, checked_with)
