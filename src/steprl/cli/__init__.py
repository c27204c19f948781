"""The ``steprl`` command: ``steprl train [--env ENV] [--agent ppo] ...`` trains an agent from a preset.

- :mod:`steprl.cli.command`: the argument parser and :func:`main` (user errors: one line, exit status 2);
- :mod:`steprl.cli.checks`: the checks of arguments, environment, packages and run directory;
- :mod:`steprl.cli.train`: building the preset's agent, training, evaluating, writing the run directory;
- :mod:`steprl.cli.rundir`: the run directory's lock, configuration (``run.json``), progress and checkpoints
  (``--resume``);
- :mod:`steprl.cli.presets`: the per-environment TOML presets (``steprl/cli/presets/*.toml``) and their loader;
- :mod:`steprl.cli.registry`: the trainable agents, their model builders and the spaces these accept.
"""

from steprl.cli.command import build_parser, main

__all__ = ["build_parser", "main"]
