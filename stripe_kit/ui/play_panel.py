"""View-model of the play panel: pick a run and one of its checkpoints (or follow its newest), play it, watch returns.

:class:`PlayPanelModel` holds no widgets and wraps one :class:`~stripe_kit.train.live_play.LivePlay` at a time: the
checkpoint's deterministic policy plays a few envs of the run's task without end, in a worker thread, and the
returns of the episodes that end are reported. :data:`NEWEST` follows the run: each newer ``nn/last.pth`` is loaded
into the playing policy (a live run's progress, as it trains in another process). Front ends call
:meth:`PlayPanelModel.poll` from their own thread; actions never raise (a failure sets :attr:`PlayPanelModel.error`).
Nothing here imports omni, carb or isaacsim; Isaac Lab is imported by the play thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .observable import ERROR, ObservableModel
from .run_gallery import run_checkpoints

RUNS, SELECTION, STATE, RETURNS = "runs", "selection", "state", "returns"
"""Events passed to observers: the run list was read, another run or checkpoint was chosen, the play's state
changed, a new episode return; and :data:`~stripe_kit.ui.observable.ERROR`, an action (or the play) failed."""

NEWEST = "newest (follow)"
"""Checkpoint choice that plays the run's newest checkpoint and loads each newer one as it appears."""
PLAY_ENVS = 4
"""Envs played (and drawn)."""


class PlayPanelModel(ObservableModel):
    """Runs to play, the chosen checkpoint, one live play at a time and its returns.

    Args:
        runs_dir: Root of the run directories.
        device: Device of the played env (None: CUDA when available, else CPU).
        num_envs: Envs played.
        tasks: Task files or modules to load (a run's recorded ones are loaded anyway).
    """

    def __init__(self, runs_dir: str | Path = "runs", *, device: str | None = None, num_envs: int = PLAY_ENVS,
                 tasks: tuple[str, ...] = ()):
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.device = device
        self.num_envs = num_envs
        self.tasks = tuple(tasks)
        self.message = ""
        """One-line message of the last successful action."""
        self.runs: list[Any] = []
        """:class:`~stripe_kit.train.runs.RunInfo` of the runs at the last refresh, newest first."""
        self.run: str | None = None
        """The chosen run, ``<task>/<name>``."""
        self.checkpoint: str = NEWEST
        """The chosen checkpoint: :data:`NEWEST` or a name of :attr:`checkpoints`."""
        self.play: Any = None
        """The current (or last) :class:`~stripe_kit.train.live_play.LivePlay`."""
        self._seen: tuple = ()
        self._seen_episodes = 0

    # -- choosing -----------------------------------------------------------------------------------------------------

    @property
    def run_names(self) -> list[str]:
        """``<task>/<name>`` of every run, newest first."""
        return [f"{run.task}/{run.name}" for run in self.runs]

    @property
    def run_dir(self) -> Path | None:
        """Directory of the chosen run."""
        return next((run.path for run in self.runs if f"{run.task}/{run.name}" == self.run), None)

    @property
    def checkpoints(self) -> list[str]:
        """Choices for the chosen run: :data:`NEWEST`, then its checkpoints (``last``, ``best``, ``epoch_<N>``)."""
        return [NEWEST, *run_checkpoints(self.run_dir)] if self.run_dir is not None else [NEWEST]

    def refresh_runs(self) -> list[str]:
        """Read the runs under :attr:`runs_dir` (keeps the chosen run if it is still there, else the newest)."""
        try:
            from ..train.runs import list_runs

            self.runs = list_runs(self.runs_dir)[::-1]
        except Exception as exc:  # noqa: BLE001 - a bad runs dir must not break the panel
            self._fail(exc, "runs")
            return []
        names = self.run_names
        if self.run not in names:
            self.run = names[0] if names else None
            self.checkpoint = NEWEST
        self._notify(RUNS)
        return names

    def select_run(self, name: str) -> bool:
        """Choose run ``<task>/<name>`` (its newest checkpoint, followed)."""
        if name not in self.run_names:
            self.refresh_runs()
        if name not in self.run_names:
            return self._fail(f"run: got {name!r}; expected one of {', '.join(self.run_names) or '(no runs)'}")
        self.run, self.checkpoint = name, NEWEST
        return self._succeed(SELECTION, f"selected {name}")

    def select_checkpoint(self, name: str) -> bool:
        """Choose a checkpoint of the chosen run, or :data:`NEWEST`."""
        if name not in self.checkpoints:
            return self._fail(f"checkpoint: got {name!r}; expected one of {', '.join(self.checkpoints)}")
        self.checkpoint = name
        return self._succeed(SELECTION, f"checkpoint {name}")

    # -- playing ------------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a play is live (its thread alive)."""
        return self.play is not None and self.play.running

    @property
    def env(self) -> Any:
        """The played env while it plays (None otherwise)."""
        return self.play.env if self.play is not None else None

    def start(self) -> bool:
        """Play the chosen checkpoint (or follow the chosen run's newest) in a worker thread; returns at once."""
        if self.running:
            return self._fail("a play is live already; stop it first")
        run_dir = self.run_dir
        if run_dir is None:
            return self._fail("no run chosen (train one first, or refresh the run list)")
        try:
            from ..train.live_play import LivePlay

            follow = self.checkpoint == NEWEST
            source = run_dir if follow else run_dir / "nn" / f"{self.checkpoint}.pth"
            self.play = LivePlay(source, follow=follow, num_envs=self.num_envs, device=self.device,
                                 tasks=self.tasks).start()
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            return self._fail(exc, "play")
        self._seen, self._seen_episodes = (), 0
        return self._succeed(STATE, f"playing {self.run} ({self.checkpoint})")

    def stop(self) -> bool:
        """Ask the play to end after its current step; returns at once."""
        if not self.running:
            return self._fail("no play is live")
        self.play.stop()
        return self._succeed(STATE, "stopping")

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop a live play and wait at most ``timeout`` seconds for its thread; True if none is left."""
        if self.play is None:
            return True
        self.play.stop()
        self.play.wait(timeout)
        return not self.play.running

    def status(self) -> Any:
        """A snapshot of the play (:class:`~stripe_kit.train.live_play.LivePlayStatus`; ``idle`` before any)."""
        if self.play is None:
            from ..train.live_play import LivePlayStatus

            return LivePlayStatus()
        return self.play.status()

    def status_lines(self) -> list[str]:
        """Human-readable lines of the play's status."""
        s = self.status()
        lines = [f"state: {s.state}"]
        if s.checkpoint:
            epoch = f" (epoch {s.epoch})" if s.epoch is not None else ""
            swaps = f", {s.swaps} newer loaded" if s.swaps else ""
            lines.append(f"checkpoint: {Path(s.checkpoint).name}{epoch}{swaps}")
        if s.mean_return is not None:
            from ..train.live_play import RECENT

            lines.append(f"episode return: {s.mean_return:.2f} (mean of the last {min(s.episodes, RECENT)}; "
                         f"last {s.last_return:.2f})")
            lines.append(f"episodes: {s.episodes}, mean length {s.mean_length:.0f} steps")
        elif s.state == "playing":
            lines.append(f"steps: {s.steps} (no episode ended yet)")
        return lines

    def poll(self) -> Any:
        """Read the play's status; notify ``state``/``returns`` (and ``error`` when it failed) on changes."""
        status = self.status()
        key = (status.state, status.checkpoint, status.epoch, status.error)
        if key != self._seen:
            previous = self._seen[0] if self._seen else None
            self._seen = key
            if status.state == "failed" and previous != "failed":
                self.error = status.error or "play failed"
                self._notify(ERROR)
            else:
                self._notify(STATE)
        if status.episodes != self._seen_episodes:
            self._seen_episodes = status.episodes
            self._notify(RETURNS)
        return status
