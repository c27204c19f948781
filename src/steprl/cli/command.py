"""The ``steprl`` argument parser and entry point: every user error is one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from steprl.cli.checks import CLIError, exception_message
from steprl.cli.presets import DEFAULT_EVAL_EPISODES, available_envs
from steprl.cli.registry import ALL_AGENTS
from steprl.cli.tune import add_tune_parser

__all__ = ["DEFAULT_AGENT", "DEFAULT_ENV", "DEFAULT_SEED", "build_parser", "main"]

BACKENDS = ("torch", "jax")
DEFAULT_ENV = "CartPole-v1"
DEFAULT_AGENT = "ppo"
DEFAULT_SEED = 42


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: …)`` only for options whose default is a value (``None`` means "from the preset")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The ``steprl`` argument parser (sub-commands ``train`` and ``tune``)."""
    parser = argparse.ArgumentParser(
        prog="steprl", description="steprl: train reinforcement-learning agents from presets."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train",
        help="train an agent on a Gymnasium environment",
        description=(
            "Train an agent with the preset of the environment (steprl/cli/presets/<env>.toml; environments without "
            f"one use the generic default preset). Presets: {', '.join(available_envs())}. Step counts are "
            "environment steps over all sub-environments (and all ranks): the training loop runs "
            "timesteps // num_envs vector steps, timesteps // (num_envs × K) on each of K ranks. Data-parallel: "
            "torchrun --nproc_per_node K -m steprl train ... trains one agent on K processes (gradients averaged; "
            "rank 0 evaluates and writes the run)."
        ),
        formatter_class=_HelpFormatter,
    )
    train.add_argument("--env", default=None, help=f"Gymnasium environment id ([module:]id) (default: {DEFAULT_ENV})")
    train.add_argument(
        "--agent", default=None, choices=list(ALL_AGENTS), help=f"agent (a table of the preset) (default: {DEFAULT_AGENT})"
    )
    train.add_argument(
        "--timesteps",
        type=int,
        default=None,
        help="environment steps in total, over all ranks under torchrun (default: preset)",
    )
    train.add_argument(
        "--num-envs", type=int, default=None, help="training sub-environments, per rank under torchrun (default: preset)"
    )
    train.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random seed; the evaluation environment uses seed + 1000 (default: {DEFAULT_SEED})",
    )
    train.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="environment steps between evaluations (0: final only; default: preset)",
    )
    train.add_argument(
        "--eval-episodes",
        type=int,
        default=None,
        help=f"episodes per evaluation (default: the preset's eval_episodes, else {DEFAULT_EVAL_EPISODES})",
    )
    train.add_argument(
        "--preset-file",
        default=None,
        metavar="FILE",
        help="read the agent's table from this preset file (the format of steprl/cli/presets/*.toml, e.g. the "
        "best_preset.toml that steprl tune writes) instead of the environment's preset",
    )
    train.add_argument("--render", action="store_true", help="create the training environment with render_mode='human'")
    train.add_argument("--run-dir", default=None, help="output directory (default: runs/<date>_<time>_<env>_<agent>)")
    train.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help=(
            "continue the run in RUN_DIR from its newest checkpoint, with the run's own options (those given must "
            "match them; a larger --timesteps extends the run)"
        ),
    )
    train.add_argument("--backend", default=None, choices=BACKENDS, help=f"tensor backend (default: {BACKENDS[0]})")
    train.add_argument(
        "--no-progress", action="store_true", help="disable the progress bar (it is off when stdout is not a TTY)"
    )
    train.add_argument(
        "--threads", type=int, default=1, help="CPU threads (torch.set_num_threads; JAX: 1 runs XLA on one thread)"
    )
    train.add_argument(
        "--device",
        default=None,
        help="device of the models and arrays, e.g. cpu or cuda:0 (default: cuda if available)",
    )
    train.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="train what a runner configuration (skrl's YAML format: models, memory, agent, trainer) describes, "
        "on --env, instead of a preset",
    )
    add_tune_parser(sub, _HelpFormatter)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``steprl`` command; returns the exit code (2 for usage errors, 130 when interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help (0) or an argparse usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    from steprl.cli.train import run_train

    try:
        if args.command == "tune":
            from steprl.cli.tune import run_tune

            return run_tune(args)
        if getattr(args, "config", None) is not None:
            from steprl.cli.config_run import run_config

            return run_config(args)
        return run_train(args)
    except CLIError as exc:
        print(f"steprl {args.command}: error: {exception_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"steprl {args.command}: interrupted", file=sys.stderr)
        return 130
