"""The one-line machine description that every benchmark prints first."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["describe_machine"]

# Instruction sets that change how fast TensorFlow trains on a CPU.
_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def describe_machine() -> str:
    """Return the processor model, the logical core count and the CPU flags that matter for speed."""
    model, flags = platform.processor() or "unknown processor", set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    present = [flag for flag in _CPU_FLAGS if flag in flags]
    return f"{model}, {os.cpu_count()} cores, flags: {' '.join(present) or 'none of ' + ' '.join(_CPU_FLAGS)}"
