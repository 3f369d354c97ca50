"""All of ML Lab's compute. Nothing in this package imports Qt."""
