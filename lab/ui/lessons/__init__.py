"""The Lessons tab: a guided path through every idea, each one opening the tab that shows it."""

from lab.ui.lessons.tab import LessonsTab

__all__ = ["LessonsTab"]
