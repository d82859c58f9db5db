"""Kit entry point: a "STRIPE-kit" menu whose "Scene" and "Training" items open the scene and training windows.

Nothing of the library is imported at start-up: ``stripe_kit`` (and through it Isaac Lab, trimesh, scipy,
matplotlib) is imported when a window is first opened, and an import error is shown in a small window instead of
disabling the extension. Run and save paths come from the extension's settings (``config/extension.toml``).
"""

from __future__ import annotations

import asyncio
import os
import traceback
from typing import Any

import carb
import carb.settings
import carb.tokens
import omni.ext
import omni.kit.actions.core
import omni.kit.app
import omni.kit.menu.utils
import omni.ui as ui
from omni.kit.menu.utils import MenuItemDescription

MENU_NAME = "STRIPE-kit"
"""Top-level menu of the extension."""
MENU_ITEM = "Scene"
"""Menu item that opens the scene window."""
ACTION_ID = "show_scene_window"
"""Action (in this extension's name space) behind the menu item."""
TRAINING_MENU_ITEM = "Training"
"""Menu item that opens the training window."""
TRAINING_ACTION_ID = "show_training_window"
"""Action behind the training menu item."""
ERROR_WINDOW_TITLE = "STRIPE-kit"
"""Title of the window that shows why a window could not be opened (e.g. a missing package)."""
SHUTDOWN_WAIT_S = 10.0
"""How long the shutdown waits for a live training's learner thread after asking it to stop."""

_instance: StripeKitExtension | None = None


def get_extension() -> StripeKitExtension | None:
    """The running extension instance, or None when the extension is disabled."""
    return _instance


def _setting_path(ext_name: str, key: str, default: str) -> str:
    """``/exts/<ext>/<key>`` from carb settings, or ``default`` when empty; Kit tokens (``${temp}``, ``${data}``: carb
    settings do not resolve them), ``~`` and ``$VARS`` are expanded."""
    value = carb.settings.get_settings().get_as_string(f"/exts/{ext_name}/{key}") or default
    value = carb.tokens.get_tokens_interface().resolve(value)
    return os.path.abspath(os.path.expanduser(os.path.expandvars(value)))


class StripeKitExtension(omni.ext.IExt):
    """Adds the STRIPE-kit menu; the windows and their models are made on first use and dropped on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        global _instance
        self._ext_name = omni.ext.get_extension_name(ext_id)
        self._model: Any = None
        self._window: Any = None
        self._training_model: Any = None
        self._training_window: Any = None
        self._error_window: ui.Window | None = None
        self.import_error: str | None = None
        """The last error of importing the library or a window (also shown in a window)."""
        registry = omni.kit.actions.core.get_action_registry()
        registry.register_action(
            self._ext_name, ACTION_ID, lambda *_args, **_kwargs: self.show_window(),
            display_name="STRIPE-kit: Scene", description="Open the STRIPE-kit scene generator window",
            tag="STRIPE-kit",
        )
        registry.register_action(
            self._ext_name, TRAINING_ACTION_ID, lambda *_args, **_kwargs: self.show_training_window(),
            display_name="STRIPE-kit: Training", description="Open the STRIPE-kit training window",
            tag="STRIPE-kit",
        )
        self._menu_items = [
            MenuItemDescription(name=MENU_ITEM, onclick_action=(self._ext_name, ACTION_ID)),
            MenuItemDescription(name=TRAINING_MENU_ITEM, onclick_action=(self._ext_name, TRAINING_ACTION_ID)),
        ]
        omni.kit.menu.utils.add_menu_items(self._menu_items, MENU_NAME)
        _instance = self

    def on_shutdown(self) -> None:
        global _instance
        _instance = None
        omni.kit.menu.utils.remove_menu_items(self._menu_items, MENU_NAME)
        self._menu_items = []
        omni.kit.actions.core.get_action_registry().deregister_all_actions_for_extension(self._ext_name)
        for window in (self._window, self._training_window, self._error_window):
            if window is not None:
                window.destroy()
        self._window = self._training_window = self._error_window = None
        self._model = None
        if self._training_model is not None:
            # stop at the epoch boundary; an in-process run is abandoned (Kit's loop will not step it again) with the
            # checkpoint of its last epoch; the learner thread is waited for, at most SHUTDOWN_WAIT_S
            if not self._training_model.shutdown(timeout=SHUTDOWN_WAIT_S):
                carb.log_warn(f"[{self._ext_name}] the training thread did not end within {SHUTDOWN_WAIT_S} s")
        self._training_model = None

    # -- settings -----------------------------------------------------------------------------------------------------

    @property
    def runs_dir(self) -> str:
        """Root of the run directories: setting ``/exts/stripe_kit_ext/runs_dir`` (default ``~/stripe-kit/runs``)."""
        return _setting_path(self._ext_name, "runs_dir", "~/stripe-kit/runs")

    @property
    def scenes_dir(self) -> str:
        """Where the file picker starts when saving scenes: ``/exts/stripe_kit_ext/scenes_dir``."""
        return _setting_path(self._ext_name, "scenes_dir", "~/stripe-kit/scenes")

    # -- deferred imports ---------------------------------------------------------------------------------------------

    def _show_import_error(self, what: str, error: BaseException) -> None:
        self.import_error = f"{what}: {type(error).__name__}: {error}"
        carb.log_error(f"[{self._ext_name}] {self.import_error}\n{traceback.format_exc()}")
        if self._error_window is None:
            self._error_window = ui.Window(ERROR_WINDOW_TITLE, width=520, height=180)
        with self._error_window.frame:
            with ui.VStack(spacing=6):
                ui.Label(f"Could not open the {what}.", height=0)
                ui.Label(self.import_error, word_wrap=True, style={"color": 0xFF4A4AE0},
                         identifier="stripe_import_error")
                ui.Label("Install the library into Isaac Sim's Python: see STRIPE-kit's docs/README.md.",
                         word_wrap=True, height=0)
        self._error_window.visible = True

    @property
    def model(self) -> Any:
        """View-model of the scene window (:class:`stripe_kit.ui.ScenePanelModel`), made on first use."""
        if self._model is None:
            from stripe_kit.ui.scene_panel import ScenePanelModel

            self._model = ScenePanelModel()
        return self._model

    @property
    def window(self) -> Any:
        """The scene window, once opened."""
        return self._window

    def show_window(self) -> Any:
        """Open (or bring to front) the scene window; None (with the error shown) if the library cannot load."""
        if self._window is None:
            try:
                from .scene_window import SceneWindow

                self._window = SceneWindow(self.model, scenes_dir=self.scenes_dir)
            except Exception as error:  # noqa: BLE001 - shown in a window instead of breaking the menu
                self._show_import_error("scene window", error)
                return None
        self._window.visible = True
        self._window.focus()
        return self._window

    @property
    def training_model(self) -> Any:
        """View-model of the training window, made on first use: runs under :attr:`runs_dir`, the env built and
        stepped on Kit's main thread in the open stage (under its own prims), one step per app update."""
        if self._training_model is None:
            import omni.usd
            from stripe_kit.ui.training_panel import LoopDriver, TrainingPanelModel

            driver = LoopDriver(
                next_update=omni.kit.app.get_app().next_update_async,
                schedule=asyncio.ensure_future,
                stage=lambda: omni.usd.get_context().get_stage(),
            )
            self._training_model = TrainingPanelModel(runs_dir=self.runs_dir, physics="physx", loop_driver=driver)
        return self._training_model

    @property
    def training_window(self) -> Any:
        """The training window, once opened."""
        return self._training_window

    def show_training_window(self) -> Any:
        """Open (or bring to front) the training window; None (with the error shown) if the library cannot load."""
        if self._training_window is None:
            try:
                from .training_window import TrainingWindow

                self._training_window = TrainingWindow(self.training_model)
            except Exception as error:  # noqa: BLE001 - shown in a window instead of breaking the menu
                self._show_import_error("training window", error)
                return None
        self._training_window.visible = True
        self._training_window.focus()
        return self._training_window
