"""Kit tests of the extension: the menus open both windows, the model writes into and clears the stage, Generate is
undone and redone, a 1-iteration in-process run from the Training window finishes with a checkpoint, Stop ends a run
at an epoch boundary with one, and a library that fails to import is shown in the error window.

Run inside Kit (``omni.kit.test``), e.g. ``./isaac-sim.sh --ext-folder <repo parent> --enable omni.kit.test
--enable stripe_kit_ext --/exts/omni.kit.test/runTestsAndQuit=true
--/exts/omni.kit.test/includeTests/0='stripe_kit_ext.*'`` (the settings of Isaac Sim's premake5-isaacsim.lua and
isaacsim.exp.base.kit) or from the Extension Manager's test tab; pytest never collects them.
"""

import asyncio
import builtins
import time
from unittest import mock

import omni.ext
import omni.kit.app
import omni.kit.test
import omni.kit.undo
import omni.kit.ui_test as ui_test
import omni.usd

import stripe_kit_ext
from stripe_kit.ui import ScenePanelModel
from stripe_kit_ext.extension import ERROR_WINDOW_TITLE, MENU_ITEM, MENU_NAME, get_extension
from stripe_kit_ext.extension import TRAINING_MENU_ITEM
from stripe_kit_ext.scene_window import WINDOW_TITLE
from stripe_kit_ext.training_window import WINDOW_TITLE as TRAINING_WINDOW_TITLE


def _make_small(model: ScenePanelModel) -> None:
    """Shrink the selected spec to 2 x 2 tiles so that generation and writing stay quick."""
    assert model.set_field("terrain.num_rows", 2), model.error
    assert model.set_field("terrain.num_cols", 2), model.error


def _find(kind: str, identifier: str):
    return ui_test.find(f"{WINDOW_TITLE}//Frame/**/{kind}[*].identifier=='{identifier}'")


def _find_training(kind: str, identifier: str):
    return ui_test.find(f"{TRAINING_WINDOW_TITLE}//Frame/**/{kind}[*].identifier=='{identifier}'")


FAST = ("agent.horizon_length=16", "agent.num_minibatches=2", "agent.mini_epochs=2", "agent.torch_compile=false",
        "agent.save_frequency=1")
"""Overrides of tests/train/train_support.py: a 4-env epoch of 16 steps, eager PyTorch, a checkpoint every epoch."""
RUN_TIMEOUT_S = 600.0
"""Env build (Isaac Lab's gym.make, the first Warp/PhysX compile) plus a few tiny epochs."""


async def _until(predicate, timeout: float = RUN_TIMEOUT_S) -> bool:
    """Let Kit update until ``predicate()`` holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await omni.kit.app.get_app().next_update_async()
    return True


async def _serving_done(model, timeout: float = RUN_TIMEOUT_S) -> None:
    """Wait for the in-process run's serving task (it builds, steps and closes the env on Kit's main thread)."""
    task = model.serving_task
    assert task is not None, model.error
    await asyncio.wait([task], timeout=timeout)


class TestStripeKitExtension(omni.kit.test.AsyncTestCase):
    async def setUp(self):
        await omni.usd.get_context().new_stage_async()
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self):
        ext = get_extension()
        if ext is not None:
            ext.model.reset()
            if ext._training_model is not None:  # options and overrides back to the defaults; no run left live
                model = ext._training_model
                if model.running:
                    model.stop()
                    await _serving_done(model)
                for name in model.options:
                    model.set_option(name, "")
                model.overrides = ()
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

    async def _start_tiny_run(self, max_iterations: int):
        """Open the Training window, set 4 envs (default device, FAST overrides) and click Start."""
        ext = get_extension()
        self.assertIsNotNone(ext.show_training_window(), ext.import_error)
        model = ext.training_model
        model.overrides = FAST
        await ui_test.human_delay(5)
        for name, value in (("num_envs", "4"), ("max_iterations", str(max_iterations)), ("seed", "3")):
            field = _find_training("StringField", f"stripe_option_{name}")
            await field.input(value)
            await ui_test.human_delay(2)
            self.assertEqual(model.options[name].value, int(value), model.error)
        await _find_training("Button", "stripe_train_start").click()
        await ui_test.human_delay(2)
        self.assertIsNone(model.error)
        self.assertTrue(model.running)
        self.assertIsNotNone(model.serving_task)
        return ext, model

    async def test_training_window_runs_one_iteration_in_process(self):
        stage = omni.usd.get_context().get_stage()
        ext, model = await self._start_tiny_run(max_iterations=1)
        # the env is built in the open stage, under its own root, and stepped once per app update
        def envs_in_stage() -> bool:
            return stage.GetPrimAtPath("/World/envs").IsValid()

        await _until(lambda: envs_in_stage() or model.status().ended)
        self.assertTrue(envs_in_stage(), model.status())
        await _serving_done(model)
        status = model.poll()
        self.assertEqual(status.state, "finished", status.error)
        self.assertEqual(status.epoch, 1)
        self.assertTrue(status.last_checkpoint and status.last_checkpoint.endswith("last.pth"), status)
        self.assertTrue(status.run_dir.startswith(ext.runs_dir), (status.run_dir, ext.runs_dir))
        # the user's stage is still the open one; the env's prims are gone
        self.assertIs(omni.usd.get_context().get_stage(), stage)
        self.assertFalse(stage.GetPrimAtPath("/World/envs").IsValid())
        await ui_test.human_delay(2)
        self.assertIn("finished", _find_training("Label", "stripe_train_epoch").widget.text)
        self.assertIn("last.pth", _find_training("Label", "stripe_train_checkpoint").widget.text)
        self.assertTrue(_find_training("Button", "stripe_train_start").widget.enabled)

    async def test_training_window_stop_ends_at_an_epoch_boundary_with_a_checkpoint(self):
        stage = omni.usd.get_context().get_stage()
        ext, model = await self._start_tiny_run(max_iterations=500)
        self.assertTrue(await _until(lambda: model.poll().epoch >= 1 or not model.running), model.status())
        self.assertEqual(model.status().state, "running", model.status().error)
        await ui_test.human_delay(2)  # the window's per-update poll enables Stop
        await _find_training("Button", "stripe_train_stop").click()
        await _serving_done(model)
        status = model.poll()
        self.assertEqual(status.state, "stopped", status.error)
        self.assertTrue(1 <= status.epoch < 500, status)
        self.assertTrue(status.last_checkpoint and status.last_checkpoint.endswith("last.pth"), status)
        self.assertTrue(model.history.epochs)
        self.assertFalse(model.session.running)  # the learner thread is gone
        self.assertIs(omni.usd.get_context().get_stage(), stage)
        self.assertFalse(stage.GetPrimAtPath("/World/envs").IsValid())

    async def test_import_error_is_shown_in_a_window(self):
        ext = get_extension()
        real_import = builtins.__import__

        def failing_import(name, globals=None, locals=None, fromlist=(), level=0):
            if name.startswith("stripe_kit") or (level and name in ("scene_window", "training_window")):
                raise ImportError(f"No module named 'trimesh' (simulated, importing {name})")
            return real_import(name, globals, locals, fromlist, level)

        # as on a first open: no window and no model made yet (restored after)
        saved = ext._window, ext._model, ext._training_window, ext._training_model
        ext._window = ext._model = ext._training_window = ext._training_model = None
        try:
            with mock.patch.object(builtins, "__import__", failing_import):
                self.assertIsNone(ext.show_window())
                scene_error = ext.import_error
                self.assertIsNone(ext.show_training_window())
            await ui_test.human_delay(5)
            self.assertIn("scene window", scene_error)
            self.assertIn("trimesh", scene_error)
            self.assertIn("training window", ext.import_error)
            self.assertIsNone(ext.window)
            self.assertIsNone(ext.training_window)
            self.assertIsNotNone(ui_test.find(ERROR_WINDOW_TITLE))
            label = ui_test.find(f"{ERROR_WINDOW_TITLE}//Frame/**/Label[*].identifier=='stripe_import_error'")
            self.assertIsNotNone(label)
            self.assertIn("trimesh", label.widget.text)
        finally:
            ext._window, ext._model, ext._training_window, ext._training_model = saved
            if ext._error_window is not None:
                ext._error_window.visible = False
