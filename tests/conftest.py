"""Shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def stripe_kit_bin() -> str:
    """Path of the ``stripe-kit`` console script of the test interpreter."""
    path = Path(sys.executable).with_name("stripe-kit")
    assert path.exists(), "stripe-kit is not installed in the test environment (pip install -e .)"
    return str(path)

