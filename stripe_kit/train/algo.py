"""rl_games' PPO agent and observer, extended for STRIPE-kit runs.

:class:`StripeA2CAgent` (rl_games' continuous A2C/PPO agent) writes complete, atomic checkpoints, restores
everything a resume needs (learning rate, RNG, terrain curriculum) and stops a run whose observations, rewards or
losses stop being finite. :class:`StripeObserver` (Isaac Lab's rl_games observer) records the metrics of each epoch,
writes checkpoints, ``metrics.jsonl``, the learning curve and the progress output, publishes the metrics to
subscribers, and ends the run at the epoch boundary after a stop request (rl_games stops only at ``max_epochs``, so
the observer lowers it to the current epoch).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rl_games.algos_torch import torch_ext
from rl_games.algos_torch.a2c_continuous import A2CAgent
from rl_games.common.algo_observer import IsaacAlgoObserver

from .checkpoint import (
    BEST,
    LAST,
    check_model_shapes,
    check_task,
    curriculum_state,
    link_atomic,
    load_checkpoint,
    rng_state,
    save_atomic,
    set_curriculum_state,
    set_rng_state,
    strip_compile_prefix,
)
from .control import TrainControl
from .monitor import CURVE_FILE, MetricsFile, Progress, write_learning_curve
from .runs import VIDEOS_DIR

TRAINING_VIDEO_FRAMES = 200
"""Frames of a training video unless set: Isaac Lab's ``--video_length`` default (3.3 s of the Ant's 60 Hz steps).
Each frame costs the training loop a render: whole-episode videos (960 frames) every 50 epochs cost 15 % of
training frames/s at 4096 envs on an H200 (``benchmarks/video.py``), 200 frames about a fifth of that."""


class NonFiniteError(RuntimeError):
    """Observations, rewards or losses that are NaN or infinite; the message names them and the epoch."""

    def __init__(self, epoch: int, what: list[str], checkpoint: str | None, checkpoint_epoch: int | None = None):
        self.epoch = epoch
        self.what = what
        kept = (f"; the last good checkpoint is {checkpoint} (epoch {checkpoint_epoch})" if checkpoint
                else "; no checkpoint was written before it")
        super().__init__(f"NaN or infinite {', '.join(what)} at epoch {epoch}{kept}")




@dataclasses.dataclass
class RunContext:
    """Everything the agent and observer of one run share."""

    run_dir: Path
    control: TrainControl
    metadata: dict[str, Any]
    """The ``stripe`` block written into every checkpoint."""
    max_epochs: int
    checkpoint_every: int = 1
    """Epochs between writes of ``nn/last.pth``."""
    keep_every: int = 25
    """Epochs between kept copies ``nn/epoch_<N>.pth`` (0: none but the final one)."""
    curve_every: int = 10
    """Epochs between refreshes of ``learning_curve.png``."""
    progress: Progress | None = None
    metrics: MetricsFile | None = None
    resume_from: Path | None = None
    rank: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)
    time_offset: float = 0.0
    """Training seconds before a resume, so ``time_s`` in the metrics continues."""
    last_checkpoint: Path | None = None
    checkpoint_epoch: int | None = None
    best_reward: float | None = None
    env: Any = None
    """The unwrapped Isaac Lab env while the run is live."""
    agent: Any = None
    video_every: int | None = None
    """Epochs between videos ``videos/epoch_<N>.mp4`` of env 0 (None: no videos)."""
    video_length: int | None = None
    """Frames of each video; :data:`TRAINING_VIDEO_FRAMES` (at most one episode) when None."""
    video: Any = None
    """The :class:`~stripe_kit.render.recorder.VideoRecorder` of the run, once its first video started."""

    def start_video(self, epoch: int) -> None:
        """Before ``epoch`` runs: start ``videos/epoch_<epoch - 1>.mp4`` (the policy after that many epochs) every
        ``video_every`` epochs, from the training envs' env 0, unless a video is still being recorded."""
        if not self.video_every or self.rank != 0 or self.env is None or (epoch - 1) % self.video_every:
            return
        from ..render.recorder import VideoRecorder

        if self.video is None:
            self.video = VideoRecorder(self.env)
        if not self.video.recording:
            length = self.video_length or min(TRAINING_VIDEO_FRAMES, int(self.env.max_episode_length))
            self.video.start(self.run_dir / VIDEOS_DIR / f"epoch_{epoch - 1}.mp4", length)

    @property
    def nn_dir(self) -> Path:
        return self.run_dir / "nn"

    def write_checkpoint(self, agent: StripeA2CAgent, epoch: int, keep: bool = False) -> Path:
        """Write ``nn/last.pth`` for ``epoch`` (once per epoch) and, periodically or when ``keep``, ``epoch_N.pth``."""
        last = self.nn_dir / LAST
        if self.checkpoint_epoch != epoch:
            save_atomic(agent.get_full_state_weights(), last)
            self.checkpoint_epoch = epoch
            self.last_checkpoint = last
        if keep or (self.keep_every and epoch % self.keep_every == 0):
            link_atomic(last, self.nn_dir / f"epoch_{epoch}.pth")
        return last

    def refresh_curve(self) -> None:
        if self.metrics is not None and self.metrics.history:
            write_learning_curve(self.metrics.history, self.run_dir / CURVE_FILE, title=self.metadata.get("task", ""))


class StripeA2CAgent(A2CAgent):
    """rl_games' continuous PPO agent with complete atomic checkpoints, full resume and NaN guards."""

    def __init__(self, base_name: str, params: dict, context: RunContext):
        self.context = context
        super().__init__(base_name, params)
        self._obs_finite = torch.ones((), dtype=torch.bool, device=self.ppo_device)
        self._rewards_finite = torch.ones((), dtype=torch.bool, device=self.ppo_device)
        self._pending_curriculum: dict | None = None
        self.epoch_stats: dict[str, float] = {}
        context.agent = self

    # checkpoints
    def get_full_state_weights(self) -> dict[str, Any]:
        state = super().get_full_state_weights()
        state["model"] = strip_compile_prefix(state["model"])
        state["last_lr"] = float(self.last_lr)
        state["entropy_coef"] = float(self.entropy_coef)
        state["rng"] = rng_state()
        state["curriculum"] = curriculum_state(self.context.env)
        state["stripe"] = dict(self.context.metadata, saved=time.strftime("%Y-%m-%dT%H:%M:%S"))
        return state

    def save(self, fn: str) -> None:
        """rl_games' end-of-run save: the final checkpoint, kept as ``epoch_<N>.pth`` too."""
        if self.global_rank == 0:
            self.context.write_checkpoint(self, self.epoch_num, keep=True)

    def restore(self, fn: str, set_epoch: bool = True) -> None:
        state = load_checkpoint(fn)
        check_task(state, fn, self.context.metadata["task"])
        check_model_shapes(state, fn, self.model.state_dict())
        self.set_full_state_weights(state, set_epoch=set_epoch)
        if "last_lr" in state:
            self.last_lr = float(state["last_lr"])
            self.update_lr(self.last_lr)
        if "entropy_coef" in state:
            self.entropy_coef = float(state["entropy_coef"])
        if self.global_rank == 0:
            set_rng_state(state.get("rng"))
            self._pending_curriculum = state.get("curriculum")
        for hook in self.context.control.restore_hooks:
            hook(self, state)

    def restore_central_value_function(self, fn: str) -> None:
        self.set_central_value_function_weights(load_checkpoint(fn))

    # environment
    def env_reset(self):
        env = self.context.env
        if self._pending_curriculum is not None and env is not None:
            curriculum = self._pending_curriculum
            self._pending_curriculum = None
            if set_curriculum_state(env, curriculum):
                # the reset must not move the restored levels (robots at their spawn points would be demoted)
                manager = env.curriculum_manager
                manager.compute = lambda *args, **kwargs: None
                try:
                    return super().env_reset()
                finally:
                    del manager.compute
        return super().env_reset()

    def env_step(self, actions):
        obs, rewards, dones, infos = super().env_step(actions)
        if self.context.video is not None:
            self.context.video.capture()
        observations = obs["obs"] if isinstance(obs, dict) else obs
        if isinstance(observations, torch.Tensor):
            self._obs_finite &= torch.isfinite(observations).all()
        self._rewards_finite &= torch.isfinite(rewards).all()
        return obs, rewards, dones, infos

    # training
    def train_epoch(self):
        self.context.start_video(self.epoch_num)
        result = super().train_epoch()
        a_losses, c_losses, entropies, kls = result[4], result[5], result[7], result[8]
        losses = torch.stack([torch_ext.mean_list(a_losses), torch_ext.mean_list(c_losses)]).detach().float()
        checks = torch.stack([
            self._obs_finite, self._rewards_finite, torch.isfinite(losses).all(),
            torch.stack([torch.isfinite(p).all() for p in self.model.parameters()]).all(),
        ]).cpu()
        self._obs_finite.fill_(True)
        self._rewards_finite.fill_(True)
        if not bool(checks.all()):
            names = ("observations", "rewards", "loss", "network weights")
            raise NonFiniteError(self.epoch_num, [name for name, ok in zip(names, checks.tolist()) if not ok],
                                 str(self.context.last_checkpoint) if self.context.last_checkpoint else None,
                                 self.context.checkpoint_epoch)
        a_loss, c_loss = losses.tolist()
        self.epoch_stats = {
            "actor_loss": a_loss,
            "critic_loss": c_loss,
            "entropy": float(torch_ext.mean_list(entropies).detach()) if entropies else None,
            "kl": float(torch_ext.mean_list(kls).detach()) if kls else None,
            "learning_rate": float(self.last_lr),
        }
        return result


def _first(values: Any) -> float:
    """First element of an rl_games AverageMeter mean (a NumPy array of any rank)."""
    return float(np.asarray(values).reshape(-1)[0])


class StripeObserver(IsaacAlgoObserver):
    """Isaac Lab's rl_games observer plus STRIPE-kit's per-epoch work (see the module docstring)."""

    def __init__(self, context: RunContext):
        super().__init__()
        self.context = context
        self._last_time: float | None = None

    def after_init(self, algo) -> None:
        super().after_init(algo)
        self._last_time = time.perf_counter()

    def _episode_means(self) -> dict[str, float]:
        """Means of the env's logged episode terms (``Episode_*``, ``Curriculum/*``, ``Metrics/*``) this epoch."""
        sums: dict[str, list[torch.Tensor]] = {}
        for info in self.ep_infos:
            for key, value in info.items():
                if isinstance(value, torch.Tensor):
                    sums.setdefault(key, []).append(value.detach().float().mean().reshape(1))
                elif isinstance(value, (int, float)):
                    sums.setdefault(key, []).append(torch.tensor([float(value)]))
        if not sums:
            return {}
        keys = sorted(sums)
        means = torch.stack([torch.cat([v.cpu() for v in sums[key]]).mean() for key in keys])
        return dict(zip(keys, means.tolist()))

    def after_print_stats(self, frame: int, epoch_num: int, total_time: float) -> None:
        episode = self._episode_means()
        super().after_print_stats(frame, epoch_num, total_time)
        context, algo = self.context, self.algo
        now = time.perf_counter()
        elapsed = now - (self._last_time or now)
        self._last_time = now
        rewards = algo.game_rewards
        metrics: dict[str, Any] = {
            "epoch": epoch_num,
            "frames": int(algo.frame),
            # every rank's frames, as rl_games counts ``frame`` (world_size is 1 on one GPU)
            "fps": algo.curr_frames * algo.world_size / elapsed if elapsed > 0 else None,
            "mean_reward": _first(rewards.get_mean()) if rewards.current_size > 0 else None,
            "mean_episode_length": _first(algo.game_lengths.get_mean()) if algo.game_lengths.current_size > 0 else None,
            "time_s": round(context.time_offset + time.monotonic() - context.started, 2),
        }
        metrics.update(getattr(algo, "epoch_stats", {}))
        metrics.update(episode)
        control = context.control
        ending = control.stop_requested or (algo.max_epochs != -1 and epoch_num >= algo.max_epochs)
        if ending or epoch_num % max(1, context.checkpoint_every) == 0:
            context.write_checkpoint(algo, epoch_num)
        reward = metrics["mean_reward"]
        if reward is not None and context.checkpoint_epoch == epoch_num and (
                context.best_reward is None or reward > context.best_reward):
            context.best_reward = reward
            link_atomic(context.nn_dir / LAST, context.nn_dir / BEST)
        if context.metrics is not None:
            context.metrics.append(metrics)
        if context.curve_every and epoch_num % context.curve_every == 0:
            context.refresh_curve()
        if context.progress is not None:
            context.progress.update(metrics)
        control.update(
            state="running", epoch=epoch_num, frames=metrics["frames"], fps=metrics["fps"], mean_reward=reward,
            mean_episode_length=metrics["mean_episode_length"],
            last_checkpoint=str(context.last_checkpoint) if context.last_checkpoint else None,
        )
        control.publish(metrics)
        if control.stop_requested:
            algo.max_epochs = epoch_num
