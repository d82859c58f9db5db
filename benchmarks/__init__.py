"""Benchmarks of STRIPE-kit; run each as a module, e.g. ``python -m benchmarks.scene_generation``."""
