"""Helpers for tests that run code in its own process (one SimulationContext per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a command with the test interpreter's environment; returns the completed process."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_python(code: str, cwd: Path | None = None, timeout: float = 600) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON line prefixed ``RESULT `` which is returned."""
    proc = run_cli(sys.executable, "-c", textwrap.dedent(code), cwd=cwd, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"subprocess failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return json.loads(lines[-1][len("RESULT "):])
