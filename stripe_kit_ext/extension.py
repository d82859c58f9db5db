"""Kit entry point: a "STRIPE-kit" menu whose "Scene" and "Training" items open the scene and training windows."""

from __future__ import annotations

import omni.ext
import omni.kit.actions.core
import omni.kit.menu.utils
from omni.kit.menu.utils import MenuItemDescription

from stripe_kit.ui import ScenePanelModel, TrainingPanelModel

from .scene_window import SceneWindow
from .training_window import TrainingWindow

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

_instance: StripeKitExtension | None = None


def get_extension() -> StripeKitExtension | None:
    """The running extension instance, or None when the extension is disabled."""
    return _instance


class StripeKitExtension(omni.ext.IExt):
    """Adds the STRIPE-kit menu; the window and its model are made on first use and dropped on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        global _instance
        self._ext_name = omni.ext.get_extension_name(ext_id)
        self._model: ScenePanelModel | None = None
        self._window: SceneWindow | None = None
        self._training_model: TrainingPanelModel | None = None
        self._training_window: TrainingWindow | None = None
        registry = omni.kit.actions.core.get_action_registry()
        registry.register_action(
            self._ext_name, ACTION_ID, lambda *_args, **_kwargs: self.show_window(),
            display_name="STRIPE-kit: Scene",
            description="Open the STRIPE-kit scene generator window",
            tag="STRIPE-kit",
        )
        registry.register_action(
            self._ext_name, TRAINING_ACTION_ID, lambda *_args, **_kwargs: self.show_training_window(),
            display_name="STRIPE-kit: Training",
            description="Open the STRIPE-kit training window",
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
        if self._window is not None:
            self._window.destroy()
            self._window = None
        self._model = None
        if self._training_window is not None:
            self._training_window.destroy()
            self._training_window = None
        if self._training_model is not None and self._training_model.running:
            self._training_model.stop()  # ends at the epoch boundary, with a checkpoint
        self._training_model = None

    @property
    def model(self) -> ScenePanelModel:
        """View-model of the scene window, made on first use (registers the showcase specs)."""
        if self._model is None:
            self._model = ScenePanelModel()
        return self._model

    @property
    def window(self) -> SceneWindow | None:
        """The scene window, once opened."""
        return self._window

    def show_window(self) -> SceneWindow:
        """Open (or bring to front) the scene window."""
        if self._window is None:
            self._window = SceneWindow(self.model)
        self._window.visible = True
        self._window.focus()
        return self._window

    @property
    def training_model(self) -> TrainingPanelModel:
        """View-model of the training window, made on first use (runs under ``./runs``)."""
        if self._training_model is None:
            self._training_model = TrainingPanelModel()
        return self._training_model

    @property
    def training_window(self) -> TrainingWindow | None:
        """The training window, once opened."""
        return self._training_window

    def show_training_window(self) -> TrainingWindow:
        """Open (or bring to front) the training window."""
        if self._training_window is None:
            self._training_window = TrainingWindow(self.training_model)
        self._training_window.visible = True
        self._training_window.focus()
        return self._training_window
