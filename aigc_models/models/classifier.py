"""The small CNN that the evaluator uses (one per dataset).

Its 128-d penultimate features feed the Frechet distance and precision/recall;
its softmax feeds the class histogram, coverage, classifier score and the
class accuracy of conditional samples.
"""


from dataclasses import dataclass
from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from .base import HUB_KWARGS, CheckedHubMixin, Family


@dataclass(frozen=True)
class ClassifierConfig:
    dataset: str = dataset_field()
    num_classes: int = bounded(10, lo=1, hi=1000, help="number of classes")
    channels: int = bounded(32, lo=1, hi=1024, help="base channel width")
    feature_dim: int = bounded(128, lo=1, hi=4096, help="size of the features the evaluator uses")
    dropout: float = bounded(0.3, lo=0.0, hi=1.0, hi_open=True, help="dropout before the head")


class Classifier(CheckedHubMixin, nn.Module, PyTorchModelHubMixin, **HUB_KWARGS, tags=["image-classification", "aigc-lab"]):
    objective: ClassVar[str] = "cross-entropy"
    family: ClassVar[str] = "classifier"

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2c, 7, 7)
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, config.feature_dim), nn.ReLU(),  # (B, feature_dim)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    @property
    def num_classes(self) -> int:
        return int(self.config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """images ``(B, 1, 28, 28)`` in [-1, 1] -> features ``(B, feature_dim)`` (>= 0)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """images in [-1, 1] -> class logits ``(B, num_classes)``."""
        return self.head(self.dropout(self.features(x)))


FAMILY = Family("classifier", ClassifierConfig, Classifier, label="classifier", label_zh="分类器",
                abilities=frozenset({"classify"}), width_fields=("channels",))
