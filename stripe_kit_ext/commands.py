"""Undoable Kit commands of the scene window: generation and clearing go through ``omni.kit.commands`` so that
Ctrl+Z undoes them. The snapshots and their restore are Kit-free (:class:`stripe_kit.ui.stage_edit.SubtreeEdit`)."""

from __future__ import annotations

from typing import Any

import omni.kit.commands


class StripeKitWriteScene(omni.kit.commands.Command):
    """Write the model's (already generated) scene under ``root_path`` of ``stage``; undo restores what was there.

    Args:
        model: The :class:`stripe_kit.ui.ScenePanelModel`.
        stage: The stage (``omni.usd.get_context().get_stage()``).
        root_path: Root prim of the scene.
    """

    def __init__(self, model: Any, stage: Any, root_path: str):
        from stripe_kit.ui.stage_edit import SubtreeEdit

        self._edit = SubtreeEdit(stage, root_path, lambda s: model.write_to_stage(s, root_path))

    def do(self) -> bool:
        return bool(self._edit.do())

    def undo(self) -> None:
        self._edit.undo()


class StripeKitClearScene(omni.kit.commands.Command):
    """Remove the scene under ``root_path``; undo puts it back."""

    def __init__(self, model: Any, stage: Any, root_path: str):
        from stripe_kit.ui.stage_edit import SubtreeEdit

        self._edit = SubtreeEdit(stage, root_path, lambda s: model.clear(s, root_path))

    def do(self) -> bool:
        return bool(self._edit.do())

    def undo(self) -> None:
        self._edit.undo()


# as Isaac Sim's own command modules do (e.g. isaacsim.asset.gen.conveyor/python/commands/commands.py): registered on
# import, i.e. when the scene window is first opened; run with omni.kit.commands.execute("StripeKitWriteScene", ...)
omni.kit.commands.register_all_commands_in_module(__name__)
