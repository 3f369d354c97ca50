"""ML Lab: a desktop learning lab where people learn machine learning by doing it."""

__version__ = "0.1.0"
