"""The Labs tab: small interactive labs, one idea each."""

from lab.ui.labs.tab import LabsTab

__all__ = ["LabsTab"]
