"""What a running training shares with whoever watches it: stop requests, status, and per-epoch metrics.

The training thread writes; any thread reads :meth:`TrainControl.status`, calls :meth:`TrainControl.request_stop`,
or subscribes to per-epoch metric dicts. Subscribers are called in the training thread, after each epoch.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable
from typing import Any

STATES = ("idle", "starting", "running", "stopping", "finished", "stopped", "failed")
"""Training states: ``finished`` reached max epochs, ``stopped`` ended on request, ``failed`` ended on an error."""
ENDED = ("finished", "stopped", "failed")

MetricsCallback = Callable[[dict[str, Any]], None]


@dataclasses.dataclass
class TrainStatus:
    """A snapshot of a training run."""

    state: str = "idle"
    epoch: int = 0
    """Epochs done (counting those before a resume)."""
    max_epochs: int | None = None
    frames: int = 0
    """Environment steps done, over all environments."""
    fps: float | None = None
    """Environment steps per second in the last epoch, training included."""
    mean_reward: float | None = None
    """Mean return of the last finished episodes (None until an episode ended)."""
    mean_episode_length: float | None = None
    last_checkpoint: str | None = None
    run_dir: str | None = None
    error: str | None = None
    """One line saying why the run failed."""

    @property
    def ended(self) -> bool:
        return self.state in ENDED


class TrainControl:
    """Thread-safe stop flag, status and metric subscribers of one training run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._subscribers: list[MetricsCallback] = []
        self._status = TrainStatus()
        self.stop_reason: str | None = None
        self.context: Any = None
        """The live run's :class:`~stripe_kit.train.algo.RunContext` (env, agent), None before the run."""
        self.restore_hooks: list[Callable[[Any, dict], None]] = []
        """Called in the training thread as ``hook(agent, checkpoint)`` right after a resume restored the agent."""

    # stop requests
    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the run to end at the next epoch boundary (with a checkpoint)."""
        with self._lock:
            if not self._stop.is_set():
                self.stop_reason = reason
            self._stop.set()
            if self._status.state in ("starting", "running"):
                self._status.state = "stopping"

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # status
    def status(self) -> TrainStatus:
        with self._lock:
            return dataclasses.replace(self._status)

    def update(self, **changes: Any) -> None:
        with self._lock:
            if changes.get("state") in ("starting", "running") and self._stop.is_set():
                changes["state"] = "stopping"
            for key, value in changes.items():
                setattr(self._status, key, value)

    # metrics
    def subscribe(self, callback: MetricsCallback) -> None:
        with self._lock:
            if callback not in self._subscribers:
                self._subscribers.append(callback)

    def unsubscribe(self, callback: MetricsCallback) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def publish(self, metrics: dict[str, Any]) -> None:
        """Call every subscriber with a copy of ``metrics``; a failing subscriber is reported and dropped."""
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(dict(metrics))
            except Exception as error:  # noqa: BLE001 - a watcher's bug must not end the training
                print(f"stripe-kit: metrics subscriber {callback!r} failed and was removed: {error}", file=sys.stderr)
                self.unsubscribe(callback)
