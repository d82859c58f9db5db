"""An undoable edit of one prim subtree of a stage: what a Kit command's do/undo delegates to (Ctrl+Z in Isaac Sim).

:class:`SubtreeEdit` snapshots, in the stage's edit target layer, the spec of ``root_path`` (with everything under
it), which of its ancestors have specs, and the layer's ``upAxis``/``metersPerUnit``/``defaultPrim``, before and
after running a writer (e.g. :meth:`ScenePanelModel.write_to_stage`, or a clear). :meth:`SubtreeEdit.undo` and
:meth:`SubtreeEdit.do` (the second time on: redo) put a snapshot back with Sdf copies, without running the writer
again. Nothing here imports omni, carb or isaacsim; pxr only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_METADATA = ("upAxis", "metersPerUnit", "defaultPrim")


class _Snapshot:
    def __init__(self, layer: Any, root_path: str):
        from pxr import Sdf

        self.path = Sdf.Path(root_path)
        self.copy = None
        if layer.GetPrimAtPath(self.path):
            self.copy = Sdf.Layer.CreateAnonymous("stripe_kit_subtree")
            Sdf.CreatePrimInLayer(self.copy, self.path)
            Sdf.CopySpec(layer, self.path, self.copy, self.path)
        self.ancestors = {str(p): bool(layer.GetPrimAtPath(p)) for p in self.path.GetParentPath().GetPrefixes()}
        self.ancestor_types = {str(p): (layer.GetPrimAtPath(p).typeName if layer.GetPrimAtPath(p) else "")
                               for p in self.path.GetParentPath().GetPrefixes()}
        root = layer.pseudoRoot
        self.metadata = {key: (root.GetInfo(key) if root.HasInfo(key) else None) for key in _METADATA}

    def restore(self, layer: Any) -> None:
        from pxr import Sdf

        if layer.GetPrimAtPath(self.path):
            _remove(layer, self.path)
        for path, existed in self.ancestors.items():
            if existed and not layer.GetPrimAtPath(path):
                spec = Sdf.CreatePrimInLayer(layer, path)
                spec.specifier = Sdf.SpecifierDef
                spec.typeName = self.ancestor_types[path]
        if self.copy is not None:
            Sdf.CreatePrimInLayer(layer, self.path)
            Sdf.CopySpec(self.copy, self.path, layer, self.path)
        for path in sorted(self.ancestors, key=len, reverse=True):  # deepest first
            spec = layer.GetPrimAtPath(path)
            if not self.ancestors[path] and spec and not spec.nameChildren:
                _remove(layer, Sdf.Path(path))
        root = layer.pseudoRoot
        for key, value in self.metadata.items():
            if value is None:
                if root.HasInfo(key):
                    root.ClearInfo(key)
            else:
                root.SetInfo(key, value)


def _remove(layer: Any, path: Any) -> None:
    from pxr import Sdf

    edit = Sdf.BatchNamespaceEdit()
    edit.Add(Sdf.NamespaceEdit.Remove(path))
    if not layer.Apply(edit):
        raise RuntimeError(f"could not remove {path} from {layer.identifier}")


class SubtreeEdit:
    """Run ``write(stage)`` once as an undoable edit of ``root_path``'s subtree in the edit target layer.

    Args:
        stage: The stage.
        root_path: The prim whose subtree ``write`` changes (created, replaced or removed).
        write: The writer; its return value is kept in :attr:`result` (a falsy result leaves nothing to undo).
    """

    def __init__(self, stage: Any, root_path: str, write: Callable[[Any], Any]):
        self.stage, self.root_path, self.write = stage, root_path, write
        self.result: Any = None
        self._layer = None
        self._before: _Snapshot | None = None
        self._after: _Snapshot | None = None

    def do(self) -> Any:
        """The first time: snapshot, write, snapshot. Later (redo): put the after-snapshot back. Returns the result."""
        if self._after is not None:
            self._after.restore(self._layer)
            return self.result
        self._layer = self.stage.GetEditTarget().GetLayer()
        self._before = _Snapshot(self._layer, self.root_path)
        self.result = self.write(self.stage)
        self._after = _Snapshot(self._layer, self.root_path)
        return self.result

    def undo(self) -> None:
        """Put the before-snapshot back (nothing before :meth:`do`)."""
        if self._before is not None and self._after is not None:
            self._before.restore(self._layer)


__all__ = ["SubtreeEdit"]
