"""The policy network of a checkpoint, rebuilt without an environment (for checks, play and export)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .checkpoint import CheckpointError, check_model_shapes

CHECKPOINT_PARAM_KEYS = ("model", "network", "env")
CHECKPOINT_CONFIG_KEYS = ("normalize_input", "normalize_value", "clip_actions")


def checkpoint_params(agent_cfg: dict) -> dict[str, Any]:
    """The part of an rl_games config that rebuilds the policy (stored in every checkpoint's ``stripe`` block)."""
    params = agent_cfg["params"]
    config = params["config"]
    result = {key: params[key] for key in CHECKPOINT_PARAM_KEYS if key in params}
    result["config"] = {key: config[key] for key in CHECKPOINT_CONFIG_KEYS if key in config}
    return result


def infer_dims(model_state: dict[str, torch.Tensor]) -> tuple[int, int]:
    """Observation and action sizes of an rl_games MLP actor-critic, read from its weights."""
    obs = model_state.get("running_mean_std.running_mean")
    first = next((value for key, value in model_state.items()
                  if key.startswith("a2c_network.actor_mlp.") and key.endswith(".weight")), None)
    mu = model_state.get("a2c_network.mu.weight")
    if mu is None or (obs is None and first is None):
        raise ValueError("not an MLP actor-critic (no a2c_network.mu / actor_mlp weights)")
    obs_dim = int(obs.shape[0]) if obs is not None else int(first.shape[1])
    return obs_dim, int(mu.shape[0])


def build_model(params: dict[str, Any], obs_dim: int, action_dim: int) -> torch.nn.Module:
    """rl_games' model (network plus normalisers) for ``params`` (with ``model``, ``network``, ``config``).

    rl_games' builder prints each layer size it builds ("build mlp: 58", "RunningMeanStd: ..."); that goes nowhere.
    """
    from rl_games.algos_torch.model_builder import ModelBuilder

    from .console import thread_stdout_to

    network = ModelBuilder().load(params)
    config = params.get("config", {})
    with thread_stdout_to(os.devnull):
        return network.build({
            "actions_num": action_dim,
            "input_shape": (obs_dim,),
            "num_seqs": 1,
            "value_size": 1,
            "normalize_value": config.get("normalize_value", False),
            "normalize_input": config.get("normalize_input", False),
        })


def load_model(state: dict[str, Any], path: str | os.PathLike, params: dict[str, Any] | None = None) -> torch.nn.Module:
    """The checkpoint's model on the CPU, in eval mode; ``params`` default to the checkpoint's own.

    Raises:
        CheckpointError: If the checkpoint carries no network description and none is given, or its weights do not
            fit the network.
    """
    params = params or (state.get("stripe") or {}).get("agent_params")
    if params is None:
        raise CheckpointError(path, "has no STRIPE-kit network description; pass the run directory instead")
    stripe = state.get("stripe") or {}
    try:
        obs_dim, action_dim = stripe.get("observation_dim"), stripe.get("action_dim")
        if not obs_dim or not action_dim:
            obs_dim, action_dim = infer_dims(state["model"])
    except ValueError as error:
        raise CheckpointError(path, str(error)) from None
    model = build_model(params, obs_dim, action_dim)
    check_model_shapes(state, path, model.state_dict())
    model.load_state_dict(state["model"])
    return model.eval()


def run_dir_of(path: str | os.PathLike) -> Path | None:
    """The run directory a checkpoint ``run_dir/nn/<name>.pth`` belongs to, if it has a ``run.json``."""
    path = Path(path).resolve()
    candidate = path.parent.parent if path.parent.name == "nn" else None
    return candidate if candidate is not None and (candidate / "run.json").is_file() else None
