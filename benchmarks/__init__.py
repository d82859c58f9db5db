"""Benchmarks of STRIPE-kit; run each as a module, e.g. ``python -m benchmarks.scene_generation``."""

import json
import statistics
import subprocess
import sys


def run_python(code: str, timeout: float | None = None) -> dict:
    """Run ``code`` in a fresh interpreter (one simulation per process) and return its last ``RESULT <json>`` line."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-4000:])
    return json.loads(lines[-1][len("RESULT "):])


def gpu_name(device: str = "cuda:0") -> str | None:
    """The GPU's name for a CUDA ``device``; None on a CPU device or without CUDA."""
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(torch.device(device))


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max of repeated measurements, as every benchmark reports them."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}
