"""View-model of the training panel: pick a task, set the options, start and stop a run, watch it, list the runs.

:class:`TrainingPanelModel` holds no widgets and wraps one :class:`~stripe_kit.train.session.TrainingSession` at a
time. Front ends (the Kit window ``stripe_kit_ext.training_window``, the browser GUI :mod:`stripe_kit.ui.web`) call
:meth:`TrainingPanelModel.poll` from their own thread (once per frame or on a timer); the model then notifies its
observers of what changed. Actions meant for buttons never raise: a failure sets :attr:`TrainingPanelModel.error`
(one line) and keeps the options and the metric history as they were.

Nothing here imports omni, carb or isaacsim; Isaac Lab is imported only when a run starts or the task list is read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..train.frontend import FRONTENDS
from .fields import error_message
from .observable import ERROR, ObservableModel

logger = logging.getLogger(__name__)

TASKS, SELECTION, OPTION, STATE, METRICS, RUNS = "tasks", "selection", "option", "state", "metrics", "runs"
"""Events passed to observers: task list read, another task selected, an option set (or refused), the run's state
changed, new per-epoch metrics, the run list refreshed; and :data:`~stripe_kit.ui.observable.ERROR`, an action failed."""

DEFAULT_TASK = "Stripe-Forest-Walk-Ant"


class OptionField:
    """One training option with its text, parsed value (None: the task's default) and last one-line error.

    Args:
        name: Option name of :class:`~stripe_kit.train.plan.TrainOptions`.
        kind: ``"int"`` or ``"str"``.
        minimum, maximum: Bounds of an ``"int"`` option.
        choices: Accepted values of a ``"str"`` option (None: any).
        value: Initial value.
    """

    def __init__(self, name: str, kind: str, label: str, tooltip: str = "", *, minimum: int | None = None,
                 maximum: int | None = None, choices: Sequence[str] | None = None, value: Any = None):
        self.name, self.kind, self.label, self.tooltip = name, kind, label, tooltip
        self.minimum, self.maximum, self.choices = minimum, maximum, tuple(choices) if choices else None
        self.value: Any = value
        """Parsed value; None means the default of the task (or of TrainOptions)."""
        self.error: str | None = None
        """One-line message of the last refused :meth:`set`; None after a successful one."""

    def __repr__(self) -> str:
        return f"OptionField({self.name!r}, value={self.value!r}{', error' if self.error else ''})"

    @property
    def text(self) -> str:
        """The value as text (empty for the default)."""
        return "" if self.value is None else str(self.value)

    def parse(self, value: Any) -> Any:
        """Parse a value or its text; empty text or None means the default.

        Raises:
            SpecError: Naming the option and what is accepted.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == "int":
            accepted = f"an integer in [{self.minimum}, {self.maximum}] (empty: default)"
            if isinstance(value, bool):
                raise SpecError(self.name, value, accepted)
            try:
                number = int(value.strip()) if isinstance(value, str) else value
                if isinstance(number, float):
                    if not number.is_integer():
                        raise ValueError(value)
                    number = int(number)
                if not isinstance(number, int):
                    raise ValueError(value)
            except (TypeError, ValueError):
                raise SpecError(self.name, value, accepted) from None
            if (self.minimum is not None and number < self.minimum) or (
                    self.maximum is not None and number > self.maximum):
                raise SpecError(self.name, value, accepted)
            return number
        text = str(value).strip()
        if self.choices and text not in self.choices and not (
                self.name == "device" and text.split(":")[0] == "cuda" and "cuda" in self.choices):
            raise SpecError(self.name, value, f"one of {', '.join(self.choices)}")
        return text

    def set(self, value: Any) -> bool:
        """Set from a value or its text; on failure the old value stays and :attr:`error` is set."""
        try:
            self.value = self.parse(value)
        except SpecError as exc:
            self.error = error_message(exc, self.name)
            return False
        self.error = None
        return True


@dataclasses.dataclass
class MetricHistory:
    """Per-epoch metrics of the current (or last) run, oldest first."""

    epochs: list[int] = dataclasses.field(default_factory=list)
    rewards: list[float | None] = dataclasses.field(default_factory=list)
    """Mean return of the finished episodes at each epoch (None before any episode ended)."""
    episode_lengths: list[float | None] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epochs)

    def copy(self) -> MetricHistory:
        return MetricHistory(list(self.epochs), list(self.rewards), list(self.episode_lengths))


@dataclasses.dataclass
class LoopDriver:
    """How a front end with its own event loop hosts the env (Isaac Sim: Kit's main thread).

    With a driver, :meth:`TrainingPanelModel.start` makes a :class:`~stripe_kit.train.stepper.SteppedTraining` and
    hands the coroutine of its :meth:`~stripe_kit.train.stepper.SteppedTraining.run` to :attr:`schedule`; the env
    is built, stepped (one step per ``next_update()``) and closed on that loop's thread.
    """

    next_update: Callable[[], Awaitable[Any]]
    """Awaited between two env steps (Kit: ``omni.kit.app.get_app().next_update_async``)."""
    schedule: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.ensure_future
    """Runs the serving coroutine on the loop (Kit: ``asyncio.ensure_future`` on Kit's loop); returns its task."""
    stage: Callable[[], Any] | None = None
    """Returns the USD stage to build the env in, under its own prims (Kit: omni.usd's open stage); None: Isaac
    Lab's own stage."""


def registered_tasks() -> list[str]:
    """Ids of the registered tasks (loads the installed task packages; imports Isaac Lab, never Kit)."""
    from ..task.spec import REGISTERED
    from ..train.tasks import load_tasks

    load_tasks()
    return sorted(REGISTERED)


class TrainingPanelModel(ObservableModel):
    """Task, options, one training session at a time, its live status, metric history and the run list.

    Args:
        tasks: Task ids to offer; the registered tasks (:func:`registered_tasks`) when None.
        runs_dir: Root of the run directories.
        overrides: Config overrides ``key=value`` passed to every run (see :mod:`stripe_kit.train.overrides`).
        device: Initial device option (None: CUDA when available, else CPU).
        physics: Initial physics option, ``newton`` or ``physx`` (None: the task's own, Newton for the showcase
            tasks); the Kit extension starts with ``physx``, Isaac Sim's own physics.
        loop_driver: Host the env on a front end's event loop (:class:`LoopDriver`); None: in the session's worker
            thread with the learner (:class:`~stripe_kit.train.session.TrainingSession`).
    """

    def __init__(self, tasks: Sequence[str] | None = None, *, runs_dir: str | Path = "runs",
                 overrides: Sequence[str] = (), device: str | None = None, physics: str | None = None,
                 loop_driver: LoopDriver | None = None):
        super().__init__()
        self.loop_driver = loop_driver
        """Where the env lives (see :class:`LoopDriver`); None: the training thread."""
        self.headless: Any = None
        """The current (or last) :class:`~stripe_kit.train.headless.HeadlessRun` when the last start was headless."""
        self.serving_task: Any = None
        """The scheduled serving task of a loop-driven run (what :attr:`LoopDriver.schedule` returned)."""
        self.runs_dir = str(runs_dir)
        """Root of the run directories."""
        self.overrides: tuple[str, ...] = tuple(overrides)
        """Config overrides passed to every run."""
        self.message: str = ""
        """One-line message of the last successful action."""
        self.options: dict[str, OptionField] = {
            field.name: field for field in (
                OptionField("num_envs", "int", "Num envs", "Environments (empty: the task's default)",
                            minimum=1, maximum=65536),
                OptionField("device", "str", "Device", "cpu, cuda or cuda:N (empty: CUDA when available)",
                            choices=("cpu", "cuda"), value=device),
                OptionField("physics", "str", "Physics", "newton or physx (empty: the task's default)",
                            choices=("newton", "physx"), value=physics),
                OptionField("frontend", "str", "Frontend", "torch or warp, Isaac Lab's Warp frontend (empty: the "
                            "faster on the device)", choices=FRONTENDS),
                OptionField("max_iterations", "int", "Max iterations", "PPO epochs (empty: the agent's default)",
                            minimum=1, maximum=10**9),
                OptionField("seed", "int", "Seed", "Seed of the scene, env and agent (empty: 42)",
                            minimum=0, maximum=2**31 - 1),
            )
        }
        self._tasks: list[str] = list(tasks) if tasks is not None else []
        self._tasks_loaded = tasks is not None
        self._task: str | None = None
        self._lock = threading.Lock()
        self._session: Any = None
        self._history = MetricHistory()
        self._pending_reset = False
        self._seen: tuple[Any, ...] = ()
        self._seen_len = 0
        self._runs: list[Any] = []
        self.epoch_hooks: list[Callable[[dict[str, Any], Any], None]] = []
        """Called as ``hook(metrics, env)`` in the training thread after each epoch (keep them short): the place
        to read the live env, e.g. the robots' root positions for a 3D view. A failing hook is logged and dropped."""
        if self._tasks_loaded:
            self._task = DEFAULT_TASK if DEFAULT_TASK in self._tasks else next(iter(self._tasks), None)

    # -- tasks and options --------------------------------------------------------------------------------------------

    @property
    def tasks(self) -> list[str]:
        """Task ids offered (the registered ones, read on first use)."""
        if not self._tasks_loaded:
            self._tasks_loaded = True
            try:
                self._tasks = registered_tasks()
            except Exception as exc:  # noqa: BLE001 - an empty list with an error beats a broken panel
                self._fail(exc, "tasks")
            if self._task is None:
                self._task = DEFAULT_TASK if DEFAULT_TASK in self._tasks else next(iter(self._tasks), None)
            self._notify(TASKS)
        return list(self._tasks)

    @property
    def task(self) -> str | None:
        """The selected task id."""
        if self._task is None:
            self.tasks  # noqa: B018 - loads the list and selects the default
        return self._task

    def select_task(self, task: str) -> bool:
        """Select a task; False (with :attr:`error`) for unknown ids."""
        if task not in self.tasks:
            return self._fail(SpecError("task", task, f"one of {', '.join(self._tasks) or '(no tasks registered)'}"))
        self._task = task
        return self._succeed(SELECTION, f"selected {task}")

    def set_option(self, name: str, value: Any) -> bool:
        """Set an option (``num_envs``, ``device``, ``physics``, ``frontend``, ``max_iterations``, ``seed``) from a value
        or its text.

        Returns:
            True if applied; False (with :attr:`error` and the option's own error set) otherwise.
        """
        if name not in self.options:
            return self._fail(SpecError("option", name, f"one of {', '.join(self.options)}"))
        field = self.options[name]
        if not field.set(value):
            return self._fail(field.error or f"bad {name}")
        return self._succeed(OPTION, f"{name} = {field.text or '(default)'}")

    def train_options(self) -> Any:
        """The :class:`~stripe_kit.train.plan.TrainOptions` a start would use now."""
        from ..train.plan import TrainOptions

        values = {name: field.value for name, field in self.options.items()}
        return TrainOptions(task=self.task, runs_dir=self.runs_dir, overrides=self.overrides, progress="off",
                            **values)

    # -- run ----------------------------------------------------------------------------------------------------------

    @property
    def session(self) -> Any:
        """The current (or last) :class:`~stripe_kit.train.session.TrainingSession`, or None."""
        return self._session

    @property
    def running(self) -> bool:
        """Whether a run is live (starting, running or stopping), in this process or a headless one."""
        if self.headless is not None:
            return self.headless.running
        return self._session is not None and not self._session.status().ended

    def _start_refusal(self) -> str | None:
        """Why a run cannot start now (a live run, an option in error, no task), or None."""
        if self.running:
            return "a training run is live already; stop it first"
        bad = [field.error for field in self.options.values() if field.error]
        if bad:
            return bad[0]
        if self.task is None:
            return "no task selected"
        return None

    def start_headless(self, python: str | None = None) -> bool:
        """Start the same run as a separate ``stripe-kit train`` process, watched through its run directory
        (:class:`~stripe_kit.train.headless.HeadlessRun`); :meth:`stop` sends it SIGTERM. A shutdown of the front
        end leaves it running.

        Returns:
            True if started; False (with :attr:`error` set) otherwise.
        """
        refusal = self._start_refusal()
        if refusal:
            return self._fail(refusal)
        try:
            from ..train.headless import HeadlessRun

            run = HeadlessRun(self.train_options(), python=python)
            run.start()
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            return self._fail(exc, "start")
        with self._lock:
            self.headless, self._session = run, None
            self._history = MetricHistory()
            self._pending_reset = False
        self._seen = ()
        return self._succeed(STATE, f"started {self.task} headless (pid {run.process.pid}, log {run.log_path})")

    @property
    def env(self) -> Any:
        """The live Isaac Lab env of the run (None outside it)."""
        return self._session.env if self._session is not None else None

    def start(self) -> bool:
        """Start a run with the selected task and options, in the session's worker thread.

        Returns:
            True if started; False (with :attr:`error` set, options and history kept) otherwise.
        """
        refusal = self._start_refusal()
        if refusal:
            return self._fail(refusal)
        driver = self.loop_driver
        try:
            if driver is None:
                from ..train.session import TrainingSession

                session = TrainingSession(self.train_options())
            else:
                from ..train.stepper import SteppedTraining

                session = SteppedTraining(self.train_options(), stage=driver.stage() if driver.stage else None)
            session.subscribe(self._on_metrics)
            session.start()
            if driver is not None:
                self.serving_task = driver.schedule(session.run(driver.next_update))
                if hasattr(self.serving_task, "add_done_callback"):
                    self.serving_task.add_done_callback(_retrieve)
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            return self._fail(exc, "start")
        with self._lock:
            self._session, self.headless = session, None
            self._pending_reset = True
        self._seen = ()
        return self._succeed(STATE, f"started {self.task}")

    def stop(self) -> bool:
        """Ask the run to end at the next epoch boundary, with a checkpoint; returns at once."""
        if not self.running:
            return self._fail("no training run is live")
        if self.headless is not None:
            self.headless.stop()
            return self._succeed(STATE, "SIGTERM sent: the headless run stops at the end of this epoch")
        self._session.stop()
        return self._succeed(STATE, "stopping at the end of this epoch")

    def shutdown(self, timeout: float = 10.0) -> bool:
        """The front end goes away (Kit: the extension's shutdown): ask a live run to stop at its epoch boundary and
        wait at most ``timeout`` seconds for its learner thread. A loop-driven run cannot be served any more (the
        caller is the loop's thread), so it is abandoned: the learner ends with its last epoch's checkpoint and the
        env is closed here. Returns True if no learner thread is left."""
        session = self._session
        if session is None:
            return True  # nothing in this process (a headless run goes on in its own)
        if not session.status().ended:
            session.stop()
        if hasattr(session, "abandon"):
            if self.serving_task is not None and hasattr(self.serving_task, "cancel"):
                self.serving_task.cancel()
            gone = session.abandon(timeout)
        else:
            session.wait(timeout)
            gone = not session.running
        if not gone:
            logger.warning("the training thread did not end within %.0f s of the shutdown", timeout)
        return gone

    def wait(self, timeout: float | None = None) -> Any:
        """Wait for the run to end (or ``timeout`` seconds), then :meth:`poll`; returns the status."""
        if self._session is not None:
            self._session.wait(timeout)
        return self.poll()

    def _on_metrics(self, metrics: dict[str, Any]) -> None:
        """Subscriber of the session (training thread): append to the history."""
        with self._lock:
            if self._pending_reset:
                self._history = MetricHistory()
                self._pending_reset = False
            self._history.epochs.append(int(metrics.get("epoch", len(self._history) + 1)))
            self._history.rewards.append(_number(metrics.get("mean_reward")))
            self._history.episode_lengths.append(_number(metrics.get("mean_episode_length")))
        env = self.env
        for hook in list(self.epoch_hooks):
            try:
                hook(metrics, env)
            except Exception:  # noqa: BLE001 - a front end's bug must not end the training
                logger.exception("training panel epoch hook %r failed and was removed", hook)
                self.epoch_hooks.remove(hook)

    # -- watching -----------------------------------------------------------------------------------------------------

    def status(self) -> Any:
        """A snapshot of the run (:class:`~stripe_kit.train.control.TrainStatus`; state ``idle`` before any)."""
        if self.headless is not None:
            return self.headless.status()
        if self._session is None:
            from ..train.control import TrainStatus

            return TrainStatus()
        return self._session.status()

    @property
    def history(self) -> MetricHistory:
        """A copy of the per-epoch metric history of the current (or last) run."""
        with self._lock:
            return self._history.copy()

    @property
    def progress(self) -> float:
        """Fraction of the epochs done (0 when unknown)."""
        status = self.status()
        return min(1.0, status.epoch / status.max_epochs) if status.max_epochs else 0.0

    def status_lines(self) -> list[str]:
        """Human-readable lines of the status, for display."""
        s = self.status()
        lines = [f"state: {s.state}", f"epoch: {s.epoch}" + (f" / {s.max_epochs}" if s.max_epochs else "")]
        lines.append(f"frames: {s.frames}" + (f" ({s.fps:.0f} fps)" if s.fps else ""))
        if s.mean_reward is not None:
            lines.append(f"reward: {s.mean_reward:.3f}")
        if s.mean_episode_length is not None:
            lines.append(f"episode length: {s.mean_episode_length:.1f}")
        if s.last_checkpoint:
            lines.append(f"checkpoint: {s.last_checkpoint}")
        if s.run_dir:
            lines.append(f"run dir: {s.run_dir}")
        return lines

    def poll(self) -> Any:
        """Read the run's status; notify ``state``/``metrics`` (and ``error`` when the run failed) on changes.

        Call it from the front end's thread, once per frame or on a timer. Returns the status.
        """
        status = self.status()
        if self.headless is not None and status.epoch != (self._history.epochs[-1] if self._history.epochs else 0):
            history = MetricHistory()
            for record in self.headless.metrics():
                history.epochs.append(int(record.get("epoch", len(history) + 1)))
                history.rewards.append(_number(record.get("mean_reward")))
                history.episode_lengths.append(_number(record.get("mean_episode_length")))
            with self._lock:
                self._history = history
        with self._lock:
            length = 0 if self._pending_reset else len(self._history)
        key = (status.state, status.epoch, status.last_checkpoint, status.run_dir, status.error)
        if key != self._seen:
            previous = self._seen[0] if self._seen else None
            self._seen = key
            if status.state == "failed" and previous != "failed":
                self.error = status.error or "training failed"
                self._notify(ERROR)
            elif status.ended and previous != status.state:
                self.message = f"{status.state} at epoch {status.epoch}"
                self._notify(STATE)
                self.refresh_runs()
            else:
                self._notify(STATE)
        if length != self._seen_len:
            self._seen_len = length
            self._notify(METRICS)
        return status

    # -- runs ---------------------------------------------------------------------------------------------------------

    @property
    def runs(self) -> list[Any]:
        """The runs under :attr:`runs_dir` (:class:`~stripe_kit.train.runs.RunInfo`) at the last refresh."""
        return list(self._runs)

    def refresh_runs(self) -> list[Any]:
        """Read the run list from :attr:`runs_dir`; notifies ``runs``."""
        try:
            from ..train.runs import list_runs

            self._runs = list_runs(self.runs_dir)
        except Exception as exc:  # noqa: BLE001 - a bad runs dir must not break the panel
            self._fail(exc, "runs")
            return []
        self._notify(RUNS)
        return list(self._runs)


def _retrieve(task: Any) -> None:
    """Done callback of a serving task: its error is already in the session's status; retrieve it quietly."""
    if not task.cancelled():
        task.exception()


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
