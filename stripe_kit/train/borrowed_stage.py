"""Build an Isaac Lab env inside a stage someone else owns (Isaac Sim's open stage), and give the stage back intact.

Isaac Lab 3.0 picks and owns its stage in :class:`isaaclab.sim.SimulationContext`:

* it uses the thread-local current stage (``isaaclab.sim.utils.stage._context.stage``) when set, else the first
  stage of USD's ``StageCache`` (in Kit: omni.usd's open stage), else a new in-memory stage;
* with Kit running (``has_kit()``) it registers ``isaaclab_physx.app.kit_stage.KitStageBackend``, which attaches
  that stage to omni.usd's context (when it is not attached already) and whose ``close()``, reached from
  ``env.close()`` through ``SimulationContext.clear_instance()``, calls ``omni.usd.get_context().close_stage()``;
* ``clear_instance()`` then calls ``isaaclab.sim.utils.stage.close_stage()``, which clears the whole ``StageCache``.

:func:`borrowed_stage` is entered on the thread that builds the env (Kit's main thread) and left after the env is
closed. While it is entered the env is built in ``stage`` (the thread-local current stage), the Kit backend neither
attaches another stage nor closes omni.usd's stage, and ``close_stage()`` leaves the cache alone. On leaving, the
prims the env added (its ``/World/envs``, its physics scene, ground and lights: every prim path at depth 1 or 2 that
was not there before the build and was there once it was built, see :meth:`BorrowedStage.mark_built`) are removed,
so the user's own prims are untouched, even those written during the run.

Nothing here imports omni, carb or isaacsim; Isaac Lab and pxr are imported when the context is entered.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

_KIT_STAGE_MODULE = "isaaclab_physx.app.kit_stage"


def _shallow_paths(stage: Any, depth: int = 2) -> set[str]:
    """Paths of the prims at depth 1..``depth`` (``/World``, ``/World/envs``), inactive and abstract ones included."""
    from pxr import Usd

    paths: set[str] = set()
    frontier = [stage.GetPseudoRoot()]
    for _ in range(depth):
        children = []
        for prim in frontier:
            children.extend(prim.GetFilteredChildren(Usd.TraverseInstanceProxies(Usd.PrimAllPrimsPredicate)))
        paths.update(str(child.GetPath()) for child in children)
        frontier = children
    return paths


def _patch_kit_backend(stage: Any, stack: contextlib.ExitStack) -> None:
    """Make the Kit stage backend leave omni.usd's context alone for ``stage`` (only when Kit's module is loaded)."""
    try:
        module = importlib.import_module(_KIT_STAGE_MODULE)
    except ImportError:  # kitless Isaac Lab: no Kit backend is ever registered
        return
    backend = module.KitStageBackend
    original_init, original_close = backend.__init__, backend.close

    def init(self, cfg):  # noqa: ANN001 - signature of KitStageBackend.__init__
        self._stripe_borrowed = cfg.stage is stage
        if not self._stripe_borrowed:
            original_init(self, cfg)

    def close(self):  # noqa: ANN001
        if not getattr(self, "_stripe_borrowed", False):
            original_close(self)

    backend.__init__, backend.close = init, close

    def restore() -> None:
        backend.__init__, backend.close = original_init, original_close

    stack.callback(restore)


class BorrowedStage:
    """What :func:`borrowed_stage` yields: the stage and the prim paths the env added to it."""

    def __init__(self, stage: Any):
        self.stage = stage
        self.before = _shallow_paths(stage)
        """Prim paths at depth 1-2 before the build."""
        self.env_paths: set[str] | None = None
        """Paths the env added (set by :meth:`mark_built`)."""

    def mark_built(self) -> None:
        """Record the prims the env added; call it right after the build, before the user can edit again."""
        self.env_paths = _shallow_paths(self.stage) - self.before

    def remove_env_prims(self) -> list[str]:
        """Remove the env's prims (all new ones if :meth:`mark_built` was never called); the removed roots."""
        added = self.env_paths if self.env_paths is not None else _shallow_paths(self.stage) - self.before
        roots = sorted(p for p in added if not any(p.startswith(q + "/") for q in added))
        for path in roots:
            if self.stage.GetPrimAtPath(path):
                self.stage.RemovePrim(path)
        return roots


@contextlib.contextmanager
def borrowed_stage(stage: Any) -> Iterator[BorrowedStage]:
    """Build and close an Isaac Lab env in ``stage`` without Isaac Lab attaching, closing or uncaching it.

    Enter it on the thread that builds the env, before ``gym.make``, and leave it after ``env.close()``. Only one
    env can live at a time (SimulationContext is a singleton), so the patched Isaac Lab hooks are the process's for
    that time.

    Yields:
        A :class:`BorrowedStage`; call its :meth:`~BorrowedStage.mark_built` once the env is built.
    """
    from isaaclab.sim.utils import stage as stage_utils
    from pxr import UsdUtils

    cache = UsdUtils.StageCache.Get()
    was_cached = cache.Contains(stage)
    borrowed = BorrowedStage(stage)
    previous_current = getattr(stage_utils._context, "stage", None)
    original_close_stage = stage_utils.close_stage

    def close_stage() -> bool:
        """Isaac Lab's close_stage without clearing the cache (which holds omni.usd's stage)."""
        if not was_cached and cache.Contains(stage):
            cache.Erase(stage)
        stage_utils._context.stage = None
        return True

    with contextlib.ExitStack() as stack:
        stage_utils._context.stage = stage
        stage_utils.close_stage = close_stage
        stack.callback(setattr, stage_utils, "close_stage", original_close_stage)
        _patch_kit_backend(stage, stack)
        try:
            yield borrowed
        finally:
            stage_utils._context.stage = previous_current
            roots = borrowed.remove_env_prims()
            if roots:
                logger.info("removed the env's prims from the borrowed stage: %s", ", ".join(roots))


__all__ = ["BorrowedStage", "borrowed_stage"]
