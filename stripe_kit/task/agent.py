"""rl_games PPO agent configs that are valid for any device and number of environments."""

from __future__ import annotations

from typing import Any

import torch
from isaaclab.utils import configclass

from ..errors import SpecError, check_number


@configclass
class AgentSettings:
    """PPO hyper-parameters of a task; the rest of the rl_games config is derived."""

    network: tuple[int, ...] = (256, 128, 64)
    """Hidden layer sizes of the shared actor-critic MLP."""
    horizon_length: int = 32
    """Environment steps collected per epoch."""
    num_minibatches: int = 4
    """Minibatches per mini-epoch; the minibatch size is per environment, so it divides any batch."""
    mini_epochs: int = 5
    """Optimisation passes over each batch."""
    learning_rate: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.95
    entropy_coef: float = 0.0
    kl_threshold: float = 0.008
    reward_scale: float = 1.0
    """Multiplier applied to rewards before PPO (rl_games' reward shaper)."""
    max_epochs: int = 500
    save_frequency: int = 25
    """Epochs between checkpoints."""
    mixed_precision: bool = False
    """On CUDA, run the network's forward passes in bfloat16 (rl_games' autocast and gradient scaler). Off: for these
    small MLPs the casts cost more than they save. On an H200 (the walk task, 4096 envs, Warp frontend, 120 epochs)
    turning it off made the PPO update 0.146 -> 0.105 s and policy inference 0.086 -> 0.060 s per epoch, 1.30 x the
    training frames/s, with the same return curve (``benchmarks/results/h200-2026-12-02-session11``)."""

    def __post_init__(self):
        check_number("agent.horizon_length", self.horizon_length, 1, 10000, integer=True)
        check_number("agent.num_minibatches", self.num_minibatches, 1, 10000, integer=True)
        if self.horizon_length % self.num_minibatches:
            raise SpecError("agent.num_minibatches", self.num_minibatches, f"a divisor of horizon_length ({self.horizon_length})")
        check_number("agent.learning_rate", self.learning_rate, 0.0, 1.0, low_open=True)
        check_number("agent.max_epochs", self.max_epochs, 1, 10**9, integer=True)
        if not self.network or any(not isinstance(units, int) or units < 1 for units in self.network):
            raise SpecError("agent.network", self.network, "a non-empty tuple of positive layer sizes")


def default_device() -> str:
    """``cuda:0`` when CUDA is available, else ``cpu``."""
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def rl_games_config(name: str, settings: AgentSettings, device: str | None = None, seed: int = 42) -> dict[str, Any]:
    """Full rl_games PPO config for a task.

    Args:
        name: Experiment name (checkpoint file names).
        settings: The task's PPO hyper-parameters.
        device: Training device; the simulation's device, or the default device when None.
        seed: Seed of the run.

    Returns:
        The config as rl_games' runner loads it (``{"params": {...}}``).
    """
    device = device or default_device()
    return {
        "params": {
            "seed": seed,
            "env": {"clip_observations": 5.0, "clip_actions": 1.0},
            "algo": {"name": "a2c_continuous"},
            "model": {"name": "continuous_a2c_logstd"},
            "network": {
                "name": "actor_critic",
                "separate": False,
                "space": {
                    "continuous": {
                        "mu_activation": "None",
                        "sigma_activation": "None",
                        "mu_init": {"name": "default"},
                        "sigma_init": {"name": "const_initializer", "val": 0},
                        "fixed_sigma": True,
                    }
                },
                "mlp": {
                    "units": list(settings.network),
                    "activation": "elu",
                    "d2rl": False,
                    "initializer": {"name": "default"},
                    "regularizer": {"name": "None"},
                },
            },
            "load_checkpoint": False,
            "load_path": "",
            "config": {
                "name": name,
                "env_name": "rlgpu",
                "device": device,
                "device_name": device,
                "multi_gpu": False,
                "ppo": True,
                "mixed_precision": settings.mixed_precision and device.startswith("cuda"),
                "normalize_input": True,
                "normalize_value": True,
                "value_bootstrap": True,
                "num_actors": -1,
                "reward_shaper": {"scale_value": settings.reward_scale},
                "normalize_advantage": True,
                "gamma": settings.gamma,
                "tau": settings.tau,
                "learning_rate": settings.learning_rate,
                "lr_schedule": "adaptive",
                "schedule_type": "legacy",
                "kl_threshold": settings.kl_threshold,
                "score_to_win": 1e9,
                "max_epochs": settings.max_epochs,
                "save_best_after": 10**9,
                "save_frequency": settings.save_frequency,
                "grad_norm": 1.0,
                "entropy_coef": settings.entropy_coef,
                "truncate_grads": True,
                "e_clip": 0.2,
                "horizon_length": settings.horizon_length,
                "minibatch_size_per_env": settings.horizon_length // settings.num_minibatches,
                "mini_epochs": settings.mini_epochs,
                "critic_coef": 2,
                "clip_value": True,
                "seq_length": 4,
                "bounds_loss_coef": 0.0001,
            },
        }
    }
