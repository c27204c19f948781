"""Mutation testing of steprl's pure math: run by hand, not in CI.

    /work/venv/bin/python tools/mutation.py                      # every module group, a Markdown table at the end
    /work/venv/bin/python tools/mutation.py ppo_losses gae -v    # some groups, listing the surviving mutants
    /work/venv/bin/python tools/mutation.py --list               # the groups, their functions and their tests

Each mutant changes one thing in one function of a module (an arithmetic, comparison or boolean operator, a number,
a min/max-like call swapped for its twin or dropped for its argument, a keyword argument, a statement, a condition)
and runs that group's fast tests with ``-x``; a failing or timed-out run kills the mutant. The sources are mutated
in a private copy of ``src/`` that shadows the installed package (never in the checkout), and every mutant runs in
a forked child of one process that has already imported torch and pytest: one pytest run at a time.

mutmut 3 is not used: it copies the whole project, runs the whole selected suite once per session to map tests to
functions and cannot give each module its own test selection; a group's kill rate here is against its own tests.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ("src", "tests", "pyproject.toml")  # what the runs see: a private copy of these
_originals: dict[str, str] = {}
_source_root = ROOT  # where the unmutated modules are read from (the checkout, or a --ref snapshot)


def _original(path: str) -> str:
    """The unmutated text of ``path``."""
    if path not in _originals:
        _originals[path] = (_source_root / path).read_text()
    return _originals[path]


@dataclass(frozen=True)
class Source:
    """A module under ``src/`` and the functions of it to mutate (``Class.method`` or ``function``; empty: all)."""

    path: str
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """Modules measured together against one selection of fast tests (pytest arguments: paths, ``-k`` ...)."""

    sources: tuple[Source, ...]
    tests: tuple[str, ...]


_LOSSES = "src/steprl/agents/torch/{}/losses.py"
_OFF_POLICY_TESTS = ("tests/torch/losses/test_off_policy_targets.py",)
GROUPS: dict[str, Group] = {
    "gae": Group(
        (Source("src/steprl/agents/torch/gae.py"),),
        ("tests/torch/losses/test_gae.py", "tests/torch/agents/test_gae.py"),
    ),
    "ppo_losses": Group((Source(_LOSSES.format("ppo")),), ("tests/torch/losses/test_ppo_loss.py",)),
    "a2c_losses": Group((Source(_LOSSES.format("a2c")),), ("tests/torch/losses/test_a2c_loss.py",)),
    "trpo_losses": Group(
        (Source(_LOSSES.format("trpo")),),
        (
            "tests/torch/losses/test_trpo_pieces.py",
            "tests/torch/agents/test_trpo.py",
            "-k",
            "pieces or conjugate or fisher or accepted_step or rejected_step",
        ),
    ),
    "cem_losses": Group(
        (Source(_LOSSES.format("cem")),),
        (
            "tests/torch/losses/test_cem_update.py",
            "tests/torch/agents/test_cem.py",
            "-k",
            "cem_update or select_elite or carried or truncated_episodes",
        ),
    ),
    "ddpg_losses": Group((Source(_LOSSES.format("ddpg")),), _OFF_POLICY_TESTS),
    "td3_losses": Group((Source(_LOSSES.format("td3")),), _OFF_POLICY_TESTS),
    "dqn_losses": Group((Source(_LOSSES.format("dqn")),), _OFF_POLICY_TESTS),
    "sac_losses": Group((Source(_LOSSES.format("sac")),), _OFF_POLICY_TESTS),
    "q_learning_losses": Group(
        (Source(_LOSSES.format("q_learning")),),
        (
            "tests/torch/losses/test_tabular_targets.py",
            "tests/torch/agents/test_tabular_agents.py",
            "-k",
            "tabular_targets or hand_computation or shared_table or deferred",
        ),
    ),
    "episode_boundaries": Group(
        (
            Source(
                "src/steprl/envs/wrappers/common/gymnasium_core.py",
                (
                    "is_vector_env",
                    "autoreset_mode",
                    "supports_partial_reset",
                    "GymnasiumCore.reset",
                    "GymnasiumCore.step",
                    "GymnasiumCore._final_observations",
                ),
            ),
        ),
        ("tests/torch/losses/test_episode_boundaries.py", "tests/torch/test_wrappers.py"),
    ),
    "memory_sampler": Group(
        (
            Source(
                "src/steprl/memories/torch/base.py",
                ("Memory._index", "Memory._randperm", "Memory._randint", "Memory._split"),
            ),
            Source(
                "src/steprl/core/memory.py",
                ("MemoryCore.__len__", "MemoryCore.sample_by_index", "MemoryCore.sample_all", "RandomSampling.sample"),
            ),
        ),
        ("tests/torch/losses/test_memory_sampling.py", "tests/torch/test_memories.py"),
    ),
}

# Mutants no test can kill because the program means the same after the change, keyed by group and description.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("trpo_losses", "fisher_vector_product: `vector.detach()` -> `vector`"): (
        "autograd.grad differentiates w.r.t. the parameters only: the product's value is the same whether or not "
        "the direction carries a graph"
    ),
    ("dqn_losses", "dqn_targets: `-1` -> `1`"): "the next action values are (B, num_actions): dimension 1 is the last",
    ("dqn_losses", "dqn_targets: `-1` -> `1` (#2)"): "as above, for the gather of double DQN",
    ("dqn_losses", "dqn_targets: `-1` -> `1` (#3)"): "as above, for the online argmax of double DQN",
    (
        "dqn_losses",
        "dqn_loss: `-1` -> `1`",
    ): "the action values are (B, num_actions): gather on dimension 1 is the last",
    ("q_learning_losses", "q_learning_targets: `-1` -> `1`"): (
        "Q(rows, next_states) is always (N, A): its dimension 1 is its last"
    ),
    (
        "q_learning_losses",
        "td_update_: `q_table.shape[0] == 1 and flat.shape[0] > 1` -> `q_table.shape[0] == 1 or flat.shape[0] > 1`",
    ): ("per-environment tables never collide: dividing their steps by the hit counts divides by 1"),
    ("q_learning_losses", "td_update_: `flat.shape[0] > 1` -> `flat.shape[0] >= 1`"): (
        "one environment on a shared table: its hit count is 1"
    ),
    ("memory_sampler", "RandomSampling.sample: `sequence_length > 1` -> `sequence_length >= 1`"): (
        "for sequence_length 1 the offsets are [0]: the expansion adds nothing"
    ),
    ("memory_sampler", "MemoryCore.sample_by_index: `mini_batches > 1` -> `mini_batches >= 1`"): (
        "one mini-batch: tensor_split into one part is the whole index array, the same single batch"
    ),
    ("memory_sampler", "MemoryCore.sample_all: `size < total` -> `size <= total`"): (
        "a full memory (size == total) keeps every index either way"
    ),
    ("memory_sampler", "MemoryCore.sample_all: `mini_batches > 1` -> `mini_batches >= 1`"): (
        "one mini-batch: view[0:size] is the same view of the same storage as view[:size]"
    ),
    ("memory_sampler", "MemoryCore.sample_all: `1` -> `2` (#5)"): (
        "range(mini_batches + 2) adds a trailing edge that the split never reads"
    ),
}

# ------------------------------------------------------------------------------------------------ mutation operators
_BINOP_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
}
_COMPARE_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_NAME_SWAPS = {
    "min": "max",
    "max": "min",
    "minimum": "maximum",
    "maximum": "minimum",
    "amin": "amax",
    "amax": "amin",
    "argmin": "argmax",
    "argmax": "argmin",
    "any": "all",
    "all": "any",
    "clamp_min": "clamp_max",
    "clamp_max": "clamp_min",
    "sum": "mean",
    "mean": "sum",
    "floor": "ceil",
    "ceil": "floor",
}
# calls replaced by their receiver (``x.f(...)`` -> ``x``) or first argument (``f(x, ...)`` -> ``x``)
_DROPPABLE_CALLS = {
    "clamp",
    "clip",
    "clamp_min",
    "clamp_max",
    "detach",
    "logical_not",
    "abs",
    "min",
    "max",
    "minimum",
    "maximum",
    "mean",
    "sum",
}
_DROPPABLE_KEYWORDS = {"keepdim", "dim", "min", "max", "create_graph", "retain_graph", "allow_unused", "stable"}

Builder = Callable[[ast.AST], ast.AST | None]  # a mutated copy of the node (None: delete the statement)


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _mutations(node: ast.AST) -> Iterator[Builder]:
    """The mutated versions of ``node`` (each as a function of a fresh copy of it)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        yield lambda n: ast.BinOp(n.left, _BINOP_SWAPS[type(n.op)](), n.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
        yield lambda n: n.operand
    elif isinstance(node, ast.BoolOp):
        yield lambda n: ast.BoolOp(ast.Or() if isinstance(n.op, ast.And) else ast.And(), n.values)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_SWAPS:
        yield lambda n: ast.Compare(n.left, [_COMPARE_SWAPS[type(n.ops[0])]()], n.comparators)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        if isinstance(node.value, bool):
            yield lambda n: ast.Constant(not n.value)
        else:
            yield lambda n: ast.Constant(n.value + 1)
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
        yield lambda n: ast.AugAssign(n.target, _BINOP_SWAPS[type(n.op)](), n.value)
    elif isinstance(node, ast.Call):
        yield from _call_mutations(node)
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield lambda n: None  # drop a statement run for its effect (an in-place update, a check)
    elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
        yield lambda n: None  # drop an in-place write into an array
    elif isinstance(node, (ast.If, ast.IfExp, ast.While)) and not isinstance(node.test, (ast.Compare, ast.UnaryOp)):
        yield lambda n: _with_test(n, ast.UnaryOp(ast.Not(), n.test))
    elif isinstance(node, ast.With):
        yield lambda n: ast.If(ast.Constant(True), n.body, [])  # run the body outside the context (no_grad, ...)


def _call_mutations(node: ast.Call) -> Iterator[Builder]:
    name = _call_name(node)
    if name in _NAME_SWAPS:
        yield lambda n: _renamed(n, _NAME_SWAPS[name])
    if name in _DROPPABLE_CALLS:
        if isinstance(node.func, ast.Attribute) and not _is_module(node.func.value):
            yield lambda n: n.func.value
        elif node.args:
            yield lambda n: n.args[0]
    for index, keyword in enumerate(node.keywords):
        if keyword.arg in _DROPPABLE_KEYWORDS:
            yield lambda n, i=index: ast.Call(n.func, n.args, n.keywords[:i] + n.keywords[i + 1 :])


def _is_module(node: ast.AST) -> bool:
    """``torch`` / ``np`` / ``F`` style receivers: ``torch.clamp(x, ...)`` drops to ``x``, not to ``torch``."""
    return isinstance(node, ast.Name) and node.id in {"torch", "np", "numpy", "F", "math", "jnp"}


def _renamed(node: ast.Call, name: str) -> ast.Call:
    func = copy.copy(node.func)
    if isinstance(func, ast.Attribute):
        func.attr = name
    else:
        func.id = name
    return ast.Call(func, node.args, node.keywords)


def _with_test(node: ast.If | ast.IfExp | ast.While, test: ast.expr) -> ast.AST:
    new = copy.copy(node)
    new.test = test
    return new


# ------------------------------------------------------------------------------------------------ mutant enumeration
@dataclass
class Mutant:
    """One mutation: the ``site``-th mutable node of ``source`` in walk order, its ``variant``-th mutation."""

    source: str
    function: str
    site: int
    variant: int
    line: int
    description: str
    status: str = "not run"
    detail: str = field(default="", repr=False)


def _skipped(node: ast.AST) -> bool:
    """Nodes whose subtrees are never mutated: error paths, messages, annotations and docstrings."""
    if isinstance(node, (ast.Raise, ast.JoinedStr, ast.Assert)):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _functions(tree: ast.Module, wanted: tuple[str, ...]) -> Iterator[tuple[str, ast.AST]]:
    """``(qualname, node)`` of the module's functions and methods named in ``wanted`` (all when empty)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            candidates = [(node.name, node)]
        elif isinstance(node, ast.ClassDef):
            candidates = [
                (f"{node.name}.{item.name}", item)
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
        else:
            continue
        for qualname, function in candidates:
            if not wanted or qualname in wanted:
                yield qualname, function


def _sites(function: ast.AST) -> Iterator[tuple[ast.AST, ast.AST, str, int | None]]:
    """``(node, parent, field, index)`` for every node of the function body, depth first, in source order."""
    stack: list[tuple[ast.AST, ast.AST, str, int | None]] = []
    for name, value in reversed(list(ast.iter_fields(function))):
        if name in ("body",):
            stack.extend((child, function, name, i) for i, child in reversed(list(enumerate(value))))
    while stack:
        node, parent, name, index = stack.pop()
        if _skipped(node):
            continue
        yield node, parent, name, index
        children = []
        for child_field, value in ast.iter_fields(node):
            if child_field in ("annotation", "returns", "type_comment"):
                continue
            if isinstance(value, list):
                children.extend(
                    (child, node, child_field, i) for i, child in enumerate(value) if isinstance(child, ast.AST)
                )
            elif isinstance(value, ast.AST):
                children.append((value, node, child_field, None))
        stack.extend(reversed(children))


def _replace(parent: ast.AST, name: str, index: int | None, new: ast.AST | None) -> None:
    if index is None:
        setattr(parent, name, new)
        return
    items = getattr(parent, name)
    if new is None:
        items[index] = ast.Pass()
    else:
        items[index] = new


def enumerate_mutants(source: Source) -> list[Mutant]:
    """Every mutant of ``source``'s functions, described as ``function: `before` -> `after```."""
    tree = ast.parse(_original(source.path))
    found = {name for name, _ in _functions(tree, source.functions)}
    missing = set(source.functions) - found
    if missing:
        raise SystemExit(f"{source.path}: no function named {sorted(missing)} (update GROUPS in {__file__})")
    mutants: list[Mutant] = []
    seen: dict[str, int] = {}
    site = 0
    for qualname, function in _functions(tree, source.functions):
        for node, _, _, _ in _sites(function):
            for variant, build in enumerate(_mutations(node)):
                new = build(copy.deepcopy(node))
                after = "(statement removed)" if new is None else _unparse(new)
                description = f"{qualname}: `{_unparse(node)}` -> `{after}`"
                seen[description] = seen.get(description, 0) + 1
                if seen[description] > 1:
                    description += f" (#{seen[description]})"
                mutants.append(Mutant(source.path, qualname, site, variant, node.lineno, description))
            site += 1
    return mutants


def _unparse(node: ast.AST) -> str:
    text = ast.unparse(node)
    first = text.splitlines()[0] if text else text
    return first if len(first) <= 90 else first[:87] + "..."


def mutated_source(mutant: Mutant | None, path: str) -> str:
    """The module's source with ``mutant`` applied (``None``: unmutated, formatted by ``ast.unparse`` as well)."""
    tree = ast.parse(_original(path))
    if mutant is not None:
        source = next(s for g in GROUPS.values() for s in g.sources if s.path == path)
        site = 0
        for _, function in _functions(tree, source.functions):
            for node, parent, name, index in _sites(function):
                if site == mutant.site:
                    build = list(_mutations(node))[mutant.variant]
                    _replace(parent, name, index, build(node))
                    return ast.unparse(ast.fix_missing_locations(tree))
                site += 1
        raise RuntimeError(f"mutant site {mutant.site} not found in {path}")
    return ast.unparse(tree)


# ------------------------------------------------------------------------------------------------ running
def _preload() -> None:
    """Import the heavy dependencies once, in the parent, so that each forked mutant run skips them."""
    import _pytest.python  # noqa: F401
    import gymnasium  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch

    torch.set_num_threads(1)


def run_tests(tests: tuple[str, ...], timeout: float, cwd: Path) -> tuple[str, float]:
    """Run ``tests`` with ``-x`` in a forked child; ``("passed" | "failed" | "timeout", seconds)``."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: quiet, in the repository, importing steprl from the private copy
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.chdir(cwd)
            import pytest

            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])
            os._exit(int(code))
        except BaseException:
            os._exit(99)
    try:
        return _wait(pid, start, timeout)
    except BaseException:  # interrupted: never leave a mutant run behind
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise


def _wait(pid: int, start: float, timeout: float) -> tuple[str, float]:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            seconds = time.monotonic() - start
            return ("passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"), seconds
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start
        time.sleep(0.02)


def run_group(
    name: str, copy_root: Path, verbose: bool, limit: int | None, match: str | None, previous: list[dict] | None
) -> list[Mutant]:
    """Run the group's mutants; with ``previous`` (the group's records from an earlier ``--json``), only those that
    were not killed then, when the group enumerates exactly the same mutants (same code)."""
    group = GROUPS[name]
    mutants = [m for source in group.sources for m in enumerate_mutants(source)]
    mutants = [m for m in mutants if match is None or match in m.description][:limit]
    carried: list[Mutant] = []
    if previous is not None:
        before = {(r["source"], r["description"]): r["status"] for r in previous}
        if set(before) != {(m.source, m.description) for m in mutants}:
            print(f"{name}: the code differs from the previous run: running every mutant", flush=True)
        else:
            for mutant in mutants:
                if before[(mutant.source, mutant.description)] in ("killed", "timeout"):
                    mutant.status = before[(mutant.source, mutant.description)]
                    mutant.detail = "killed in the previous run"
                    carried.append(mutant)
            mutants = [m for m in mutants if m not in carried]
    for source in group.sources:  # the unmutated baseline, in the same ast.unparse formatting as the mutants
        (copy_root / source.path).write_text(mutated_source(None, source.path))
    status, seconds = run_tests(group.tests, 600, copy_root)
    if status != "passed":
        print(f"{name}: SKIPPED, its tests fail without any mutation ({status}): {' '.join(group.tests)}", flush=True)
        return []
    timeout = max(15.0, 4 * seconds)
    print(
        f"{name}: {len(mutants)} mutants to run ({len(carried)} killed before), baseline {seconds:.1f} s, "
        f"timeout {timeout:.0f} s",
        flush=True,
    )
    for i, mutant in enumerate(mutants):
        target = copy_root / mutant.source
        target.write_text(mutated_source(mutant, mutant.source))
        outcome, _ = run_tests(group.tests, timeout, copy_root)
        target.write_text(mutated_source(None, mutant.source))
        mutant.status = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[outcome]
        if mutant.status == "survived" and (name, mutant.description) in EQUIVALENT:
            mutant.status = "equivalent"
        if verbose and (mutant.status in ("survived", "equivalent") or match is not None):
            print(f"  [{i + 1}/{len(mutants)}] {mutant.status}: {mutant.source}:{mutant.line} {mutant.description}")
    return carried + mutants


def summary(results: dict[str, list[Mutant]]) -> str:
    """The Markdown table: per group, mutants, killed (timeouts included), equivalent, survived, kill rates."""
    lines = [
        "| module group | mutants | killed | equivalent | survived | kill rate | excluding equivalent |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, mutants in results.items():
        killed = sum(m.status in ("killed", "timeout") for m in mutants)
        equivalent = sum(m.status == "equivalent" for m in mutants)
        survived = sum(m.status == "survived" for m in mutants)
        total = len(mutants)
        rate = killed / total if total else 1.0
        strict = killed / (total - equivalent) if total - equivalent else 1.0
        lines.append(f"| {name} | {total} | {killed} | {equivalent} | {survived} | {rate:.0%} | {strict:.0%} |")
    return "\n".join(lines)


def _snapshot(copy_root: Path, ref: str | None) -> None:
    """Copy the working tree's (or ``ref``'s) sources, tests and pytest configuration into ``copy_root``; the
    unmutated modules are read from a second, pristine copy."""
    global _source_root
    if ref is None:
        for name in SNAPSHOT:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, copy_root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / name, copy_root / name)
        pristine = copy_root.parent / "pristine"
        shutil.copytree(ROOT / "src", pristine / "src", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        pristine = copy_root.parent / "pristine"
        for target in (copy_root, pristine):
            target.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", ref, *SNAPSHOT], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    _source_root = pristine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"module groups (default: all): {', '.join(GROUPS)}")
    parser.add_argument("--list", action="store_true", help="list the groups, their sources and tests, and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every surviving mutant")
    parser.add_argument("--json", type=Path, help="write every mutant and its status to this file")
    parser.add_argument("--limit", type=int, help="run only the first N mutants of each group (a quick check)")
    parser.add_argument(
        "--ref", help="measure this git commit (src, tests, pyproject.toml) instead of the working tree, e.g. HEAD"
    )
    parser.add_argument(
        "--previous",
        type=Path,
        help="an earlier --json file: rerun only the mutants it did not kill (for groups whose code is unchanged)",
    )
    parser.add_argument("--match", help="run only the mutants whose description contains this text")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="PATH::FUNCTION",
        help="mutate this function instead of the groups (repeatable; with --tests): a group named 'custom'",
    )
    parser.add_argument("--tests", nargs="+", default=[], help="the tests of --source")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the private copy and the child on kill
    if args.source:
        if not args.tests:
            parser.error("--source needs --tests")
        sources = []
        for spec in args.source:
            path, _, function = spec.partition("::")
            sources.append(Source(path, (function,) if function else ()))
        GROUPS.clear()
        GROUPS["custom"] = Group(tuple(sources), tuple(args.tests))
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; choose from {', '.join(GROUPS)}")
    names = (args.groups if not args.source else []) or list(GROUPS)
    if args.list:
        for name in names:
            group = GROUPS[name]
            count = sum(len(enumerate_mutants(s)) for s in group.sources)
            print(f"{name} ({count} mutants)")
            for source in group.sources:
                print(f"  {source.path}: {', '.join(source.functions) or 'every function'}")
            print(f"  tests: {' '.join(group.tests)}")
            if args.verbose:
                for source in group.sources:
                    for mutant in enumerate_mutants(source):
                        print(f"    {source.path}:{mutant.line} {mutant.description}")
        return 0
    with tempfile.TemporaryDirectory(prefix="steprl-mutation-") as tmp:
        copy_root = Path(tmp) / "run"
        _snapshot(copy_root, args.ref)
        sys.path.insert(0, str(copy_root / "src"))
        sys.dont_write_bytecode = True  # a rewritten module must never be read back from a stale .pyc
        spec = importlib.util.find_spec("steprl")
        if spec is None or not str(spec.origin).startswith(tmp):
            raise SystemExit(f"steprl resolves to {spec and spec.origin}, not to the private copy under {tmp}")
        _preload()
        results: dict[str, list[Mutant]] = {}
        for name in names:
            previous = json.loads(args.previous.read_text()).get(name) if args.previous else None
            results[name] = run_group(name, copy_root, args.verbose, args.limit, args.match, previous)
            print(summary({name: results[name]}).splitlines()[-1], flush=True)
            if args.json:
                records = {group: [vars(m) for m in mutants] for group, mutants in results.items()}
                args.json.write_text(json.dumps(records, indent=1))
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
