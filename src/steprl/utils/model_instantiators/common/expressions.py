"""Safe parsing of the ``input`` and ``output`` expressions of instantiator network definitions.

Expressions are parsed with :func:`ast.parse` and interpreted from a whitelist of node forms; nothing is
evaluated by Python. Each parsed expression runs on a backend's arrays and renders itself as that backend's
Python source through an :class:`ExprOps` the backend supplies.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "INPUT_GRAMMAR",
    "INPUT_TOKENS",
    "OUTPUT_ACTIVATIONS",
    "OUTPUT_GRAMMAR",
    "Concat",
    "Expr",
    "ExprOps",
    "OutputSpec",
    "Permute",
    "Ref",
    "parse_input",
    "parse_output",
]

#: input token → variable name used by ``compute`` (and by the generated source)
INPUT_TOKENS: dict[str, str] = {
    "STATES": "states",
    "OBSERVATIONS": "states",
    "ACTIONS": "taken_actions",
    "STATES_ACTIONS": "states_actions",
}

INPUT_GRAMMAR = (
    "expr := TOKEN | NAME | concatenate([expr, ...]) | permute(expr, (int, ...)); "
    "TOKEN is STATES, OBSERVATIONS, ACTIONS or STATES_ACTIONS; NAME is an earlier network entry"
)
OUTPUT_GRAMMAR = "[scale *] [activation(] TOKEN [)], TOKEN is ACTIONS or ONE (e.g. 'ACTIONS', '2 * tanh(ACTIONS)')"

#: output activations of the ``output`` grammar
OUTPUT_ACTIVATIONS = ("elu", "leaky_relu", "relu", "selu", "sigmoid", "softmax", "softplus", "softsign", "tanh")


class ExprOps(Protocol):
    """How a backend runs and writes the parsed expressions."""

    def concat(self, arrays: list[Any]) -> Any: ...

    def permute(self, array: Any, dims: tuple[int, ...]) -> Any: ...

    def activation(self, name: str, array: Any) -> Any: ...

    def concat_source(self, items: list[str]) -> str: ...

    def permute_source(self, item: str, dims: tuple[int, ...]) -> str: ...

    def activation_source(self, name: str, variable: str) -> str: ...


@dataclass(frozen=True)
class Ref:
    """A token (``STATES``, ``ACTIONS``, ...) or the output of an earlier network entry."""

    name: str

    @property
    def variable(self) -> str:
        return INPUT_TOKENS.get(self.name, self.name)

    def names(self) -> set[str]:
        return {self.variable}

    def evaluate(self, env: dict[str, Any], ops: ExprOps) -> Any:
        return env[self.variable]

    def source(self, ops: ExprOps) -> str:
        return self.variable


@dataclass(frozen=True)
class Concat:
    """``concatenate([a, b, ...])``: concatenation along dim 1."""

    items: tuple[Expr, ...]

    def names(self) -> set[str]:
        return set().union(*(item.names() for item in self.items))

    def evaluate(self, env: dict[str, Any], ops: ExprOps) -> Any:
        return ops.concat([item.evaluate(env, ops) for item in self.items])

    def source(self, ops: ExprOps) -> str:
        return ops.concat_source([item.source(ops) for item in self.items])


@dataclass(frozen=True)
class Permute:
    """``permute(x, (0, 3, 1, 2))``: dimension permutation (e.g. NHWC images to NCHW)."""

    item: Expr
    dims: tuple[int, ...]

    def names(self) -> set[str]:
        return self.item.names()

    def evaluate(self, env: dict[str, Any], ops: ExprOps) -> Any:
        return ops.permute(self.item.evaluate(env, ops), self.dims)

    def source(self, ops: ExprOps) -> str:
        return ops.permute_source(self.item.source(ops), self.dims)


Expr = Ref | Concat | Permute


def _input_error(source: str, detail: str) -> ValueError:
    return ValueError(f"Invalid network input {source!r}: {detail}. Accepted grammar: {INPUT_GRAMMAR}")


def _int_tuple(node: ast.AST, source: str) -> tuple[int, ...]:
    elements = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
    dims: list[int] = []
    for element in elements:
        if isinstance(element, ast.UnaryOp) and isinstance(element.op, ast.USub):
            dims.append(-_int_tuple(element.operand, source)[0])
        elif isinstance(element, ast.Constant) and type(element.value) is int:
            dims.append(element.value)
        else:
            raise _input_error(source, "permute dimensions must be integers")
    return tuple(dims)


def _to_expr(node: ast.AST, known: set[str], source: str) -> Expr:
    if isinstance(node, ast.Name):
        if node.id not in INPUT_TOKENS and node.id not in known:
            raise _input_error(source, f"unknown name {node.id!r} (earlier entries: {sorted(known) or 'none'})")
        return Ref(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id == "concatenate" and len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple)):
            items = tuple(_to_expr(item, known, source) for item in node.args[0].elts)
            if not items:
                raise _input_error(source, "concatenate needs at least one item")
            return Concat(items)
        if node.func.id == "permute" and len(node.args) >= 2:
            dims = (
                _int_tuple(node.args[1], source)
                if len(node.args) == 2
                else _int_tuple(ast.Tuple(node.args[1:]), source)
            )
            return Permute(_to_expr(node.args[0], known, source), dims)
    raise _input_error(source, f"unsupported expression {ast.unparse(node)!r}")


def parse_input(source: Any, known: set[str]) -> Expr:
    """Parse a network entry's ``input``; ``known`` holds the names of the earlier entries."""
    if not isinstance(source, str) or not source.strip():
        raise _input_error(str(source), "expected a non-empty string")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise _input_error(source, f"syntax error ({exc.msg})") from None
    return _to_expr(tree.body, known, source)


@dataclass(frozen=True)
class OutputSpec:
    """Parsed ``output``: an output layer of ``token`` size (``None``: no layer), then activation and scale."""

    token: str | None = None
    activation: str | None = None
    scale: float | None = None

    def apply(self, x: Any, ops: ExprOps) -> Any:
        if self.activation is not None:
            x = ops.activation(self.activation, x)
        return x if self.scale is None else self.scale * x

    def source(self, variable: str, ops: ExprOps) -> str:
        text = variable if self.activation is None else ops.activation_source(self.activation, variable)
        return text if self.scale is None else f"{self.scale!r} * {text}"


def _output_error(source: str, detail: str) -> ValueError:
    return ValueError(f"Invalid output {source!r}: {detail}. Accepted grammar: {OUTPUT_GRAMMAR}")


def _number(node: ast.AST) -> float | None:
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sign * float(node.value)
    return None


def _activated_token(node: ast.AST, source: str) -> tuple[str, str | None]:
    activation = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 and not node.keywords:
        activation = node.func.id.lower()
        if activation not in OUTPUT_ACTIVATIONS:
            raise _output_error(source, f"unknown activation {node.func.id!r} (valid: {', '.join(OUTPUT_ACTIVATIONS)})")
        node = node.args[0]
    if isinstance(node, ast.Name) and node.id in ("ACTIONS", "ONE"):
        return node.id, activation
    raise _output_error(source, f"unsupported expression {ast.unparse(node)!r}")


def parse_output(source: Any) -> OutputSpec:
    """Parse an ``output`` expression (``""`` / ``None``: the last network entry is the output, unchanged)."""
    if source is None or (isinstance(source, str) and not source.strip()):
        return OutputSpec()
    if not isinstance(source, str):
        raise _output_error(str(source), "expected a string")
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _output_error(source, f"syntax error ({exc.msg})") from None
    scale = None
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Mult):
            raise _output_error(source, "only '*' (scaling by a number) is supported")
        scale, operand = _number(node.left), node.right
        if scale is None:
            scale, operand = _number(node.right), node.left
        if scale is None:
            raise _output_error(source, "one operand of '*' must be a number")
        node = operand
    token, activation = _activated_token(node, source)
    return OutputSpec(token, activation, scale)
