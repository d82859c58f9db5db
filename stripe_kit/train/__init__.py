"""Training runtime: rl_games PPO through Isaac Lab's wrapper, into self-describing run directories.

``TrainOptions`` and ``RunResult`` (:mod:`.plan`), ``train`` (:mod:`.runner`), ``TrainingSession`` and ``TrainStatus``
(:mod:`.session`) and ``SteppedTraining`` (:mod:`.stepper`) are importable from here; they are loaded on first use
(they import Isaac Lab).
"""

from __future__ import annotations

import importlib

from .console import quiet_gym, quiet_library_notices

quiet_gym()  # before anything imports rl_games, which imports gym (see .console)
quiet_library_notices()

_EXPORTS = {
    "TrainOptions": "plan",
    "RunResult": "plan",
    "train": "runner",
    "TrainingBusyError": "runner",
    "TrainingSession": "session",
    "SteppedTraining": "stepper",
    "TrainStatus": "control",
    "TrainControl": "control",
    "CheckpointError": "checkpoint",
}

__all__ = ["CheckpointError", "RunResult", "SteppedTraining", "TrainControl", "TrainOptions", "TrainStatus",
           "TrainingBusyError", "TrainingSession", "train"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
