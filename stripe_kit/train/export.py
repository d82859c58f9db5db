"""Export a checkpoint's policy to ONNX and TorchScript, observation clipping and normalisation baked in.

The exported graph maps a batch of raw policy observations ``obs`` ``[N, obs_dim]`` (float32, as the env's
``policy`` group gives them) to the deterministic action ``actions`` ``[N, action_dim]``, exactly as training and
``stripe-kit play`` act: observations clipped to ``±clip_observations`` (Isaac Lab's rl_games wrapper), normalised
with the running mean and variance (clamped to ±5, as rl_games does), the actor's mean action clamped to [-1, 1] and
rescaled to the action space, then clipped to ``±clip_actions`` (the wrapper). Neither format needs rl_games.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..files import atomic_path
from .checkpoint import LAST, CheckpointError, load_checkpoint
from .policy import infer_dims, load_model, run_dir_of

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17


class ExportedPolicy(torch.nn.Module):
    """Raw observations to deterministic actions: rl_games' actor with the wrapper's clipping around it."""

    def __init__(self, model: torch.nn.Module, clip_observations: float, clip_actions: float, rescale: bool = True):
        super().__init__()
        self.a2c_network = model.a2c_network
        self.normalize = bool(getattr(model, "normalize_input", False))
        obs_dim, action_dim = infer_dims(model.state_dict())
        self.obs_dim, self.action_dim = obs_dim, action_dim
        if self.normalize:
            stats = model.running_mean_std
            self.register_buffer("obs_mean", stats.running_mean.detach().float().clone())
            self.register_buffer("obs_var", stats.running_var.detach().float().clone())
            self.epsilon = float(stats.epsilon)
        else:
            self.register_buffer("obs_mean", torch.zeros(obs_dim))
            self.register_buffer("obs_var", torch.ones(obs_dim))
            self.epsilon = 0.0
        self.clip_observations = float(clip_observations)
        self.clip_actions = float(clip_actions)
        self.rescale = rescale
        low, high = torch.tensor(-self.clip_actions), torch.tensor(self.clip_actions)
        self.register_buffer("action_scale", (high - low) / 2.0)
        self.register_buffer("action_offset", (high + low) / 2.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        obs = torch.clamp(obs, -self.clip_observations, self.clip_observations)
        if self.normalize:
            obs = (obs - self.obs_mean) / torch.sqrt(self.obs_var + self.epsilon)
            obs = torch.clamp(obs, min=-5.0, max=5.0)
        mu = self.a2c_network({"obs": obs})[0]
        if self.rescale:
            mu = torch.clamp(mu, -1.0, 1.0) * self.action_scale + self.action_offset
        return torch.clamp(mu, -self.clip_actions, self.clip_actions)


@dataclasses.dataclass
class ExportResult:
    """The written files and what they expect."""

    checkpoint: Path
    files: dict[str, Path]
    observation_dim: int
    action_dim: int
    max_abs_diff: dict[str, float]
    """Largest difference of each format's actions from the PyTorch policy's, on random observations."""


def resolve_checkpoint(source: str | os.PathLike) -> Path:
    """A checkpoint file from a file path or a run directory (its ``nn/last.pth``)."""
    path = Path(source).expanduser()
    if path.is_dir():
        for candidate in (path / "nn" / LAST, path / LAST):
            if candidate.is_file():
                return candidate.resolve()
        if not (path / "run.json").is_file():
            raise CheckpointError(path, "not a run directory (no run.json, no nn/last.pth); expected a run directory "
                                  "(see 'stripe-kit runs') or a .pth checkpoint file")
        raise CheckpointError(path / "nn" / LAST,
                              "no checkpoint in this run directory (it ended before its first epoch)")
    if not path.exists():
        raise CheckpointError(path, "no such checkpoint file or run directory")
    return path.resolve()


def policy_params(state: dict[str, Any], path: Path, tasks: tuple[str, ...] = ()) -> dict[str, Any]:
    """The network description of a checkpoint: its own, else from its run directory's task and overrides.

    ``tasks`` (Python files or module names) are loaded to find the run's task when the checkpoint has no description.
    """
    params = (state.get("stripe") or {}).get("agent_params")
    if params is not None:
        return params
    run_dir = run_dir_of(path)
    if run_dir is None:
        raise CheckpointError(path, "has no STRIPE-kit network description and is not inside a run directory")
    from .policy import checkpoint_params
    from .plan import TrainOptions, plan_run

    plan = plan_run(TrainOptions(resume=str(run_dir), max_iterations=10**9, tasks=tuple(tasks)))
    return checkpoint_params(plan.agent_cfg)


def load_policy(source: str | os.PathLike, tasks: tuple[str, ...] = ()) -> tuple[ExportedPolicy, dict[str, Any], Path]:
    """The exportable policy of a checkpoint or run directory, its checkpoint state and path."""
    path = resolve_checkpoint(source)
    state = load_checkpoint(path)
    params = policy_params(state, path, tasks)
    model = load_model(state, path, params)
    env = params.get("env", {})
    clip_actions = params.get("config", {}).get("clip_actions", True)
    policy = ExportedPolicy(model, env.get("clip_observations", float("inf")), env.get("clip_actions", float("inf")),
                            rescale=bool(clip_actions)).eval()
    return policy, state, path


def export_policy(source: str | os.PathLike, output: str | os.PathLike | None = None,
                  formats: tuple[str, ...] = FORMATS, samples: int = 256, seed: int = 0,
                  tasks: tuple[str, ...] = ()) -> ExportResult:
    """Write ``policy.onnx`` / ``policy.pt`` and ``policy.json`` for a checkpoint (default: ``run_dir/exported``).

    Each file is checked against the PyTorch policy on random observations (with values beyond the clip range).
    ``tasks`` (Python files or module names) are needed only for a checkpoint without its own network description.
    """
    for name in formats:
        if name not in FORMATS:
            from ..errors import SpecError

            raise SpecError("format", name, f"one of {', '.join(FORMATS)}")
    policy, state, path = load_policy(source, tasks)
    obs_dim, action_dim = policy.obs_dim, policy.action_dim
    run_dir = run_dir_of(path)
    out = Path(output).expanduser() if output else (run_dir or path.parent) / "exported"
    out.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    obs = torch.randn(samples, obs_dim, generator=generator) * 3.0
    with torch.no_grad():
        expected = policy(obs)
    files: dict[str, Path] = {}
    diffs: dict[str, float] = {}
    if "torchscript" in formats:
        files["torchscript"] = out / "policy.pt"
        with torch.no_grad():
            traced = torch.jit.trace(policy, obs[:1], check_trace=False)
        with atomic_path(files["torchscript"]) as tmp:
            torch.jit.save(traced, str(tmp))
        loaded = torch.jit.load(str(files["torchscript"]))
        with torch.no_grad():
            diffs["torchscript"] = float((loaded(obs) - expected).abs().max())
    if "onnx" in formats:
        files["onnx"] = out / "policy.onnx"
        with atomic_path(files["onnx"]) as tmp:
            _export_onnx(policy, obs[:1], tmp)
        diffs["onnx"] = _onnx_diff(files["onnx"], obs, expected)
    stripe = state.get("stripe") or {}
    info = {
        "task": stripe.get("task"), "epoch": state.get("epoch"), "frame": state.get("frame"),
        "checkpoint": str(path), "observation_dim": obs_dim, "action_dim": action_dim,
        "input": "obs", "output": "actions", "dtype": "float32",
        "clip_observations": policy.clip_observations, "clip_actions": policy.clip_actions,
        "normalization": "baked in" if policy.normalize else "none",
        "files": {name: file.name for name, file in files.items()}, "max_abs_diff_vs_pytorch": diffs,
    }
    with atomic_path(out / "policy.json") as tmp:
        tmp.write_text(json.dumps(info, indent=2) + "\n")
    return ExportResult(path, files, obs_dim, action_dim, diffs)


def _export_onnx(policy: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            policy, (example,), str(path), dynamo=False, input_names=["obs"], output_names=["actions"],
            dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}}, opset_version=ONNX_OPSET,
        )
    try:
        import onnx
    except ImportError:
        return
    onnx.checker.check_model(onnx.load(str(path)))


def _onnx_diff(path: Path, obs: torch.Tensor, expected: torch.Tensor) -> float:
    try:
        import onnxruntime
    except ImportError:
        import numpy as np
        import onnx
        from onnx.reference import ReferenceEvaluator

        actions = ReferenceEvaluator(onnx.load(str(path))).run(None, {"obs": obs.numpy()})[0]
        return float(np.abs(actions - expected.numpy()).max())
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    actions = session.run(None, {"obs": obs.numpy()})[0]
    return float(abs(actions - expected.numpy()).max())
