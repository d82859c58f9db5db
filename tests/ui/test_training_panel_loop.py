"""TrainingPanelModel with a LoopDriver, on a plain asyncio loop standing in for Kit: the env is built in a stage
the caller owns (standing in for omni.usd's open stage), under its own prims, which are removed after the run; the
caller's prims and the stage's place in USD's StageCache survive; a shutdown mid-run abandons the loop-driven run
keeping its last epoch's checkpoint, with no learner thread left.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from support import run_python  # noqa: E402
from train_support import FAST, TASK  # noqa: E402


@pytest.fixture(scope="module")
def looped(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("looped")
    return run_python(
        f"""
        import asyncio, json, threading
        from pathlib import Path
        from pxr import Usd, UsdGeom, UsdUtils
        from stripe_kit.ui import LoopDriver, TrainingPanelModel

        stage = Usd.Stage.CreateInMemory()
        UsdGeom.Xform.Define(stage, "/World")
        UsdGeom.Cube.Define(stage, "/World/user_cube")
        UsdGeom.Xform.Define(stage, "/Scene/rock")
        UsdUtils.StageCache.Get().Insert(stage)
        out = dict(loop_thread=threading.get_ident())

        def model_for(name, iterations):
            driver = LoopDriver(next_update=lambda: asyncio.sleep(0), stage=lambda: stage)
            model = TrainingPanelModel(tasks=[{TASK!r}], runs_dir={str(root)!r}, overrides={tuple(FAST)!r},
                                       device="cpu", loop_driver=driver)
            for key, value in dict(num_envs="4", max_iterations=str(iterations)).items():
                assert model.set_option(key, value), model.error
            seen = out.setdefault(name, dict(env_prims=[]))
            model.epoch_hooks.append(lambda metrics, env: seen["env_prims"].append(
                [p for p in ("/World/envs", "/World/user_cube") if stage.GetPrimAtPath(p)]))
            return model, seen

        async def full_run():
            model, seen = model_for("full", 2)
            assert model.start(), model.error
            await model.serving_task
            seen["state"] = model.poll().state
            seen["epoch"] = model.status().epoch

        async def shut_down():
            model, seen = model_for("shutdown", 500)
            assert model.start(), model.error
            while model.status().epoch < 1:
                await asyncio.sleep(0.01)
            seen["gone"] = model.shutdown(timeout=60)
            status = model.status()
            seen["state"], seen["checkpoint"], seen["error"] = status.state, status.last_checkpoint, status.error
            seen["learner_alive"] = model.session.running
            await asyncio.sleep(0.05)
            seen["task_done"] = model.serving_task.done()

        for name, coro in (("full", full_run), ("shutdown", shut_down)):
            asyncio.run(coro())
            seen = out[name]
            seen["after"] = [str(p.GetPath()) for p in stage.Traverse()]
            seen["cached"] = UsdUtils.StageCache.Get().Contains(stage)
        print("RESULT " + json.dumps(out))
        """
    )


def test_env_lives_in_the_callers_stage_and_is_removed_after_the_run(looped):
    full = looped["full"]
    assert full["state"] == "finished", full
    assert full["epoch"] == 2
    assert full["env_prims"] and all(p == ["/World/envs", "/World/user_cube"] for p in full["env_prims"])
    assert sorted(full["after"]) == ["/Scene", "/Scene/rock", "/World", "/World/user_cube"]
    assert full["cached"], "the stage was dropped from USD's StageCache (omni.usd's stage would be)"


def test_shutdown_abandons_a_loop_driven_run_with_a_checkpoint(looped):
    down = looped["shutdown"]
    assert down["gone"] and not down["learner_alive"], down
    # as a cancelled serving task (tests/train/test_stepper.py): the learner ends on SteppingEnded, mid-epoch,
    # keeping the checkpoint of its last finished epoch
    assert down["state"] == "failed" and "SteppingEnded" in down["error"], down
    assert down["checkpoint"], down
    assert sorted(down["after"]) == ["/Scene", "/Scene/rock", "/World", "/World/user_cube"]
    assert down["cached"]
