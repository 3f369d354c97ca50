"""The Curves tab: every training run kept, overlaid and compared."""

from lab.ui.curves.tab import CurvesTab

__all__ = ["CurvesTab"]
