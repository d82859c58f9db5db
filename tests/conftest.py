"""Shared fixtures, and the order the suite runs in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


LONGEST_FIRST = ("tests/ui/test_web_gui.py",)
"""Files that take minutes alone (the browser test: about 8 of the suite's 21 on CI's 2 cores)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the longest files first: with ``make test``'s workers (pytest-xdist, one file per worker at a time) the
    other files then share what is left of the run, instead of one worker finishing the longest file alone."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


@pytest.fixture(scope="session")
def stripe_kit_bin() -> str:
    """Path of the ``stripe-kit`` console script of the test interpreter."""
    path = Path(sys.executable).with_name("stripe-kit")
    assert path.exists(), "stripe-kit is not installed in the test environment (pip install -e .)"
    return str(path)

