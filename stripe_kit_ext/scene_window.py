"""The scene window: a thin ``omni.ui`` layer over :class:`stripe_kit.ui.ScenePanelModel`.

Everything but drawing lives in the model (fields, validation, generation, USD writing): the window builds one
widget per model field, pushes edits to the model and redraws when the model notifies it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import carb
import omni.kit.app
import omni.kit.commands
import omni.ui as ui
import omni.usd

from stripe_kit.ui.fields import Field
from stripe_kit.ui.scene_panel import ScenePanelModel

from . import commands  # noqa: F401 - registers StripeKitWriteScene and StripeKitClearScene

WINDOW_TITLE = "STRIPE-kit Scene"
"""Title of the window (also its name for ``ui.Workspace.get_window``)."""

_ERROR_STYLE = {"color": 0xFF4A4AE0}
_STATUS_STYLE = {"color": 0xFF9BC79B}
_LABEL_WIDTH = ui.Percent(42)


class SceneWindow(ui.Window):
    """Spec picker, spec fields, seed, Generate into stage, Clear, Save as scene, summary and error lines.

    Args:
        model: The view-model to draw; one is made (with the showcase specs) when None.
        title: Window title.
        scenes_dir: Folder where the save dialog starts.
    """

    def __init__(self, model: ScenePanelModel | None = None, title: str = WINDOW_TITLE, scenes_dir: str = "",
                 **kwargs):
        kwargs.setdefault("width", 440)
        kwargs.setdefault("height", 720)
        super().__init__(title, **kwargs)
        self.model = model if model is not None else ScenePanelModel()
        self._syncs: list[Callable[[], None]] = []
        self._syncing = False
        self._error_label: ui.Label | None = None
        self._status_label: ui.Label | None = None
        self._summary_label: ui.Label | None = None
        self._save_path: ui.StringField | None = None
        self.scenes_dir = scenes_dir or os.path.expanduser("~")
        self._file_picker = None
        self.busy_task: asyncio.Future | None = None
        """The running generation (an asyncio task on Kit's loop), or None."""
        self._unsubscribe = self.model.subscribe(self._on_model_event)
        self.frame.set_build_fn(self._build)

    def destroy(self) -> None:
        """Stop listening to the model and release the widgets."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._syncs = []
        self._error_label = self._status_label = self._summary_label = None
        if self._file_picker is not None:
            self._file_picker.destroy()
            self._file_picker = None
        super().destroy()

    # -- model events -------------------------------------------------------------------------------------------------

    def _on_model_event(self, event: str) -> None:
        if event in ("specs", "selection"):
            self.frame.rebuild()
        else:
            self._sync()

    def _sync(self) -> None:
        """Push the model's values and messages into the widgets (without echoing edits back)."""
        self._syncing = True
        try:
            for sync in self._syncs:
                sync()
        finally:
            self._syncing = False
        if self._error_label is not None:
            self._error_label.text = self.model.error or ""
            self._status_label.text = "" if self.model.error else self.model.status
            summary = self.model.summary
            stale = "" if self.model.is_current or summary is None else "  (settings changed since)"
            self._summary_label.text = "\n".join(summary.lines()) + stale if summary else "Not generated yet."

    # -- layout -------------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self._syncs = []
        model = self.model
        with ui.ScrollingFrame(horizontal_scrollbar_policy=ui.ScrollBarPolicy.SCROLLBAR_ALWAYS_OFF):
            with ui.VStack(spacing=6, height=0):
                with ui.HStack(height=0):
                    ui.Label("Scene spec", width=_LABEL_WIDTH)
                    names = model.spec_names
                    index = names.index(model.selected) if model.selected in names else 0
                    combo = ui.ComboBox(index, *names, identifier="stripe_spec_combo")
                    combo.model.get_item_value_model().add_value_changed_fn(
                        lambda m, names=names: model.select(names[m.as_int]) if 0 <= m.as_int < len(names) else None)
                for group, fields in (model.form.groups() if model.form else {}).items():
                    fields = [f for f in fields if f.name != "seed"]
                    if not fields:
                        continue
                    with ui.CollapsableFrame(_group_title(group), height=0, collapsed=group.startswith("assets.")):
                        with ui.VStack(spacing=3, height=0):
                            for field in fields:
                                self._field_row(field)
                ui.Separator(height=6)
                if model.form is not None and "seed" in model.form:
                    self._field_row(model.field("seed"))
                with ui.HStack(height=0):
                    ui.Label("Root prim", width=_LABEL_WIDTH, tooltip="Prim path the scene is written under")
                    root = ui.StringField(identifier="stripe_root_path")
                    root.model.set_value(model.root_path)
                    root.model.add_end_edit_fn(
                        lambda m: setattr(model, "root_path", m.as_string.strip() or model.root_path))
                with ui.HStack(height=30, spacing=4):
                    ui.Button("Generate into stage", clicked_fn=self._on_generate, identifier="stripe_generate",
                              tooltip="Generate the scene with this seed and write it into the open stage")
                    ui.Button("Clear", clicked_fn=self._on_clear, identifier="stripe_clear", width=70,
                              tooltip="Remove the scene's root prim from the open stage")
                    ui.Button("Reset", clicked_fn=model.reset, identifier="stripe_reset", width=70,
                              tooltip="Restore the spec's registered values")
                with ui.HStack(height=24, spacing=4):
                    self._save_path = ui.StringField(identifier="stripe_save_path")
                    self._save_path.model.set_value(os.path.join(self.scenes_dir, "scene.usda"))
                    ui.Button("...", clicked_fn=self._pick_save_path, identifier="stripe_save_browse", width=30,
                              tooltip="Choose where to save with Kit's file picker")
                    ui.Button("Save as scene", clicked_fn=self._on_save, identifier="stripe_save", width=110,
                              tooltip="Write the open stage (what you built or edited) to a USD file that "
                                      "UsdSceneSpec loads as a training scene")
                self._error_label = ui.Label("", word_wrap=True, style=_ERROR_STYLE, identifier="stripe_error")
                self._status_label = ui.Label("", word_wrap=True, style=_STATUS_STYLE, identifier="stripe_status")
                self._summary_label = ui.Label("", word_wrap=True, identifier="stripe_summary")
        self._sync()

    def _field_row(self, field: Field) -> None:
        """One labelled widget bound to a model field."""
        with ui.HStack(height=0, spacing=4):
            label = ui.Label(field.label, width=_LABEL_WIDTH, tooltip=f"{field.name}\n{field.tooltip}".strip())
            if field.read_only:
                value_label = ui.Label(field.text)
                self._syncs.append(lambda: setattr(value_label, "text", field.text))
            elif field.kind == "range":
                widget = ui.IntField if field.item_type is int else ui.FloatField
                low, high = widget(identifier=f"{field.name}.min"), widget(identifier=f"{field.name}.max")

                def commit(_model, low=low, high=high):
                    if not self._syncing:
                        read = "as_int" if field.item_type is int else "as_float"
                        field.set((getattr(low.model, read), getattr(high.model, read)))

                for side in (low, high):
                    side.model.add_end_edit_fn(commit)
                self._syncs.append(lambda: (low.model.set_value(field.value[0]), high.model.set_value(field.value[1])))
            else:
                widget, read = {
                    "float": (ui.FloatField, "as_float"),
                    "int": (ui.IntField, "as_int"),
                    "bool": (ui.CheckBox, "as_bool"),
                    "str": (ui.StringField, "as_string"),
                }[field.kind]
                editor = widget(identifier=field.name, tooltip=field.tooltip)
                add = editor.model.add_value_changed_fn if field.kind == "bool" else editor.model.add_end_edit_fn
                add(lambda m, read=read: None if self._syncing else field.set(getattr(m, read)))
                self._syncs.append(lambda: editor.model.set_value(field.value))
            self._syncs.append(lambda: setattr(label, "style", _ERROR_STYLE if field.error else {}))

    # -- actions ------------------------------------------------------------------------------------------------------

    def _on_generate(self) -> None:
        if self.busy_task is None or self.busy_task.done():
            self.busy_task = asyncio.ensure_future(self.generate_async())

    async def generate_async(self) -> bool:
        """Generate off the UI thread (Kit's loop stays live), write through the undoable ``StripeKitWriteScene``
        command, let the stage update, then frame the viewport on the scene."""
        model = self.model
        root_path = model.root_path
        if not model.is_current and await model.generate_async() is None:
            return False
        stage = omni.usd.get_context().get_stage()
        if stage is None:
            return model.write_to_stage(None)  # sets the "no open USD stage" error
        ok, written = omni.kit.commands.execute("StripeKitWriteScene", model=model, stage=stage, root_path=root_path)
        if not (ok and written):
            return False
        for _ in range(2):  # Hydra and the viewport see the new prims only after an update
            await omni.kit.app.get_app().next_update_async()
        _frame_viewport(root_path)
        return True

    def _on_clear(self) -> None:
        omni.kit.commands.execute("StripeKitClearScene", model=self.model, stage=omni.usd.get_context().get_stage(),
                                  root_path=self.model.root_path)

    def _on_save(self) -> None:
        self.model.save_as_scene(omni.usd.get_context().get_stage(), self._save_path.model.get_value_as_string())

    def _pick_save_path(self) -> None:
        """Kit's file picker, for the path of "Save as scene"."""
        from omni.kit.window.filepicker import FilePickerDialog

        def apply(filename: str, dirname: str) -> None:
            if filename:
                path = os.path.join(dirname, filename)
                if not os.path.splitext(path)[1]:
                    path += ".usda"
                self._save_path.model.set_value(path)
            self._file_picker.hide()

        if self._file_picker is not None:  # made anew each time (as isaacsim.asset.gen.omap.ui does)
            self._file_picker.destroy()
        self._file_picker = FilePickerDialog(
            "Save STRIPE-kit scene", allow_multi_selection=False, apply_button_label="Use this path",
            click_apply_handler=apply, click_cancel_handler=lambda filename, dirname: self._file_picker.hide(),
        )
        # start in the folder of the current path, else scenes_dir; as isaacsim.asset.transformer.ui's window.py:
        # show, then navigate on the next update (the browser widget is not ready in the frame of show())
        directory = os.path.dirname(self._save_path.model.get_value_as_string().strip())
        if not os.path.isdir(directory):
            directory = self.scenes_dir
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                carb.log_warn(f"[stripe_kit_ext] could not make {directory}: {exc}")
        directory = directory.rstrip(os.sep) + os.sep
        picker = self._file_picker
        picker.show()

        async def navigate() -> None:
            await omni.kit.app.get_app().next_update_async()
            if picker is self._file_picker and os.path.isdir(directory):
                picker.set_current_directory(directory)
                picker.navigate_to(directory)
                picker.refresh_current_directory()

        asyncio.ensure_future(navigate())


def _group_title(group: str) -> str:
    if not group:
        return "Scene"
    if group.startswith("assets."):
        return f"Asset: {group.split('.', 1)[1]}"
    return group.replace(".", " / ").title()


def _frame_viewport(prim_path: str) -> None:
    """Frame the active viewport on ``prim_path``, if the viewport utility extension is loaded."""
    try:
        from omni.kit.viewport.utility import frame_viewport_prims, get_active_viewport
    except ImportError:
        return
    try:
        viewport = get_active_viewport()
        if viewport is not None:
            frame_viewport_prims(viewport, prims=[prim_path])
    except Exception as exc:  # noqa: BLE001 - framing is a convenience
        carb.log_warn(f"[stripe_kit_ext] could not frame {prim_path}: {exc}")
