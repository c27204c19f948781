"""What ``steprl tune`` writes: preset tables as TOML, the trial table (CSV and Markdown) and the importance plot."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from typing import Any

__all__ = ["preset_toml", "write_importances", "write_trial_tables"]

_BARE_KEY = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE_KEY else json.dumps(key)


def _value(value: Any) -> str:
    """A TOML value: booleans, numbers, strings, arrays and (for noises) inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a preset value must be finite, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of printable text is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"{value!r} ({type(value).__name__}) cannot be written to a preset")


def _table(name: str, table: dict[str, Any], out: list[str]) -> None:
    """``[name]`` with its plain values, then its sub-tables (a table holding ``class`` stays inline)."""
    out.append(f"[{name}]")
    subtables = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and "class" not in value:
            subtables.append((key, value))
        else:
            out.append(f"{_key(key)} = {_value(value)}")
    for key, value in subtables:
        out.append("")
        _table(f"{name}.{_key(key)}", value, out)


def preset_toml(agent: str, table: dict[str, Any], comments: Sequence[str] = ()) -> str:
    """The preset file text holding ``table`` as the ``[agent]`` table, under ``comments`` (one per line)."""
    out = [f"# {line}" for line in comments]
    if out:
        out.append("")
    _table(agent, table, out)
    return "\n".join(out) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_trial_tables(run_dir: str, rows: Sequence[dict[str, Any]], params: Sequence[str], seeds: Sequence[int]) -> None:
    """``trials.csv`` and ``trials.md``: one row per trial (``rows``: dicts of ``trial``, ``state``, ``params``,
    ``returns`` per seed, ``objective``, ``duration_s``)."""
    header = ["trial", "state", *params, *(f"seed_{s}" for s in seeds), "objective", "duration_s"]
    lines = []
    for row in rows:
        returns = list(row.get("returns") or [])
        returns += [None] * (len(seeds) - len(returns))
        lines.append(
            [row["trial"], row["state"], *(row["params"].get(p) for p in params), *returns[: len(seeds)],
             row.get("objective"), row.get("duration_s")]
        )  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in line] for line in lines)
    with open(os.path.join(run_dir, "trials.csv"), "w", encoding="utf-8") as file:
        file.write(buffer.getvalue())
    markdown = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    markdown += ["| " + " | ".join(_cell(v) for v in line) + " |" for line in lines]
    with open(os.path.join(run_dir, "trials.md"), "w", encoding="utf-8") as file:
        file.write("\n".join(markdown) + "\n")


def write_importances(study: Any, path: str) -> str:
    """Draw Optuna's parameter-importance plot of ``study`` to ``path`` (PNG); returns what happened, one line."""
    import warnings

    import optuna

    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(completed) < 2:
        return f"param_importances.png skipped: {len(completed)} completed trial(s), importances need 2 or more"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 'param_importances.png skipped: matplotlib is not installed (pip install "steprl[plot]")'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the plotting module is marked experimental
        try:
            axes = optuna.visualization.matplotlib.plot_param_importances(study)
        except (RuntimeError, ValueError, ZeroDivisionError) as exc:  # e.g. every trial chose the same values
            return f"param_importances.png skipped: {exc}"
    figure = axes.figure
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"importance plot: {path}"


def _rows(study: Any) -> list[dict[str, Any]]:
    import optuna

    rows = []
    for trial in study.trials:
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        duration = trial.duration.total_seconds() if trial.duration is not None else None
        rows.append({"trial": trial.number, "state": trial.state.name.lower(), "params": trial.params,
                     "returns": trial.user_attrs.get("returns"), "objective": trial.value if complete else None,
                     "duration_s": None if duration is None else round(duration, 1)})  # fmt: skip
    return rows


def write_outputs(study: Any, spec: Any) -> str:
    """Write the trial tables, ``best_preset.toml`` (checked to load as a preset) and the importance plot of
    ``study`` to ``spec.run_dir``; returns what was written, one line per file."""
    import tomllib

    import optuna

    from steprl.cli.presets import parse_preset

    run_dir = spec.run_dir
    rows = _rows(study)
    names = list(dict.fromkeys(name for row in rows for name in row["params"]))
    write_trial_tables(run_dir, rows, names, spec.seeds)
    lines = [f"trials: {os.path.join(run_dir, 'trials.csv')} and trials.md ({len(rows)} trials)"]
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        lines.append("no trial completed yet: no best_preset.toml")
        return "\n".join(lines)
    best = study.best_trial
    table = best.user_attrs["table"]
    returns = ", ".join(f"{r:.1f}" for r in best.user_attrs.get("returns", []))
    seeds = ",".join(map(str, spec.seeds))
    path = os.path.join(run_dir, "best_preset.toml")
    comments = [
        f"steprl tune: best of {len(completed)} completed trials of study '{study.study_name}': trial {best.number}",
        f"objective {best.value:.1f}: mean final evaluation over seeds {seeds} ({returns}), "
        f"{table['timesteps']} environment steps",
        ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in best.params.items()),
        f"use: steprl train --env {spec.env} --agent {spec.agent} --preset-file {path}",
    ]
    text = preset_toml(spec.agent, table, comments)
    parse_preset(tomllib.loads(text), spec.env_id, spec.agent, path)  # what steprl train will read
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    lines.append(f"best: trial {best.number}, {best.value:.1f} (seeds {seeds}: {returns}); preset: {path}")
    lines.append(write_importances(study, os.path.join(run_dir, "param_importances.png")))
    return "\n".join(lines)
