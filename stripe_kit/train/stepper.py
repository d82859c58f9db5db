"""Training whose env lives on an event loop's thread: the stepping driver for Isaac Sim's main thread.

Inside Isaac Sim the env must be built and stepped on Kit's main thread, and that thread must keep updating the app
(the viewport, the UI) while training runs. :class:`SteppedTraining` follows OmniIsaacGymEnvs' extension workflow:
rl_games trains in a worker thread, through the very same :func:`~stripe_kit.train.runner.train` code path as
``stripe-kit train`` (run directory, checkpoints every epoch, metrics, resume, stop at the epoch boundary), but its
env is a proxy: each ``step(actions)`` or ``reset()`` is a request that the worker posts and waits on. The coroutine
:meth:`SteppedTraining.run`, running on the event loop's thread, builds the env there, serves each request with
exactly one env step (or reset), then awaits ``next_update()`` before the next one, so the loop never waits on more
than one env step. It closes the env there when the run ends.

.. code-block:: python

    # in Isaac Sim (a Kit extension, or the script editor)
    import asyncio, omni.kit.app
    from stripe_kit.train.stepper import SteppedTraining

    training = SteppedTraining(TrainOptions(num_envs=64, max_iterations=200)).start()
    task = asyncio.ensure_future(training.run(omni.kit.app.get_app().next_update_async))
    ...
    training.stop()   # ends at the next epoch boundary with nn/last.pth; run() then closes the env and returns

    # anywhere else (the tests, a browser GUI's server): any asyncio loop
    asyncio.run(training.run(lambda: asyncio.sleep(0)))

The env build is one call on the loop's thread (Isaac Lab builds the scene, the simulation and the managers in one
``gym.make``); the loop, and so Kit's UI, is frozen for its duration (seconds to minutes with many envs), and for
the env's close at the end. Between requests (while the worker computes actions or runs PPO's update) the coroutine
is parked and the loop is free.

While the loop is parked the worker also reads the env directly: checkpoints record the terrain curriculum, a resume
puts it back, and metric subscribers see ``training.env``; none of that runs while the loop steps the env.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .console import thread_stdout_to
from .plan import RunPlan, RunResult, TrainOptions
from .runner import build_env, train
from .session import TrainingSession


class SteppingEnded(RuntimeError):
    """The serving coroutine ended (cancelled, or the loop stopped) while the learner still needed the env."""


@dataclasses.dataclass
class StepperStats:
    """What the loop's thread did for the learner: the env build, the steps it served and the close."""

    build_thread: int | None = None
    """``threading.get_ident()`` of the thread that built the env."""
    step_threads: set[int] = dataclasses.field(default_factory=set)
    """Threads that stepped or reset the env (the loop's thread only)."""
    close_thread: int | None = None
    build_s: float | None = None
    close_s: float | None = None
    steps: int = 0
    """Env steps and resets served."""
    step_s_total: float = 0.0
    step_s_max: float = 0.0

    @property
    def step_s_mean(self) -> float | None:
        return self.step_s_total / self.steps if self.steps else None


class _SteppedVecEnv:
    """The vec env rl_games sees in the worker thread: step and reset go to the loop's thread, the rest is read
    directly from Isaac Lab's :class:`RlGamesVecEnvWrapper` (spaces, env info: plain attributes)."""

    def __init__(self, wrapped: Any, call: Callable[..., Any]):
        self._wrapped = wrapped
        self._call = call

    def step(self, actions):
        return self._call("step", actions)

    def reset(self):
        return self._call("reset")

    def close(self) -> None:
        """Nothing: the env is closed on the loop's thread when the run ends."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_wrapped", "_call"):
            raise AttributeError(name)
        return getattr(self._wrapped, name)


class _LoopEnvHost:
    """The :class:`~stripe_kit.train.runner.EnvHost` of a SteppedTraining: the env is built and closed by its
    :meth:`~SteppedTraining.run`, on the loop's thread, while the learner waits."""

    def __init__(self, training: SteppedTraining):
        self._training = training

    def open(self, plan: RunPlan, launcher_args: dict, console: Path) -> tuple[Any, Any]:
        """Returns (unwrapped env, the proxy vec env)."""
        return self._training._call("build", plan, launcher_args, console)

    def close(self) -> None:
        try:
            self._training._call("close")
        except SteppingEnded:
            pass  # run() closed the env when it ended


class SteppedTraining(TrainingSession):
    """A training run whose env is built, stepped and closed by :meth:`run` on an event loop's thread.

    The learner (rl_games) runs in a worker thread started by :meth:`start`; :meth:`stop`, :meth:`status`,
    :meth:`wait` and :meth:`subscribe` work as in :class:`~stripe_kit.train.session.TrainingSession`. Nothing
    is simulated until :meth:`run` is awaited on the thread that is to own the env (Kit's main thread in Isaac Sim).

    Args:
        options: The run's options.
        stage: A USD stage owned by someone else (in Isaac Sim: ``omni.usd.get_context().get_stage()``) to build the
            env in, under its own prims (``/World/envs``, the physics scene, ground, lights); they are removed after
            the env is closed and Isaac Lab never attaches, closes or uncaches that stage. None: Isaac Lab's choice.
    """

    def __init__(self, options: TrainOptions, stage: Any = None):
        super().__init__(options)
        self.stage = stage
        """The USD stage the env is built in (Isaac Sim's open stage; see
        :func:`~stripe_kit.train.borrowed_stage.borrowed_stage`), or None: the stage Isaac Lab picks."""
        self._lock = threading.Lock()
        self._requests: collections.deque[tuple[str, tuple, concurrent.futures.Future]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None
        self._serving_ended: str | None = None
        self._learner_done = False
        self._outcome: RunResult | BaseException | None = None
        self._stack = contextlib.ExitStack()
        self._vec_env: Any = None
        self._console: Path | None = None
        self._run_called = False
        self._loop_thread: int | None = None
        self.stats = StepperStats()

    # the learner's side (worker thread)
    def _train(self) -> RunResult:
        try:
            result = train(self.options, self._control, env_host=_LoopEnvHost(self))
            self._outcome = result
            return result
        except BaseException as error:
            self._outcome = error
            raise
        finally:
            with self._lock:
                self._learner_done = True
                loop = self._loop
            self._wake(loop)

    def _call(self, kind: str, *args: Any) -> Any:
        """Post a request for the loop's thread and wait for its reply (its exception is raised here)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._loop_thread == threading.get_ident():
                raise RuntimeError("the env's own thread cannot wait on it (a deadlock); step it from the learner")
            if self._serving_ended is not None:
                raise SteppingEnded(f"the env's event loop stopped serving ({self._serving_ended})")
            self._requests.append((kind, args, future))
            loop = self._loop
        self._wake(loop)
        return future.result()

    def _wake(self, loop: asyncio.AbstractEventLoop | None) -> None:
        if loop is None:
            return  # run() has not started; it looks at the queue first
        with contextlib.suppress(RuntimeError):  # the loop is closed: run() is gone
            loop.call_soon_threadsafe(self._ready.set)

    # the loop's side
    async def run(self, next_update: Callable[[], Awaitable[Any]]) -> RunResult:
        """Build the env on this thread, serve the learner's steps until the run ends, close the env; the result.

        Each request is one env step or reset, followed by ``await next_update()`` (in Kit:
        ``omni.kit.app.get_app().next_update_async``; elsewhere e.g. ``lambda: asyncio.sleep(0)``). Call it once,
        after :meth:`start`, on the thread that is to own the env.

        Raises:
            BaseException: The learner's error when the run failed (also in :meth:`status`).
        """
        if self._thread is None:
            raise RuntimeError("call start() before run()")
        with self._lock:
            if self._run_called:
                raise RuntimeError("run() was called before on this SteppedTraining")
            self._run_called = True
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
            self._ready = asyncio.Event()
        reason = "the learner ended"
        try:
            while True:
                with self._lock:
                    request = self._requests.popleft() if self._requests else None
                    done = self._learner_done
                if request is None:
                    if done:
                        break
                    self._ready.clear()
                    with self._lock:
                        pending = bool(self._requests) or self._learner_done
                    if not pending:
                        await self._ready.wait()
                    continue
                kind, args, future = request
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(self._serve(kind, args))
                except BaseException as error:  # noqa: BLE001 - raised in the learner, which records it
                    future.set_exception(error)
                await next_update()  # the app updates (Kit: renders a frame) between any two requests
        except BaseException as error:
            reason = f"run() ended by {type(error).__name__}"
            self._control.request_stop(f"stopped: {reason}")
            raise
        finally:
            self._end_serving(reason, overwrite=True)
        thread = self._thread
        if thread is not None:
            thread.join()  # its work is over: only the session's bookkeeping is left
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def _serve(self, kind: str, args: tuple) -> Any:
        if kind in ("step", "reset"):
            started = time.perf_counter()
            result = self._vec_env.step(*args) if kind == "step" else self._vec_env.reset()
            elapsed = time.perf_counter() - started
            stats = self.stats
            stats.steps += 1
            stats.step_s_total += elapsed
            stats.step_s_max = max(stats.step_s_max, elapsed)
            stats.step_threads.add(threading.get_ident())
            return result
        if kind == "build":
            plan, launcher_args, console = args
            started = time.perf_counter()
            self.stats.build_thread = threading.get_ident()
            try:
                borrowed = None
                if self.stage is not None:
                    from .borrowed_stage import borrowed_stage

                    borrowed = self._stack.enter_context(borrowed_stage(self.stage))  # left after env.close()
                with thread_stdout_to(console):
                    env, wrapped = build_env(plan, launcher_args, self._stack)
                if borrowed is not None:
                    borrowed.mark_built()
            except BaseException:
                self._stack.close()
                raise
            self.stats.build_s = time.perf_counter() - started
            self._vec_env, self._console = wrapped, console
            return env, _SteppedVecEnv(wrapped, self._call)
        if kind == "close":
            self._close_env(route_output=True)
            return None
        raise ValueError(f"unknown request {kind!r}")

    def abandon(self, timeout: float | None = 10.0) -> bool:
        """End the run now, on the loop's thread, without serving more steps (Kit's shutdown: the loop will not tick
        again). Asks for a stop, fails the learner's pending and future requests (it ends with the checkpoint of its
        last finished epoch), closes the env here and waits up to ``timeout`` seconds for the learner thread.

        Returns:
            True if the learner thread is gone.
        """
        self._control.request_stop("stopped: the env's loop was shut down")
        self._end_serving("abandoned by its loop", overwrite=False)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _end_serving(self, reason: str, overwrite: bool) -> None:
        """Serve no more: fail every waiting request with :class:`SteppingEnded` and close the env on this thread.

        Args:
            reason: Why serving ended, for the learner's error.
            overwrite: Record ``reason`` even when an earlier one is recorded.
        """
        with self._lock:
            if overwrite or self._serving_ended is None:
                self._serving_ended = reason
            abandoned = list(self._requests)
            self._requests.clear()
        for _, _, future in abandoned:
            if future.set_running_or_notify_cancel():
                future.set_exception(SteppingEnded(f"the env's event loop stopped serving ({reason})"))
        self._close_env()

    def _close_env(self, route_output: bool = False) -> None:
        """Close the env on this thread; what it prints goes to console.log while the learner waits on the close
        (routing this thread's output is undone in order only then)."""
        if self._vec_env is None:
            return
        self._vec_env = None
        started = time.perf_counter()
        self.stats.close_thread = threading.get_ident()
        try:
            with thread_stdout_to(self._console) if route_output and self._console else contextlib.nullcontext():
                self._stack.close()
        finally:
            self.stats.close_s = time.perf_counter() - started


__all__ = ["SteppedTraining", "StepperStats", "SteppingEnded"]
