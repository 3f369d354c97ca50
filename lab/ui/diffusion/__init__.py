"""The Diffusion tab."""

from lab.ui.diffusion.tab import DiffusionTab

__all__ = ["DiffusionTab"]
