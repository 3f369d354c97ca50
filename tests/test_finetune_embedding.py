"""Fine-tuning pulls the classes apart in the network's own embedding (the Embeddings tab's
before/after view), measured on the real starter photos."""

from __future__ import annotations

import pytest
import torch

from lab.core.classifier import read_for_model
from lab.core.dataset import ImageFolder
from lab.core.embeddings.projection import separation_score
from lab.core.models import efficientnet_backbone, normalize
from lab.core.settings import TrainSettings
from lab.core.training import run_to_end, train_classifier


@pytest.mark.photos
@pytest.mark.slow
def test_fine_tuned_embedding_separates_cats_and_raccoons_better(starter_photos):
    folder = ImageFolder.scan(starter_photos)
    settings = TrainSettings.for_mode("finetune", epochs=2, image_size=128)
    result = run_to_end(train_classifier(folder, settings))
    images = torch.stack([read_for_model(s.path, 128) for s in folder.samples])
    labels = folder.labels
    with torch.inference_mode():
        before = efficientnet_backbone(pretrained=True).eval()(normalize(images)).numpy()
        after = result.classifier.net.embed(normalize(images)).numpy()
    s_before, s_after = separation_score(before, labels), separation_score(after, labels)
    assert s_after > s_before + 0.05, (s_before, s_after)
