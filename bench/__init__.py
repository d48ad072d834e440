"""Benchmarks of scratchnet against the tutorial's code, PyTorch and scikit-learn."""
