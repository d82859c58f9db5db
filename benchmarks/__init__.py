"""Benchmarks of STRIPE-kit; run each as a module, e.g. ``python -m benchmarks.scene_generation``."""

import statistics


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max of repeated measurements, as every benchmark reports them."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}
