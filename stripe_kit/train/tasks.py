"""Discovery of task packages through the ``isaaclab.tasks`` entry-point group, as Isaac Lab's CLI does."""

from __future__ import annotations

import importlib.metadata

TASK_ENTRY_POINT_GROUP = "isaaclab.tasks"
"""Entry-point group that Isaac Lab's CLI loads before looking up task ids."""


def load_tasks() -> None:
    """Import every installed task package registered under :data:`TASK_ENTRY_POINT_GROUP` (STRIPE-kit's included)."""
    for entry_point in importlib.metadata.entry_points(group=TASK_ENTRY_POINT_GROUP):
        entry_point.load()
