"""``stripe-kit``: the command-line interface for headless machines and clusters.

Bad input (unknown command, task id, option value, override key, or a checkpoint that is corrupt or does not fit)
ends with one line naming the bad value and what is accepted, exit code 2, and no traceback. ``train`` ends with exit
code 0 when it finished or was stopped (SIGTERM or SIGINT: at the next epoch boundary, with a checkpoint; a second
SIGINT aborts with 130), and 1
when it failed (NaN observations, rewards or losses, with the last good checkpoint kept).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence

from ..errors import SpecError
from ..train.frontend import DEFAULT_FRONTENDS, FRONTENDS

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:
        raise SpecError(self.prog, " ".join(sys.argv[1:]) or "(nothing)", message) from None


def _prog() -> str:
    """How this command was typed (``.venv/bin/stripe-kit`` or ``stripe-kit``), for the commands it suggests."""
    return sys.argv[0] if os.path.basename(sys.argv[0]) == "stripe-kit" else "stripe-kit"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive_int.__name__ = "positive-integer"


def _stop_on_signals(control) -> Callable[[], None]:
    """SIGTERM/SIGINT ask the run to stop at the epoch boundary; a second SIGINT aborts at once. Returns an undo.

    Repeated SIGTERMs only repeat the request: a batch system may deliver one to every process of a job step and its
    launcher (srun, torchrun) forward another.
    """
    interrupts = []

    def handler(signum, frame):
        name = signal.Signals(signum).name
        if signum == signal.SIGINT:
            interrupts.append(signum)
            if len(interrupts) > 1:
                raise KeyboardInterrupt
        if control.stop_requested:
            return
        control.request_stop(f"{name} received")
        print(f"stripe-kit: {name} received: stopping at the end of this epoch with a checkpoint "
              "(Ctrl+C again to abort without one)", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    return lambda: [signal.signal(sig, old) for sig, old in previous.items()]


def _cmd_train(args: argparse.Namespace) -> int:
    from ..train.control import TrainControl
    from ..train.plan import TrainOptions
    from ..train.runner import train

    options = TrainOptions(
        task=args.task if args.task is not None or args.resume else "Stripe-Forest-Walk-Ant",
        num_envs=args.num_envs,
        device=args.device,
        seed=args.seed,
        max_iterations=args.max_iterations,
        physics=args.physics,
        frontend=args.frontend,
        run_name=args.run_name,
        runs_dir=args.runs_dir,
        overrides=tuple(args.overrides),
        resume=args.resume,
        distributed=args.distributed,
        progress=args.progress,
        checkpoint_every=args.checkpoint_every,
        video_every=args.video_every,
        video_length=args.video_length,
        tasks=tuple(args.tasks),
    )
    control = TrainControl()
    undo = _stop_on_signals(control)
    try:
        result = train(options, control)
    except KeyboardInterrupt:
        print("stripe-kit: aborted; the run keeps its last checkpoint", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SpecError:
        raise
    except Exception as error:
        from ..train.algo import NonFiniteError
        from ..train.runner import TrainingBusyError, one_line

        if isinstance(error, (NonFiniteError, TrainingBusyError)):
            print(f"stripe-kit: error: {one_line(error)}", file=sys.stderr)
            return EXIT_FAILED
        raise
    finally:
        undo()
    if options.rank > 0:
        return 0  # rank 0 reports the run (the others keep no checkpoints of their own)
    print(f"run directory: {result.run_dir}")
    print(f"checkpoint:    {result.checkpoint}")
    print(f"logs:          {result.logs}  (tensorboard --logdir {result.logs})")
    print(f"status:        {result.status} at epoch {result.epochs}/{result.max_epochs}, {result.frames} frames"
          + (f" ({result.note})" if result.note else ""))
    if result.status == "stopped":
        print(f"resume with:   {_prog()} train --resume {result.run_dir}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ..task.spec import REGISTERED
    from ..train.tasks import known_scenes, load_tasks, task_source

    load_tasks(args.tasks)
    print("tasks:")
    for task_id, spec in sorted(REGISTERED.items()):
        source = task_source(task_id)
        print(f"  {task_id:28s} {spec.description}" + (f"  [{source}]" if source else ""))
    print("scenes:")
    for name, scene in sorted(known_scenes().items()):
        print(f"  {name:28s} {type(scene).__name__}")
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from ..train.play import play

    result = play(args.source, episodes=args.episodes, num_envs=args.num_envs, device=args.device, seed=args.seed,
                  overrides=tuple(args.overrides), tasks=tuple(args.tasks), video=args.video,
                  video_length=args.video_length, frontend=args.frontend)
    print(f"checkpoint: {result.checkpoint} (epoch {result.epoch})")
    print(f"task:       {result.task}")
    print(f"episodes:   {result.episodes} (deterministic policy)")
    print(f"return:     mean {result.mean_return:.3f}  std {result.std_return:.3f}")
    print(f"length:     mean {result.mean_length:.1f} steps ({result.mean_length * result.step_dt:.2f} s)")
    if args.video is not None:
        print(f"video:      {args.video}")
    if result.success_rate is None:
        print("success:    n/a (the task has no goal_reached termination and logs no success rate)")
    else:
        print(f"success:    {100 * result.success_rate:.1f} %")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ..train.export import export_policy
    from ..train.tasks import env_sources, load_tasks

    if args.tasks or env_sources():
        load_tasks(args.tasks)  # (a checkpoint describes its own network: the task is needed only for older ones)
    formats = tuple(name.strip() for name in args.format.split(",") if name.strip())
    result = export_policy(args.source, args.output, formats=formats, tasks=tuple(args.tasks))
    print(f"checkpoint: {result.checkpoint}")
    print(f"input:      obs [batch, {result.observation_dim}] float32 (raw policy observations)")
    print(f"output:     actions [batch, {result.action_dim}] (deterministic, clipped)")
    for name, path in result.files.items():
        print(f"{name + ':':12s}{path}  (max abs diff vs PyTorch: {result.max_abs_diff[name]:.2e})")
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from ..train.runs import list_runs

    runs = list_runs(args.runs_dir)
    if not runs:
        print(f"no runs under {args.runs_dir}")
        return 0
    header = f"{'task':26s} {'run':22s} {'status':12s} {'epochs':>11s} {'best reward':>12s}  path"
    print(header)
    for run in runs:
        epochs = f"{run.epoch}/{run.max_epochs if run.max_epochs is not None else '?'}"
        best = "-" if run.best_reward is None else f"{run.best_reward:.3f}"
        print(f"{run.task:26s} {run.name:22s} {run.status:12s} {epochs:>11s} {best:>12s}  {run.path}")
    return 0


def _cmd_scene(args: argparse.Namespace) -> int:
    from ..train.tasks import known_scenes, load_tasks

    load_tasks(args.tasks)
    scenes = known_scenes()
    if args.spec not in scenes:
        raise SpecError("scene", args.spec, f"one of {', '.join(sorted(scenes))} (more with --tasks MODULE_OR_FILE)")
    scene = scenes[args.spec].generate(args.seed)
    if args.action == "preview":
        from ..scene.preview import render_preview

        path = render_preview(scene, args.output or f"{args.spec}-{args.seed}.png", size_px=args.size)
    else:
        from ..scene.usd import export_scene

        path = export_scene(scene, args.output or f"{args.spec}-{args.seed}.usda")
    counts = ", ".join(f"{len(inst)} {name}" for name, inst in scene.instances.items())
    print(f"{args.action}: {path} ({counts}; digest {scene.digest()[:12]})")
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from ..train.overrides import parse_overrides

    parse_overrides(tuple(args.override))
    try:
        from ..ui.web import serve
    except ImportError as error:
        print(f"stripe-kit: error: the browser GUI needs viser ({error}); pip install viser", file=sys.stderr)
        return EXIT_FAILED
    serve(args.host, args.port, runs_dir=args.runs_dir, overrides=tuple(args.override), device=args.device,
          tasks=tuple(args.tasks))
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "scene": ("preview a scene spec as a top-down PNG, or export it to USD", _cmd_scene),
    "train": ("train a registered task with rl_games PPO (headless)", _cmd_train),
    "list": ("list the registered tasks and their scenes", _cmd_list),
    "play": ("run a checkpoint's deterministic policy and report return, length and success", _cmd_play),
    "export": ("export a checkpoint's policy to ONNX and TorchScript", _cmd_export),
    "runs": ("list the training runs under a runs directory", _cmd_runs),
    "gui": ("serve the scene and training panels as a web page (viser)", _cmd_gui),
}

TAKES_OVERRIDES = ("train", "play")
TAKES_TASKS = ("scene", "train", "list", "play", "export", "gui")
TASKS_HELP = ("Python file or module name defining tasks (TrainingSpec.register) or scenes (module-level SceneSpec "
              "objects), loaded besides the installed task packages; repeatable; also $STRIPE_KIT_TASKS, separated "
              f"by '{os.pathsep}'")
OVERRIDES_HELP = ("config overrides: sim.<field>=V, agent.<field>=V (AgentSettings or rl_games config), "
                  "env.<path>=V (Isaac Lab env config), e.g. agent.learning_rate=1e-4 sim.episode_length_s=8")
FRONTEND_HELP = ("how Isaac Lab runs the task's managers: torch, or warp (its Warp frontend, the step captured in "
                 "CUDA graphs; Newton only); default: the faster on the device, measured ("
                 + ", ".join(f"{frontend} on {device}" for device, frontend in DEFAULT_FRONTENDS.items()) + ")")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each with a one-line summary in ``--help``."""
    parser = _Parser(prog="stripe-kit", description="STRIPE-kit: train robots in procedural, plausible scenes.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (summary, _) in COMMANDS.items():
        usage_extra = {"epilog": f"KEY=VALUE arguments: {OVERRIDES_HELP}"} if name in TAKES_OVERRIDES else {}
        sub = commands.add_parser(name, help=summary, description=summary, **usage_extra)
        if name in TAKES_TASKS:
            sub.add_argument("--tasks", action="append", default=[], metavar="MODULE_OR_FILE", help=TASKS_HELP)
        if name == "train":
            sub.add_argument("--task", default=None,
                             help="task id (see 'stripe-kit list'; default Stripe-Forest-Walk-Ant)")
            sub.add_argument("--num-envs", type=_positive_int, default=None, help="number of environments")
            sub.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when present)")
            sub.add_argument("--seed", type=int, default=None, help="seed of the scene, env and agent (default 42)")
            sub.add_argument("--max-iterations", type=_positive_int, default=None,
                             help="total PPO epochs (a resumed run continues up to it)")
            sub.add_argument("--physics", default=None, help="physics backend: newton (default) or physx")
            sub.add_argument("--frontend", default=None, choices=FRONTENDS, help=FRONTEND_HELP)
            sub.add_argument("--run-name", default=None, help="run directory name (default: a timestamp)")
            sub.add_argument("--runs-dir", default="runs", help="root of run directories (default: ./runs)")
            sub.add_argument("--resume", default=None, metavar="RUN_DIR",
                             help="continue RUN_DIR from its nn/last.pth (task, envs, seed, overrides from the run)")
            sub.add_argument("--distributed", action="store_true",
                             help="multi-GPU: one process per GPU under torchrun (rl_games multi_gpu)")
            sub.add_argument("--progress", default="auto", choices=("auto", "bar", "lines", "off"),
                             help="progress output: bar on a terminal, plain lines otherwise (default auto)")
            sub.add_argument("--checkpoint-every", type=_positive_int, default=1,
                             help="epochs between writes of nn/last.pth (default 1)")
            sub.add_argument("--video-every", type=_positive_int, default=None, metavar="N",
                             help="every N epochs, record env 0 to RUN_DIR/videos/epoch_<N>.mp4 (default: no videos)")
            sub.add_argument("--video-length", type=_positive_int, default=None, metavar="STEPS",
                             help="frames of each video, one per policy step (default: 200, at most one episode)")
        elif name == "play":
            sub.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT", help="a run directory (nn/last.pth) or a .pth")
            sub.add_argument("--episodes", type=_positive_int, default=10, help="episodes to play (default 10)")
            sub.add_argument("--num-envs", type=_positive_int, default=None,
                             help="environments (default min(episodes, 16))")
            sub.add_argument("--device", default=None, help="cpu, cuda or cuda:N")
            sub.add_argument("--seed", type=int, default=None, help="seed (default: the run's)")
            sub.add_argument("--frontend", default=None, choices=FRONTENDS, help=FRONTEND_HELP)
            sub.add_argument("--video", default=None, metavar="FILE.mp4",
                             help="record env 0 (camera following its robot) into FILE.mp4")
            sub.add_argument("--video-length", type=_positive_int, default=None, metavar="STEPS",
                             help="frames of the video, one per policy step (default: one episode)")
        elif name == "export":
            sub.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT", help="a run directory (nn/last.pth) or a .pth")
            sub.add_argument("--output", default=None, help="output directory (default: RUN_DIR/exported)")
            sub.add_argument("--format", default="onnx,torchscript", help="onnx, torchscript or both (default)")
        elif name == "scene":
            sub.add_argument("action", choices=("preview", "export"), help="preview (PNG) or export (USD)")
            sub.add_argument("spec", help="scene name (see 'stripe-kit list')")
            sub.add_argument("--seed", type=int, default=0, help="seed of the scene (default 0)")
            sub.add_argument("-o", "--output", default=None, help="output file (.png, or .usd/.usda/.usdc)")
            sub.add_argument("--size", type=_positive_int, default=1024, help="preview size in pixels (default 1024)")
        elif name == "runs":
            sub.add_argument("--runs-dir", default="runs", help="root of run directories (default: ./runs)")
        elif name == "gui":
            sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
            sub.add_argument("--port", type=_positive_int, default=8080, help="port (default 8080)")
            sub.add_argument("--runs-dir", default="runs", help="root of run directories (default: ./runs)")
            sub.add_argument("--device", default=None, help="initial device option: cpu, cuda or cuda:N")
            sub.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                             help="config override passed to every training run (repeatable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (2 for bad input)."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if args.command is None:
            if extras:
                parser.error(f"unrecognized arguments: {' '.join(extras)}")
            parser.print_help()
            return EXIT_BAD_INPUT
        # config overrides KEY=VALUE may come anywhere after the command (argparse cannot intermix them)
        takes = args.command in TAKES_OVERRIDES
        bad = [extra for extra in extras if not takes or extra.startswith("-") or "=" not in extra]
        if bad:
            hint = " (config overrides are KEY=VALUE, such as agent.learning_rate=1e-4)" if takes else ""
            parser.error(f"unrecognized arguments: {' '.join(bad)}{hint}")
        args.overrides = extras
        return COMMANDS[args.command][1](args)
    except SpecError as error:
        if error.field == parser.prog or error.field.startswith(f"{parser.prog} "):
            print(f"{error.field}: error: {error.accepted}", file=sys.stderr)
        else:
            print(f"{parser.prog}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # python -m stripe_kit.cli.main (torchrun -m ...)
    entry_point()
