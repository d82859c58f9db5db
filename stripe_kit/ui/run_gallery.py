"""View-model of the run gallery: every run under a runs directory with its learning curve, checkpoints and videos.

A run's curve is its ``metrics.jsonl`` (one record per epoch, :mod:`stripe_kit.train.monitor`); its videos are
``<run dir>/videos/*.mp4`` (``epoch_<N>.mp4`` written while it trains, in epoch order); its checkpoints are
``nn/*.pth``. :class:`RunGalleryModel` re-reads them on :meth:`~RunGalleryModel.refresh` and notifies ``gallery``
only when something changed, so a front end can call it every second or two. Nothing here imports omni, carb,
isaacsim or viser.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import math
import os
import re
from pathlib import Path
from typing import Any

from ..train.runs import VIDEOS_DIR
from .observable import ObservableModel

GALLERY = "gallery"
"""Event passed to observers: the runs, a curve, a checkpoint list or a video list changed."""
MAX_INLINE_VIDEO_BYTES = 32 * 1024 * 1024
"""Largest video sent inside the page (as a data URL)."""
_EPOCH = re.compile(r"epoch_(\d+)$")


def _epoch_key(path: Path) -> tuple[int, float, str]:
    match = _EPOCH.search(path.stem)
    return (int(match.group(1)) if match else -1, path.stat().st_mtime if path.exists() else 0.0, path.name)


def run_videos(run_dir: str | os.PathLike) -> list[Path]:
    """Videos of a run (``videos/*.mp4``), oldest first: ``epoch_<N>.mp4`` by N, others by time after them."""
    folder = Path(run_dir) / VIDEOS_DIR
    if not folder.is_dir():
        return []
    videos = [path for path in folder.glob("*.mp4") if path.is_file() and path.stat().st_size > 0]
    return sorted(videos, key=lambda p: (_EPOCH.search(p.stem) is None, *_epoch_key(p)))


def newest_video(run_dir: str | os.PathLike) -> Path | None:
    """The run's newest video: the highest ``epoch_<N>.mp4``, else the newest other ``.mp4``; None without one."""
    videos = run_videos(run_dir)
    numbered = [v for v in videos if _EPOCH.search(v.stem)]
    if numbered:
        return numbered[-1]
    return max(videos, key=lambda p: p.stat().st_mtime) if videos else None


def run_checkpoints(run_dir: str | os.PathLike) -> list[str]:
    """Checkpoint names of a run (``last``, ``best``, then ``epoch_<N>`` newest first), as in ``nn/<name>.pth``."""
    nn = Path(run_dir) / "nn"
    names = [p.stem for p in nn.glob("*.pth")] if nn.is_dir() else []
    fixed = [name for name in ("last", "best") if name in names]
    epochs = sorted((n for n in names if _EPOCH.search(n)), key=lambda n: -int(_EPOCH.search(n).group(1)))
    rest = sorted(n for n in names if n not in fixed and n not in epochs)
    return fixed + epochs + rest


def video_html(path: str | os.PathLike | None, max_bytes: int = MAX_INLINE_VIDEO_BYTES) -> str:
    """An HTML5 ``<video>`` playing ``path`` from a data URL (looping, muted, with controls); a note without one."""
    if path is None:
        return "<p><em>No video yet.</em></p>"
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        return (f"<p>{html.escape(path.name)}: {size / 2**20:.0f} MiB, too large to show here "
                f"({html.escape(str(path))})</p>")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<div><video data-video="{html.escape(path.name)}" controls autoplay loop muted playsinline '
            f'style="width:100%" src="data:video/mp4;base64,{data}"></video>'
            f'<div style="font-size:0.8em">{html.escape(path.parent.parent.name)}/{html.escape(path.name)}</div></div>')


@dataclasses.dataclass
class RunCard:
    """One run of the gallery."""

    info: Any
    """The run's :class:`~stripe_kit.train.runs.RunInfo`."""
    epochs: list[int]
    rewards: list[float]
    """Mean reward per epoch (NaN before the first finished episode)."""
    videos: list[Path]
    checkpoints: list[str]

    @property
    def key(self) -> str:
        """``<task>/<name>``."""
        return f"{self.info.task}/{self.info.name}"

    @property
    def curve(self) -> tuple[list[int], list[float]]:
        """The finite points of the learning curve (epochs, mean rewards)."""
        points = [(e, r) for e, r in zip(self.epochs, self.rewards) if math.isfinite(r)]
        return [e for e, _ in points], [r for _, r in points]

    def summary(self) -> str:
        """One line: status, epochs, best reward, videos."""
        info = self.info
        total = f"/{info.max_epochs}" if info.max_epochs else ""
        best = f", best reward {info.best_reward:.2f}" if info.best_reward is not None else ""
        videos = f", {len(self.videos)} video{'s' if len(self.videos) != 1 else ''}" if self.videos else ""
        return f"{info.status}, epoch {info.epoch}{total}{best}{videos}"


def _reward(record: dict) -> float:
    value = record.get("mean_reward")
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


class RunGalleryModel(ObservableModel):
    """The runs under ``runs_dir`` with their curves, videos and checkpoints.

    Args:
        runs_dir: Where runs live (``<runs_dir>/<task>/<name>``).
        limit: How many of the newest runs are shown.
    """

    def __init__(self, runs_dir: str | os.PathLike = "runs", limit: int = 8):
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.limit = limit
        self.cards: list[RunCard] = []
        """The newest ``limit`` runs, newest first, at the last refresh."""
        self._key: tuple = ()

    def card(self, key: str) -> RunCard | None:
        """The card of run ``<task>/<name>``, or None."""
        return next((card for card in self.cards if card.key == key), None)

    def refresh(self) -> bool:
        """Re-read the runs; notifies ``gallery`` and returns True when anything changed."""
        from ..train.runs import list_runs

        try:
            runs = list_runs(self.runs_dir)[-self.limit:][::-1]
            cards = [RunCard(info, [int(r["epoch"]) for r in info.history], [_reward(r) for r in info.history],
                             run_videos(info.path), run_checkpoints(info.path)) for info in runs]
        except Exception as exc:  # noqa: BLE001 - a bad runs dir must not break the page
            return self._fail(exc, "runs")
        key = tuple((c.key, c.info.status, c.info.epoch, len(c.epochs), tuple(map(str, c.videos)), tuple(c.checkpoints))
                    for c in cards)
        if key == self._key:
            return False
        self.cards, self._key = cards, key
        self.error = None
        self._notify(GALLERY)
        return True
