"""Kit tests of the extension: the menu opens the window, the model writes into and clears the stage, buttons work.

Run inside Kit (``omni.kit.test``), e.g. ``./isaac-sim.sh --ext-folder <repo parent> --enable omni.kit.test
--enable stripe_kit_ext --/exts/omni.kit.test/runTestsAndQuit=true
--/exts/omni.kit.test/includeTests/0='stripe_kit_ext.*'`` (the settings of Isaac Sim's premake5-isaacsim.lua and
isaacsim.exp.base.kit) or from the Extension Manager's test tab; pytest never collects them.
"""

import omni.ext
import omni.kit.app
import omni.kit.test
import omni.kit.undo
import omni.kit.ui_test as ui_test
import omni.usd

import stripe_kit_ext
from stripe_kit.ui import ScenePanelModel
from stripe_kit_ext.extension import MENU_ITEM, MENU_NAME, get_extension
from stripe_kit_ext.extension import TRAINING_MENU_ITEM
from stripe_kit_ext.scene_window import WINDOW_TITLE
from stripe_kit_ext.training_window import WINDOW_TITLE as TRAINING_WINDOW_TITLE


def _make_small(model: ScenePanelModel) -> None:
    """Shrink the selected spec to 2 x 2 tiles so that generation and writing stay quick."""
    assert model.set_field("terrain.num_rows", 2), model.error
    assert model.set_field("terrain.num_cols", 2), model.error


def _find(kind: str, identifier: str):
    return ui_test.find(f"{WINDOW_TITLE}//Frame/**/{kind}[*].identifier=='{identifier}'")


class TestStripeKitExtension(omni.kit.test.AsyncTestCase):
    async def setUp(self):
        await omni.usd.get_context().new_stage_async()
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self):
        ext = get_extension()
        if ext is not None:
            ext.model.reset()
            if ext.window is not None:
                ext.window.visible = False
            if ext.training_window is not None:
                ext.training_window.visible = False
        await omni.kit.app.get_app().next_update_async()

    async def test_extension_is_running(self):
        self.assertTrue(issubclass(stripe_kit_ext.StripeKitExtension, omni.ext.IExt))
        ext = get_extension()
        self.assertIsNotNone(ext)
        self.assertIn("forest", ext.model.spec_names)

    async def test_menu_opens_window(self):
        await ui_test.menu_click(f"{MENU_NAME}/{MENU_ITEM}", human_delay_speed=4)
        await ui_test.human_delay(10)
        ext = get_extension()
        self.assertIsNotNone(ext.window)
        self.assertTrue(ext.window.visible)
        self.assertIsNotNone(ui_test.find(WINDOW_TITLE))
        self.assertIsNotNone(_find("IntField", "terrain.num_rows"))
        self.assertIsNotNone(_find("StringField", "terrain.style"))
        self.assertIsNotNone(_find("IntField", "seed"))
        self.assertIsNotNone(_find("Button", "stripe_generate"))

    async def test_model_generates_into_stage_and_clears(self):
        stage = omni.usd.get_context().get_stage()
        model = ScenePanelModel()
        _make_small(model)
        self.assertTrue(model.write_to_stage(stage), model.error)
        await omni.kit.app.get_app().next_update_async()
        self.assertTrue(stage.GetPrimAtPath(model.root_path).IsValid())
        self.assertGreater(model.summary.num_objects, 0)
        self.assertTrue(model.clear(stage), model.error)
        await omni.kit.app.get_app().next_update_async()
        self.assertFalse(stage.GetPrimAtPath(model.root_path).IsValid())

    async def test_window_buttons_and_errors(self):
        ext = get_extension()
        ext.show_window()
        _make_small(ext.model)
        await ui_test.human_delay(5)
        stage = omni.usd.get_context().get_stage()

        await _find("Button", "stripe_generate").click()
        await ui_test.human_delay(5)
        if ext.window.busy_task is not None:
            await ext.window.busy_task  # generation runs off the UI thread, then the write command
        self.assertIsNone(ext.model.error)
        self.assertTrue(stage.GetPrimAtPath(ext.model.root_path).IsValid())
        omni.kit.undo.undo()  # Ctrl+Z: the StripeKitWriteScene command is undone
        await omni.kit.app.get_app().next_update_async()
        self.assertFalse(stage.GetPrimAtPath(ext.model.root_path).IsValid())
        omni.kit.undo.redo()
        await omni.kit.app.get_app().next_update_async()
        self.assertIsNone(ext.model.error)
        self.assertTrue(stage.GetPrimAtPath(ext.model.root_path).IsValid())

        await _find("Button", "stripe_clear").click()
        await ui_test.human_delay(5)
        self.assertFalse(stage.GetPrimAtPath(ext.model.root_path).IsValid())

        # a refused edit keeps the old value and shows the spec's message
        self.assertFalse(ext.model.set_field("terrain.num_rows", -1))
        await ui_test.human_delay(2)
        self.assertEqual(ext.model.field("terrain.num_rows").value, 2)
        self.assertIn("terrain.num_rows", _find("Label", "stripe_error").widget.text)
        self.assertEqual(_find("IntField", "terrain.num_rows").widget.model.as_int, 2)

    async def test_menu_opens_training_window(self):
        await ui_test.menu_click(f"{MENU_NAME}/{TRAINING_MENU_ITEM}", human_delay_speed=4)
        await ui_test.human_delay(10)
        ext = get_extension()
        self.assertIsNotNone(ext.training_window)
        self.assertTrue(ext.training_window.visible)

        def find(kind: str, identifier: str):
            return ui_test.find(f"{TRAINING_WINDOW_TITLE}//Frame/**/{kind}[*].identifier=='{identifier}'")

        self.assertIn("Stripe-Forest-Walk-Ant", ext.training_model.tasks)
        self.assertIsNotNone(find("ComboBox", "stripe_task_combo"))
        self.assertIsNotNone(find("StringField", "stripe_option_num_envs"))
        self.assertIsNotNone(find("Button", "stripe_train_start"))
        self.assertIsNotNone(find("Plot", "stripe_train_plot"))
        # a bad option is refused with a one-line error, shown in the window; nothing starts
        num_envs = find("StringField", "stripe_option_num_envs")
        await num_envs.input("0")
        await ui_test.human_delay(5)
        self.assertIn("num_envs", ext.training_model.error or "")
        self.assertEqual(ext.training_model.status().state, "idle")
        self.assertIn("num_envs", find("Label", "stripe_train_error").widget.text)
        ext.training_model.set_option("num_envs", "")
