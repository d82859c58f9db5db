"""Checkpoints: written atomically, read back with one-line errors that name the file and what is wrong.

A checkpoint is rl_games' full state (``model``, ``optimizer``, ``epoch``, ``frame``, ``last_mean_rewards``,
``env_state``) plus what an exact resume needs besides: the adaptive learning rate (``last_lr``),
``entropy_coef``, the RNG states of torch, NumPy and Python (``rng``), the terrain curriculum (``curriculum``)
and a ``stripe`` block describing the task and the network, so play and export need nothing else. Model keys are
stored without torch.compile's ``_orig_mod.`` prefix. The observation and value normalisers are part of the model.

Files are written to a hidden temporary name beside the target and renamed over it, so a process killed at any
moment leaves the previous checkpoint whole; temporary names end in ``.tmp`` and never match ``*.pth``.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import SpecError
from ..files import atomic_path

CHECKPOINT_FORMAT = 1
"""Version of the ``stripe`` block in checkpoints."""
LAST = "last.pth"
"""The newest checkpoint of a run, in ``run_dir/nn``."""
BEST = "best.pth"
"""The checkpoint with the best mean reward so far, in ``run_dir/nn``."""
COMPILE_PREFIX = "_orig_mod."


class CheckpointError(SpecError):
    """A checkpoint that cannot be read or does not fit: the message names the file and the mismatch."""

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(str(path), str(path), problem, message=problem)
        self.path = Path(path)
        self.problem = problem


def save_atomic(state: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as file:
        torch.save(state, file)
        file.flush()
        os.fsync(file.fileno())
    _fsync_dir(path.parent)
    return path


def link_atomic(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Make ``target`` a second name of ``source`` (a copy where hard links are not supported), atomically."""
    source, target = Path(source), Path(target)
    if target.exists() and os.path.samefile(source, target):
        return target  # (renaming a hard link over its twin would do nothing and leave the temporary name)
    with atomic_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
    _fsync_dir(target.parent)
    return target


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary files a killed writer left behind; returns them."""
    stale = sorted(Path(directory).glob(".*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def strip_compile_prefix(model_state: dict[str, Any]) -> dict[str, Any]:
    """Model keys as the uncompiled model names them."""
    return {key.removeprefix(COMPILE_PREFIX): value for key, value in model_state.items()}


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint onto the CPU.

    Raises:
        CheckpointError: If the file is missing, truncated, not a checkpoint, or has no model weights.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds for a damaged file
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise CheckpointError(path, f"not a readable checkpoint, truncated or corrupt ({reason})") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(path, "not an rl_games checkpoint (no 'model' weights in it)")
    if not all(isinstance(value, torch.Tensor) for value in state["model"].values()):
        raise CheckpointError(path, "its 'model' entry is not a set of weight tensors")
    state["model"] = strip_compile_prefix(state["model"])
    return state


def checkpoint_task(state: dict[str, Any]) -> str | None:
    """Task id recorded in a STRIPE-kit checkpoint (None for checkpoints written by other tools)."""
    return (state.get("stripe") or {}).get("task")


def check_task(state: dict[str, Any], path: str | os.PathLike, task: str) -> None:
    """Raise if the checkpoint was written for another task."""
    recorded = checkpoint_task(state)
    if recorded is not None and recorded != task:
        raise CheckpointError(path, f"written for task {recorded}, not {task}")


def check_model_shapes(state: dict[str, Any], path: str | os.PathLike, expected: dict[str, torch.Tensor]) -> None:
    """Raise, naming the first differing weight, if the checkpoint's model does not fit ``expected``."""
    weights = strip_compile_prefix(state["model"])
    expected = strip_compile_prefix(expected)
    missing = [key for key in expected if key not in weights]
    extra = [key for key in weights if key not in expected]
    for key, tensor in expected.items():
        if key in weights and tuple(weights[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                path,
                f"network shape mismatch: {key} is {list(weights[key].shape)} in the checkpoint but "
                f"{list(tensor.shape)} in the task's network (observation size, action size or agent.network differ)",
            )
    if missing or extra:
        detail = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise CheckpointError(
            path, f"network mismatch: {detail} ({len(missing)} missing, {len(extra)} unexpected weights)"
        )


def rng_state() -> dict[str, Any]:
    """RNG states of torch (CPU and CUDA), NumPy and Python."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any] | None) -> None:
    """Restore what :func:`rng_state` recorded (CUDA states only where the device count matches)."""
    if not state:
        return
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def curriculum_state(env: Any) -> dict[str, torch.Tensor] | None:
    """Terrain curriculum of an Isaac Lab env (levels, types, origins), or None where it has none."""
    terrain = getattr(getattr(env, "scene", None), "terrain", None)
    levels = getattr(terrain, "terrain_levels", None)
    if terrain is None or levels is None or getattr(terrain, "terrain_origins", None) is None:
        return None
    state = {
        "terrain_levels": levels.detach().cpu().clone(),
        "terrain_types": terrain.terrain_types.detach().cpu().clone(),
        "env_origins": terrain.env_origins.detach().cpu().clone(),
    }
    buffers = getattr(env, "terrain_level_buffers", None)
    if buffers is not None:  # the count of level updates seeds the next random rows
        import warp as wp

        state["level_draws"] = wp.to_torch(buffers.draws).detach().cpu().clone()
    return state


def set_curriculum_state(env: Any, state: dict[str, torch.Tensor] | None) -> bool:
    """Put a recorded terrain curriculum back; False where the env has none or a different number of envs."""
    if not state:
        return False
    terrain = getattr(getattr(env, "scene", None), "terrain", None)
    levels = getattr(terrain, "terrain_levels", None)
    if levels is None or tuple(levels.shape) != tuple(state["terrain_levels"].shape):
        return False
    levels.copy_(state["terrain_levels"].to(levels.device))
    terrain.terrain_types.copy_(state["terrain_types"].to(terrain.terrain_types.device))
    terrain.env_origins.copy_(state["env_origins"].to(terrain.env_origins.device))
    if "level_draws" in state:
        import warp as wp

        from ..task.mdp.curriculum import TerrainLevelBuffers

        wp.to_torch(TerrainLevelBuffers.of(env).draws).copy_(state["level_draws"])
    return True
