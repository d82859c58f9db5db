"""Fixtures of the training-runtime tests: short CPU runs, each simulation in its own process."""

from __future__ import annotations

import pytest
from support import run_python
from train_support import FAST, TASK


@pytest.fixture(scope="session")
def resume_runs(tmp_path_factory) -> dict:
    """Run A (4 epochs), B (2 epochs), then B resumed to 4, as sessions of one process.

    The resumed agent's state right after its restore is saved to ``restored.pt``.
    """
    root = tmp_path_factory.mktemp("resume")
    return run_python(
        f"""
        import copy, json, time, torch
        from stripe_kit.train import TrainOptions, TrainingSession
        overrides = {tuple(FAST)!r}
        common = dict(task={TASK!r}, num_envs=4, device="cpu", runs_dir={str(root)!r}, overrides=overrides)
        a = TrainingSession(TrainOptions(max_iterations=4, run_name="A", **common)).start().wait(400)
        b = TrainingSession(TrainOptions(max_iterations=2, run_name="B", **common)).start().wait(400)
        resumed = TrainingSession(TrainOptions(resume=b.run_dir, max_iterations=4))

        def snapshot(agent, checkpoint):
            torch.save({{
                "model": copy.deepcopy(agent.model.state_dict()),
                "optimizer": copy.deepcopy(agent.optimizer.state_dict()),
                "epoch": agent.epoch_num, "frame": agent.frame, "last_lr": agent.last_lr,
                "curriculum_restored": agent._pending_curriculum is not None,
            }}, {str(root / "restored.pt")!r})

        resumed.control.restore_hooks.append(snapshot)
        r = resumed.start().wait(400)
        print("RESULT " + json.dumps({{"a": a.__dict__, "b": b.__dict__, "r": r.__dict__, "root": {str(root)!r}}}))
        """,
        timeout=600,
    )
