"""Shared test settings: quiet TensorFlow, no GPU, non-interactive matplotlib."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
