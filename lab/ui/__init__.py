"""ML Lab's Qt views. Compute lives in lab.core; this package only shows it."""
