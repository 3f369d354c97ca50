"""Small concept labs: each trains in seconds on a CPU and shows one idea."""
