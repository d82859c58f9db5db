"""A training run in its own ``stripe-kit train`` process, watched through its run directory.

A front end (Isaac Sim's training window, a script) that wants thousands of envs without slowing its own process
launches the same run as a separate process: :meth:`HeadlessRun.start` runs ``stripe-kit train`` with the run's
options, :meth:`HeadlessRun.status` reads ``run.json`` and ``metrics.jsonl`` of its run directory,
:meth:`HeadlessRun.stop` sends SIGTERM (the CLI stops at the next epoch boundary with a checkpoint) and
:meth:`HeadlessRun.wait` waits for the process. The run directory is an ordinary one: Play and export load it.

Nothing here imports omni, carb, isaacsim or Isaac Lab.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .control import TrainStatus
from .monitor import METRICS_FILE, read_metrics
from .plan import TrainOptions


def stripe_kit_command(python: str | os.PathLike | None = None) -> list[str]:
    """How to run the CLI: ``python -m stripe_kit.cli`` with the given interpreter (default: this one).

    Inside Isaac Sim ``sys.executable`` is Kit's own binary, not a Python; pass Isaac Sim's ``python.sh`` (or its
    bundled ``python3``) there, see :func:`default_python`.
    """
    return [str(python or default_python()), "-m", "stripe_kit.cli"]


def default_python() -> str:
    """The Python that runs ``stripe-kit``: ``$STRIPE_KIT_PYTHON`` if set, else this interpreter when it is a Python
    (not Kit's binary), else ``python3`` on the PATH."""
    configured = os.environ.get("STRIPE_KIT_PYTHON")
    if configured:
        return configured
    name = Path(sys.executable).name.lower()
    if name.startswith("python"):
        return sys.executable
    return shutil.which("python3") or "python3"


def train_arguments(options: TrainOptions) -> list[str]:
    """``stripe-kit train`` arguments that reproduce ``options`` (run_name must be set)."""
    args = ["train"]
    for flag, value in (("--task", options.task), ("--num-envs", options.num_envs), ("--device", options.device),
                        ("--seed", options.seed), ("--max-iterations", options.max_iterations),
                        ("--physics", options.physics), ("--frontend", options.frontend),
                        ("--run-name", options.run_name),
                        ("--runs-dir", options.runs_dir), ("--resume", options.resume)):
        if value is not None:
            args += [flag, str(value)]
    for module in options.tasks:
        args += ["--tasks", module]
    args += ["--progress", "lines", "--checkpoint-every", str(options.checkpoint_every)]
    args += list(options.overrides)
    return args


class HeadlessRun:
    """One ``stripe-kit train`` process and its run directory.

    Args:
        options: The run's options; a ``run_name`` is made (``headless-<time>``) when None, so that the run
            directory ``<runs_dir>/<task>/<run_name>`` is known before the process writes it. ``task`` must be set.
        python: Interpreter that runs the CLI (default: :func:`default_python`).
        env: Extra environment variables of the process.
    """

    def __init__(self, options: TrainOptions, python: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None):
        if not options.task:
            raise ValueError("a headless run needs a task")
        if options.run_name is None:
            options = _replace(options, run_name=time.strftime("headless-%Y%m%d-%H%M%S"))
        self.options = options
        self.python = python
        self.env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.log_path = self.run_dir.parent / f"{options.run_name}.headless.log"
        """Where the process's stdout and stderr go (next to the run directory)."""

    @property
    def run_dir(self) -> Path:
        return Path(self.options.runs_dir).expanduser() / str(self.options.task) / str(self.options.run_name)

    @property
    def command(self) -> list[str]:
        return stripe_kit_command(self.python) + train_arguments(self.options)

    def start(self) -> subprocess.Popen:
        """Launch the process (its output goes to :attr:`log_path`); returns it."""
        if self.running:
            raise RuntimeError("this headless run is live already")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, **self.env)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self.process

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> bool:
        """SIGTERM: the run ends at its next epoch boundary with a checkpoint. False if it is not running."""
        if not self.running:
            return False
        self.process.send_signal(signal.SIGTERM)
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the process (at most ``timeout`` seconds); its exit code, None if it still runs."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL, for a process that does not end after a stop (its last epoch's checkpoint stays)."""
        if self.running:
            self.process.kill()

    def status(self) -> TrainStatus:
        """The run's status read from ``run.json`` and ``metrics.jsonl`` (``starting`` until they exist; ``failed``
        with the log's last line when the process died without writing an end)."""
        manifest = _read_json(self.run_dir / "run.json")
        records = read_metrics(self.run_dir / METRICS_FILE)
        last = records[-1] if records else {}
        state = manifest.get("status") or ("starting" if self.running or self.process is None else "failed")
        code = self.returncode
        error = manifest.get("error")
        if state == "running" and code is not None:
            state = "finished" if code == 0 else "failed"
        if state == "failed" and not error:
            error = self._last_log_line() or (f"exit code {code}" if code is not None else None)
        checkpoint = self.run_dir / "nn" / "last.pth"
        return TrainStatus(
            state=state,
            epoch=int(last.get("epoch") or manifest.get("epoch") or 0),
            max_epochs=manifest.get("max_epochs"),
            frames=int(last.get("frames") or manifest.get("frames") or 0),
            fps=last.get("fps"),
            mean_reward=last.get("mean_reward"),
            mean_episode_length=last.get("mean_episode_length"),
            last_checkpoint=str(checkpoint) if checkpoint.is_file() else None,
            run_dir=str(self.run_dir) if self.run_dir.is_dir() else None,
            error=error,
        )

    def metrics(self) -> list[dict[str, Any]]:
        """Per-epoch records of ``metrics.jsonl`` so far."""
        return read_metrics(self.run_dir / METRICS_FILE)

    def _last_log_line(self) -> str | None:
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return None
        return lines[-1][:300] if lines else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _replace(options: TrainOptions, **changes: Any) -> TrainOptions:
    import dataclasses

    return dataclasses.replace(options, **changes)


__all__ = ["HeadlessRun", "default_python", "stripe_kit_command", "train_arguments"]
