"""The Classifier tab: your images on the left, training on the right."""

from lab.ui.classifier.tab import ClassifierTab

__all__ = ["ClassifierTab"]
