"""``stripe-kit``: the command-line interface for headless machines and clusters.

Bad input (unknown command, task id or option value) ends with one line naming the bad value and what is
accepted, exit code 2, and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import SpecError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:
        raise SpecError(self.prog, " ".join(sys.argv[1:]) or "(nothing)", message) from None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive_int.__name__ = "positive-integer"


def _cmd_train(args: argparse.Namespace) -> int:
    from ..train.runner import TrainOptions, train

    result = train(
        TrainOptions(
            task=args.task,
            num_envs=args.num_envs,
            device=args.device,
            seed=args.seed,
            max_iterations=args.max_iterations,
            physics=args.physics,
            run_name=args.run_name,
            runs_dir=args.runs_dir,
        )
    )
    print(f"run directory: {result.run_dir}")
    print(f"checkpoint:    {result.checkpoint}")
    print(f"logs:          {result.logs}  (tensorboard --logdir {result.logs})")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ..task.spec import REGISTERED
    from ..train.tasks import load_tasks

    load_tasks()
    print("tasks:")
    for task_id, spec in sorted(REGISTERED.items()):
        print(f"  {task_id:28s} {spec.description}")
    print("scenes:")
    for name, scene in sorted({spec.scene.name: spec.scene for spec in REGISTERED.values()}.items()):
        print(f"  {name:28s} {type(scene).__name__}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "train": ("train a registered task with rl_games PPO (headless)", _cmd_train),
    "list": ("list the registered tasks and their scenes", _cmd_list),
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each with a one-line summary in ``--help``."""
    parser = _Parser(prog="stripe-kit", description="STRIPE-kit: train robots in procedural, plausible scenes.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (summary, _) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        if name == "train":
            sub.add_argument("--task", default="Stripe-Forest-Walk-Ant", help="task id (see 'stripe-kit list')")
            sub.add_argument("--num-envs", type=_positive_int, default=None, help="number of environments")
            sub.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when present)")
            sub.add_argument("--seed", type=int, default=42, help="seed of the scene, env and agent")
            sub.add_argument("--max-iterations", type=_positive_int, default=None, help="PPO epochs")
            sub.add_argument("--physics", default=None, help="physics backend: newton (default) or physx")
            sub.add_argument("--run-name", default=None, help="run directory name (default: a timestamp)")
            sub.add_argument("--runs-dir", default="runs", help="root of run directories (default: ./runs)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return COMMANDS[args.command][1](args)
    except SpecError as error:
        if error.field == parser.prog or error.field.startswith(f"{parser.prog} "):
            print(f"{error.field}: error: {error.accepted}", file=sys.stderr)
        else:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
