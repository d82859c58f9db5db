"""Per-epoch outputs of a run: ``metrics.jsonl``, ``learning_curve.png`` and the console progress.

``metrics.jsonl`` holds one JSON object per epoch (``epoch``, ``frames``, ``fps``, ``mean_reward``,
``mean_episode_length``, ``time_s``, the losses and learning rate, and the env's logged ``Episode_*``,
``Curriculum/*`` and ``Metrics/*`` means); values that are not finite are written as null. Lines are appended and
flushed each epoch; a reader skips a partial last line left by a killed process.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ..files import atomic_path

METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "learning_curve.png"


def clean(value: Any) -> Any:
    """A JSON-safe scalar: non-finite floats become None, tensors and NumPy scalars plain numbers."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Epoch records of a ``metrics.jsonl`` (malformed lines, such as a cut-off last one, are skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("epoch"), int):
            records.append(record)
    return records


class MetricsFile:
    """Appends one line per epoch to ``metrics.jsonl``; on resume, keeps only the epochs the checkpoint has."""

    def __init__(self, path: str | os.PathLike, up_to_epoch: int | None = None):
        self.path = Path(path)
        self.history = read_metrics(self.path)
        if up_to_epoch is not None:
            kept = [record for record in self.history if record["epoch"] <= up_to_epoch]
            if len(kept) != len(self.history) or self.path.exists():
                with atomic_path(self.path) as tmp:
                    tmp.write_text("".join(json.dumps(record) + "\n" for record in kept))
            self.history = kept
        else:
            self.history = []
            self.path.write_text("")

    def append(self, record: dict[str, Any]) -> None:
        record = {key: clean(value) for key, value in record.items()}
        with open(self.path, "a") as file:
            file.write(json.dumps(record) + "\n")
            file.flush()
        self.history.append(record)


def write_learning_curve(history: list[dict[str, Any]], path: str | os.PathLike, title: str = "") -> Path | None:
    """Plot mean reward and episode length against frames (epochs on the top axis); written atomically."""
    if not history:
        return None
    path = Path(path)
    figure = learning_curve_figure(history, title)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return path


def learning_curve_figure(history: list[dict[str, Any]], title: str = ""):
    """The figure of :func:`write_learning_curve` (a matplotlib ``Figure`` on an Agg canvas).

    Before any episode has finished, the frame axis spans the frames trained so far and the empty value axis has no
    ticks, so the plot says so instead of drawing a unit box whose top axis labels collide.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = [r for r in history if r.get("mean_reward") is not None]
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2)
    frames_per_epoch = max(1, history[-1]["frames"] / max(1, history[-1]["epoch"]))
    for ax, key, label in ((axes[0], "mean_reward", "mean episode return"),
                           (axes[1], "mean_episode_length", "mean episode length [steps]")):
        xs = [r["frames"] for r in points if r.get(key) is not None]
        ys = [r[key] for r in points if r.get(key) is not None]
        ax.plot(xs, ys, marker="." if len(xs) < 50 else None, linewidth=1.2)
        ax.set_xlabel("frames")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if not xs:
            ax.set_xlim(0, max(float(history[-1].get("frames") or 0), frames_per_epoch))
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no finished episode yet", ha="center", va="center", transform=ax.transAxes)
        top = ax.secondary_xaxis("top", functions=(lambda f: f / frames_per_epoch, lambda e: e * frames_per_epoch))
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_xlabel("epoch")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


class Progress:
    """Console progress: a rich progress bar on a terminal, plain periodic lines otherwise (cluster logs)."""

    def __init__(self, max_epochs: int, start_epoch: int = 0, mode: str = "auto", stream: TextIO | None = None,
                 interval_s: float = 10.0, label: str = "training"):
        self.stream = stream or sys.stdout
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode
        self.max_epochs = max_epochs
        self.interval_s = interval_s
        self._last_line = 0.0
        self._bar = None
        if mode == "bar":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._task = self._bar.add_task(label, total=max_epochs, completed=start_epoch, info="building env")
            self._bar.start()

    def update(self, metrics: dict[str, Any]) -> None:
        info = (f"fps {_fmt(metrics.get('fps'), '.0f')}  reward {_fmt(metrics.get('mean_reward'))}  "
                f"len {_fmt(metrics.get('mean_episode_length'), '.1f')}")
        epoch = metrics["epoch"]
        if self._bar is not None:
            self._bar.update(self._task, completed=epoch, total=self.max_epochs, info=info)
            return
        if self.mode != "lines":
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval_s or epoch >= self.max_epochs or self._last_line == 0.0:
            self._last_line = now
            print(f"[stripe-kit] epoch {epoch}/{self.max_epochs}  frames {metrics.get('frames')}  {info}  "
                  f"({_fmt(metrics.get('time_s'), '.0f')} s)", file=self.stream, flush=True)

    def set_max_epochs(self, max_epochs: int) -> None:
        self.max_epochs = max_epochs

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
