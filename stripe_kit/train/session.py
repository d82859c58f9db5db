"""Training inside a running program (a GUI, a notebook): start, watch, stop and resume without blocking.

.. code-block:: python

    from stripe_kit.train import TrainOptions, TrainingSession

    session = TrainingSession(TrainOptions(task="Stripe-Forest-Walk-Ant", num_envs=64, max_iterations=200))
    session.subscribe(lambda metrics: print(metrics["epoch"], metrics["mean_reward"]))
    session.start()          # returns at once; the env is built and trained in a worker thread
    ...
    session.stop()           # ends at the next epoch boundary, with a checkpoint
    status = session.wait()  # TrainStatus(state='stopped', epoch=..., last_checkpoint=...)

    TrainingSession(TrainOptions(resume=status.run_dir, max_iterations=400)).start()

One session trains at a time in a process (one simulation per process); a session can start once the previous one
has ended. Errors in the worker end the session in state ``failed`` with a one-line ``error``.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from .control import MetricsCallback, TrainControl, TrainStatus
from .plan import RunResult, TrainOptions
from .runner import TrainingBusyError, one_line, train

_ACTIVE_LOCK = threading.Lock()
_ACTIVE: TrainingSession | None = None
EXIT_WAIT_S = 120.0
"""How long an exiting interpreter waits for a live session to stop at its epoch boundary."""


class TrainingSession:
    """One training run in a background thread, controlled and watched from any thread."""

    def __init__(self, options: TrainOptions):
        self.options = options
        self._control = TrainControl()
        self._thread: threading.Thread | None = None
        self._result: RunResult | None = None
        self._error: BaseException | None = None

    # life cycle
    def start(self) -> TrainingSession:
        """Start training in a worker thread and return at once.

        Raises:
            SpecError: For bad options (checked here, before the worker starts).
            TrainingBusyError: If another session of this process is live.
            RuntimeError: If this session was started before.
        """
        global _ACTIVE
        if self._thread is not None:
            raise RuntimeError("this session was started already; create a new TrainingSession")
        self.options.validate()
        with _ACTIVE_LOCK:
            if _ACTIVE is not None and _ACTIVE is not self and not _ACTIVE.status().ended:
                raise TrainingBusyError(
                    f"another training session is live in this process ({_ACTIVE.status().run_dir or 'starting'}, "
                    f"state {_ACTIVE.status().state}); stop it or wait for it to end first")
            _ACTIVE = self
            self._control.update(state="starting", max_epochs=self.options.max_iterations)
            self._thread = threading.Thread(target=self._work, name="stripe-kit-training", daemon=True)
            self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self._result = self._train()
        except BaseException as error:  # noqa: BLE001 - any failure ends in state 'failed', never a hung thread
            self._error = error
            state = "stopped" if isinstance(error, KeyboardInterrupt) else "failed"
            self._control.update(state=state, error=one_line(error))

    def _train(self) -> RunResult:
        """The run itself, in the worker thread (a subclass may host the env elsewhere)."""
        return train(self.options, self._control)

    def stop(self, wait: bool = False, timeout: float | None = None) -> TrainStatus:
        """Ask the run to end at the next epoch boundary, writing a checkpoint; optionally wait for it."""
        self._control.request_stop("stopped by TrainingSession.stop()")
        return self.wait(timeout) if wait else self.status()

    def wait(self, timeout: float | None = None) -> TrainStatus:
        """Wait until the run has ended (or ``timeout`` seconds passed); returns the status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status()

    # watching
    def status(self) -> TrainStatus:
        """A snapshot: state, epoch, frames, fps, mean reward and episode length, last checkpoint, run dir, error."""
        return self._control.status()

    def subscribe(self, callback: MetricsCallback) -> None:
        """Call ``callback(metrics)`` after every epoch, in the training thread (keep it short)."""
        self._control.subscribe(callback)

    def unsubscribe(self, callback: MetricsCallback) -> None:
        self._control.unsubscribe(callback)

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def result(self) -> RunResult | None:
        """Where the run left its outputs, once it ended without an error."""
        return self._result

    @property
    def error(self) -> BaseException | None:
        """The exception that failed the run, if any."""
        return self._error

    @property
    def env(self) -> Any:
        """The live unwrapped Isaac Lab env (None outside the run); use it only inside subscriber callbacks."""
        return getattr(self._control.context, "env", None)

    @property
    def control(self) -> TrainControl:
        """The run's stop flag, status and subscribers (also reachable through the methods above)."""
        return self._control

    def __repr__(self) -> str:
        status = self.status()
        return f"TrainingSession({status.state}, epoch {status.epoch}/{status.max_epochs}, {status.run_dir})"


def _stop_at_exit() -> None:
    """Let a live session end at its epoch boundary (with a checkpoint) when the interpreter exits."""
    with _ACTIVE_LOCK:
        session = _ACTIVE
    if session is not None and session.running:
        session.stop(wait=True, timeout=EXIT_WAIT_S)


atexit.register(_stop_at_exit)

__all__ = ["TrainOptions", "TrainStatus", "TrainingSession"]
