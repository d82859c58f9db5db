"""Console hygiene of training: only STRIPE-kit's own lines and real warnings reach the terminal.

* :func:`quiet_gym` imports the legacy ``gym`` package (rl_games imports it) without its two side effects on the
  whole process: the "Gym has been unmaintained since 2022" banner on stderr, and ``gym.logger``'s
  ``warnings.simplefilter("once", DeprecationWarning)``, which turned on every library's deprecation warnings
  (Isaac Lab's ``set_joint_effort_target_index``, Newton's ``Clamping``, ``torch.jit.script``...) with their
  source lines. Python's own default (deprecations shown only for ``__main__``) stays in force.
* :func:`quiet_library_notices` ignores the few warnings a library addresses to its own developers
  (:data:`LIBRARY_NOTICES`), only where that library raises them.
* :func:`thread_stdout_to` sends what the training thread prints (Isaac Lab's manager tables, rl_games' start-up
  lines and its ``MAX EPOCHS NUM!``) to the run's ``console.log`` instead of the terminal; other threads (a GUI, a
  notebook) print as before, and warnings and errors still go to stderr.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
from collections.abc import Iterator

CONSOLE_LOG = "console.log"
"""File in the run directory that receives what Isaac Lab and rl_games print during a run."""


def quiet_gym() -> None:
    """Import ``gym`` (if installed and not imported yet) without its banner or its change of warning filters."""
    if "gym" in sys.modules:
        return
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        try:
            import gym  # noqa: F401 - imported here so that rl_games' import of it has no side effects
        except ImportError:
            pass


LIBRARY_NOTICES = (
    ("Newton shape color replacement is enabled", FutureWarning, r"isaaclab_newton(\.|$)"),
)
"""(message start, category, module) of library warnings meant for the library's developers, not its users."""


def quiet_library_notices() -> None:
    """Ignore the warnings of :data:`LIBRARY_NOTICES`, each only where its library raises it."""
    for message, category, module in LIBRARY_NOTICES:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


class _ThreadRoutedStream(io.TextIOBase):
    """A text stream that sends one thread's writes to ``sink`` and every other thread's to ``stream``."""

    def __init__(self, stream, sink, thread_id: int):
        super().__init__()
        self._stream = stream
        self._sink = sink
        self._thread_id = thread_id

    def _target(self):
        return self._sink if threading.get_ident() == self._thread_id else self._stream

    def write(self, text: str) -> int:
        self._target().write(text)
        return len(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._target().isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


@contextlib.contextmanager
def thread_stdout_to(path: str | os.PathLike) -> Iterator[None]:
    """Append what this thread prints to ``path`` while the block runs; other threads print as before."""
    previous = sys.stdout
    with open(path, "a", buffering=1, encoding="utf-8") as sink:
        routed = _ThreadRoutedStream(previous, sink, threading.get_ident())
        sys.stdout = routed
        try:
            yield
        finally:
            sink.flush()
            if sys.stdout is routed:
                sys.stdout = previous
