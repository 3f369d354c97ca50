"""Diffusion models: noise schedules, a compact U-Net, samplers, a 2D toy, training."""
