"""Shared test settings: quiet TensorFlow start-up, no GPU."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests must pass on machines without an accelerator; hiding GPUs keeps results the same everywhere.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
