"""Colours and fonts shared by every view."""

from __future__ import annotations

# Okabe–Ito: a palette that people with the common colour-vision deficiencies tell apart.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
# Markers and dash styles that go with the colours, so series differ without colour too.
SYMBOLS = ("o", "s", "t", "d", "+", "x", "star", "p")
BASE_POINT_SIZE = 11
