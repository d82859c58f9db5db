"""The training runs under a runs directory: task, status, epochs and best reward, read from their files."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path

from .monitor import METRICS_FILE, read_metrics

VIDEOS_DIR = "videos"
"""Folder of a run directory holding its videos (``epoch_<N>.mp4`` of ``--video-every``)."""


@dataclasses.dataclass
class RunInfo:
    task: str
    name: str
    status: str
    """``running``, ``finished``, ``stopped``, ``failed``, or ``interrupted`` (its process is gone without an end)."""
    epoch: int
    max_epochs: int | None
    best_reward: float | None
    path: Path
    history: list[dict] = dataclasses.field(default_factory=list, repr=False)
    """The run's ``metrics.jsonl`` records, one per epoch, as read for this listing."""


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_runs(runs_dir: str | os.PathLike = "runs") -> list[RunInfo]:
    """Runs ``<runs_dir>/<task>/<name>`` with a ``run.json``, oldest first."""
    root = Path(runs_dir).expanduser()
    runs = []
    for manifest_path in sorted(root.glob("*/*/run.json")):
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            continue
        run_dir = manifest_path.parent
        history = read_metrics(run_dir / METRICS_FILE)
        status = manifest.get("status", "unknown")
        if status == "running" and manifest.get("host") == socket.gethostname() and not _alive(manifest.get("pid")):
            status = "interrupted"
        rewards = [r["mean_reward"] for r in history if r.get("mean_reward") is not None]
        runs.append(RunInfo(
            task=manifest.get("task", run_dir.parent.name), name=run_dir.name, status=status,
            epoch=max([r["epoch"] for r in history], default=int(manifest.get("epoch") or 0)),
            max_epochs=manifest.get("max_epochs"), best_reward=max(rewards) if rewards else None, path=run_dir,
            history=history,
        ))
    runs.sort(key=lambda run: (run.path.stat().st_mtime if run.path.exists() else 0))
    return runs
