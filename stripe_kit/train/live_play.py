"""Play a checkpoint without end, in a worker thread, for a viewer: episode returns as they come, hot-swapped policy.

:class:`LivePlay` builds the run's env (as :func:`~stripe_kit.train.play.play` does: the run's task, overrides and
physics), runs the checkpoint's deterministic policy until :meth:`LivePlay.stop`, paced to real time, and reports
the returns of the episodes that end. With ``follow=True`` it watches the run's ``nn/last.pth`` (written atomically
every epoch, so a live run's newest policy) and loads each newer one into the running policy, as mjlab's viewer
swaps checkpoints: the env goes on, the policy changes. One simulation per process: it refuses to start while a
training run (or another play) is live in the process.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

FOLLOW_PERIOD_S = 1.0
"""How often a followed run's newest checkpoint is looked at [s]."""
RECENT = 20
"""Episodes the mean return is taken over."""


@dataclasses.dataclass
class LivePlayStatus:
    """A snapshot of a :class:`LivePlay`."""

    state: str = "idle"
    """``idle``, ``starting`` (the env is being built), ``playing``, ``stopped`` or ``failed``."""
    checkpoint: str | None = None
    """The checkpoint the policy comes from."""
    epoch: int | None = None
    """Its epoch."""
    swaps: int = 0
    """Newer checkpoints loaded while playing (``follow``)."""
    steps: int = 0
    """Policy steps played."""
    episodes: int = 0
    """Episodes ended."""
    last_return: float | None = None
    """Return of the last episode to end."""
    mean_return: float | None = None
    """Mean return of the last :data:`RECENT` episodes."""
    mean_length: float | None = None
    """Their mean length [policy steps]."""
    error: str | None = None
    """One-line error of a failed play."""

    @property
    def ended(self) -> bool:
        """Whether the play is over (stopped or failed)."""
        return self.state in ("stopped", "failed")


def newest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest checkpoint of a run directory: ``nn/last.pth`` if present, else the highest ``nn/epoch_<N>.pth``."""
    nn = Path(run_dir) / "nn"
    last = nn / "last.pth"
    if last.is_file():
        return last
    epochs = sorted(nn.glob("epoch_*.pth"), key=lambda p: int(p.stem.split("_")[-1]) if p.stem[6:].isdigit() else -1)
    return epochs[-1] if epochs else None


class LivePlay:
    """Play a checkpoint's deterministic policy until stopped, in a worker thread.

    Args:
        source: A checkpoint file or a run directory (its newest checkpoint).
        follow: Load each newer checkpoint of the run as it appears (``source`` a run directory or a file in one).
        num_envs: Envs to simulate.
        device: Torch/Warp device (None: CUDA when present, else CPU).
        overrides: Overrides on top of the run's own.
        tasks: Task files or modules to load first.
        realtime: Sleep so that simulated time does not run ahead of wall time.
    """

    def __init__(self, source: str | Path, *, follow: bool = False, num_envs: int = 4, device: str | None = None,
                 overrides: tuple[str, ...] = (), tasks: tuple[str, ...] = (), realtime: bool = True):
        self.source = Path(source)
        self.follow = follow
        self.num_envs = num_envs
        self.device = device
        self.overrides = tuple(overrides)
        self.tasks = tuple(tasks)
        self.realtime = realtime
        self.env: Any = None
        """The unwrapped env while playing (None otherwise); read it only (the play thread steps it)."""
        self._status = LivePlayStatus()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_dir: Path | None = None
        self._returns: deque[float] = deque(maxlen=RECENT)
        self._lengths: deque[int] = deque(maxlen=RECENT)

    def start(self) -> LivePlay:
        """Start the play thread; returns at once."""
        self._set(state="starting")
        self._thread = threading.Thread(target=self._main, name="stripe-kit-play", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the play to end after the current step; returns at once."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> LivePlayStatus:
        """Wait for the play thread to end (or ``timeout`` seconds); returns the status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status()

    @property
    def running(self) -> bool:
        """Whether the play thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> LivePlayStatus:
        """A copy of the current status."""
        with self._lock:
            return dataclasses.replace(self._status)

    def _set(self, **values: Any) -> None:
        with self._lock:
            self._status = dataclasses.replace(self._status, **values)

    # -- play thread --------------------------------------------------------------------------------------------------

    def _main(self) -> None:
        from .runner import _RUN_LOCK, TrainingBusyError

        try:
            path, state, plan = self._prepare()
            if not _RUN_LOCK.acquire(blocking=False):
                raise TrainingBusyError("a training run is live in this process; stop it before playing")
            try:
                from isaaclab.app import launch_simulation

                error: BaseException | None = None
                with launch_simulation(plan.env_cfg, {"headless": True, "device": plan.device}):
                    try:
                        self._play(plan, state, path)
                    except BaseException as exc:  # noqa: BLE001 - raised below, once the launcher has closed
                        error = exc
                if error is not None:
                    raise error
            finally:
                _RUN_LOCK.release()
            self._set(state="stopped")
        except Exception as exc:  # noqa: BLE001 - reported in the status, one line
            self._set(state="failed", error=" ".join((str(exc) or type(exc).__name__).split()))
        finally:
            self.env = None

    def _prepare(self) -> tuple[Path, dict, Any]:
        from .checkpoint import load_checkpoint
        from .export import resolve_checkpoint
        from .play import _plan, checkpoint_run

        source = newest_checkpoint(self.source) if self.follow and self.source.is_dir() else None
        path = source or resolve_checkpoint(self.source)
        state = load_checkpoint(path)
        task, run_dir, manifest, overrides = checkpoint_run(path, state, self.tasks)
        plan = _plan(task, self.num_envs, self.device, manifest.get("seed", 42), overrides + list(self.overrides),
                     manifest.get("physics"))
        self._run_dir = run_dir
        self._set(checkpoint=str(path), epoch=state.get("epoch"))
        return path, state, plan

    def _play(self, plan: Any, state: dict, path: Path) -> None:
        import torch

        from .play import make_player

        env, wrapped, player = make_player(plan, state, path)
        try:
            unwrapped = env.unwrapped
            device = unwrapped.device
            returns_now = torch.zeros(unwrapped.num_envs, device=device)
            lengths_now = torch.zeros(unwrapped.num_envs, dtype=torch.long, device=device)
            step_dt = float(unwrapped.step_dt)
            obs = wrapped.reset()["obs"]
            self.env = unwrapped
            self._set(state="playing")
            watched = self._stamp(path)
            next_look = time.monotonic() + FOLLOW_PERIOD_S
            clock = time.monotonic()
            steps = 0
            while not self._stop.is_set():
                with torch.inference_mode():
                    actions = player.get_action(obs, is_deterministic=True)
                    obs_dict, rewards, dones, _ = wrapped.step(actions)
                    obs = obs_dict["obs"]
                    returns_now += rewards.to(device).reshape(-1)
                    lengths_now += 1
                    ended = dones.to(device).reshape(-1).nonzero().flatten()
                    if ended.numel():
                        self._returns.extend(returns_now[ended].tolist())
                        self._lengths.extend(lengths_now[ended].tolist())
                        returns_now[ended] = 0.0
                        lengths_now[ended] = 0
                steps += 1
                self._report(steps, bool(ended.numel()), int(ended.numel()))
                if self.follow and time.monotonic() >= next_look:
                    next_look = time.monotonic() + FOLLOW_PERIOD_S
                    watched = self._swap(player, watched)
                clock += step_dt
                delay = clock - time.monotonic()
                if self.realtime and delay > 0:
                    self._stop.wait(delay)
                else:
                    clock = time.monotonic()  # slower than real time: no catching up
        finally:
            self.env = None
            env.close()

    def _report(self, steps: int, ended: bool, count: int) -> None:
        with self._lock:
            status = self._status
            status.steps = steps
            if ended:
                status.episodes += count
                status.last_return = float(self._returns[-1])
                status.mean_return = float(sum(self._returns) / len(self._returns))
                status.mean_length = float(sum(self._lengths) / len(self._lengths))

    @staticmethod
    def _stamp(path: Path | None) -> tuple[str, int] | None:
        try:
            return (str(path), path.stat().st_mtime_ns) if path is not None else None
        except OSError:
            return None

    def _swap(self, player: Any, watched: tuple[str, int] | None) -> tuple[str, int] | None:
        """Load the run's newest checkpoint into ``player`` if it changed since ``watched``."""
        from .checkpoint import check_model_shapes, load_checkpoint

        run_dir = self._run_dir or (self.source if self.source.is_dir() else None)
        newest = newest_checkpoint(run_dir) if run_dir is not None else None
        stamp = self._stamp(newest)
        if stamp is None or stamp == watched:
            return watched
        try:
            state = load_checkpoint(newest)
            check_model_shapes(state, newest, player.model.state_dict())
        except Exception:  # noqa: BLE001 - half-written or incompatible: keep playing the current one, look again
            return watched
        player.model.load_state_dict(state["model"])
        player.model.eval()
        with self._lock:
            self._status.checkpoint, self._status.epoch = str(newest), state.get("epoch")
            self._status.swaps += 1
        return stamp

