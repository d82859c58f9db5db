"""Isaac Lab 3.0's Warp frontend on the manager-based Isaac-Ant, kitless on a CPU (no CUDA driver).

Run from the repository root: ``PYTHONPATH=. .venv/bin/python docs/repro/warp_frontend_cpu.py``. The env builds;
its first reset fails in the Warp twin of ``reset_root_state_uniform`` with
``AttributeError: 'Tensor' object has no attribute 'ptr'`` (see docs/isaaclab-warp-frontend-cpu.md).
"""

from benchmarks.env_steps import _isaac_ant_cfg
from isaaclab_experimental.envs.frontend import WarpFrontend

from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks

load_tasks()
# Isaac Lab's Isaac-Ant config with the offline Ant on a generated terrain (what benchmarks.env_steps measures)
cfg = _isaac_ant_cfg("ant_manager", REGISTERED["Stripe-Forest-Walk-Ant"], num_envs=4, device="cpu", seed=1, phases={})
env = WarpFrontend.build_env(cfg, "Isaac-Ant-v0")
print("BUILT", type(env).__name__)
env.reset()
print("RESET OK")
