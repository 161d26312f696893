"""Formulas typed on the command line, turned into a graph without ever running them as code.

The text is parsed with `ast` and checked against a short whitelist — numbers, the given
variable names, `+ - * / **`, unary minus, parentheses and exp/log/tanh/sigmoid/relu — and only
then interpreted node by node with scalar `Value`s. There is no eval or exec anywhere, so a
string like `__import__('os').system(...)` is refused before anything happens.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable, Mapping

import numpy as np

import autograd
from autograd import Tensor, Value

FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": autograd.exp,
    "log": autograd.log,
    "tanh": autograd.tanh,
    "sigmoid": autograd.sigmoid,
    "relu": autograd.relu,
}
OPERATORS: dict[type[ast.operator], Callable[[Tensor, Tensor], Tensor]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
MAX_LENGTH = 2000


class ExprError(ValueError):
    """The formula is not allowed (or not valid); the message says what and why, in one line."""


def build(text: str, values: Mapping[str, float]) -> tuple[Tensor, dict[str, Tensor]]:
    """The graph of `text`, and one named `Value` per variable (they receive the gradients)."""
    tree = parse(text, values.keys())
    variables: dict[str, Tensor] = {name: Value(float(v), name) for name, v in values.items()}
    try:
        with np.errstate(all="ignore"):  # 1/0 gives inf, as in numpy: shown, not warned about
            return _evaluate(tree.body, variables), variables
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply") from None


def parse(text: str, names: Iterable[str]) -> ast.Expression:
    """Parse and check `text`; raise ExprError naming the first thing that is not allowed."""
    allowed = set(names)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():  # "1if x else 2": one line of refusal, not a warning too
            warnings.simplefilter("error", SyntaxWarning)  # raised as a SyntaxError
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"not a formula: {exc.msg}") from None
    except UnicodeError:  # a lone surrogate: bytes the terminal's encoding could not decode
        raise ExprError("not a formula: it holds bytes that are not text in this locale") from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply") from None
    except ValueError as exc:  # e.g. a null byte (Python < 3.12)
        raise ExprError(f"not a formula: {exc}") from None
    for node in ast.walk(tree):
        _check(node, allowed)
    return tree


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, (ast.Expression, ast.Load)) or type(node) in OPERATORS:
        return
    if isinstance(node, (ast.BinOp, ast.USub)):
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise ExprError(f"only unary minus is allowed (refused: {_show(node)})")
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExprError(f"only numbers are allowed as constants, not {_show(node)}")
        return
    if isinstance(node, ast.Name):
        if node.id not in names and node.id not in FUNCTIONS:
            raise ExprError(
                f"unknown name {node.id!r}: give it a value (e.g. {node.id}=1.5) or use one of "
                f"{', '.join(FUNCTIONS)}"
            )
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExprError(
                f"calls other than {', '.join(FUNCTIONS)} are not allowed: {_show(node)}"
            )
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ExprError(f"{node.func.id}() takes exactly one argument: {_show(node)}")
        return
    kind = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts",
        ast.Lambda: "lambdas",
        ast.ListComp: "comprehensions",
        ast.SetComp: "comprehensions",
        ast.DictComp: "comprehensions",
        ast.GeneratorExp: "comprehensions",
    }.get(type(node), type(node).__name__)
    if isinstance(node, (ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
        raise ExprError(
            f"not allowed in a formula: the operator {_OPERATOR_NAMES.get(type(node), kind)}"
        )
    raise ExprError(f"not allowed in a formula: {kind} ({_show(node)})")


_OPERATOR_NAMES = {
    ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
    ast.And: "and", ast.Or: "or",
}  # fmt: skip


def _show(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except RecursionError:  # unparse recurses; `~` before 330 minus signs is enough
        return "a deeply nested expression"
    return text if len(text) <= 40 else text[:37] + "..."


def _evaluate(node: ast.expr, variables: Mapping[str, Tensor]) -> Tensor:
    """Interpret a checked tree; numbers become constants the engine records as such."""
    if isinstance(node, ast.Constant):
        try:
            return Tensor(float(node.value), requires_grad=False)
        except OverflowError:
            raise ExprError(f"the number {_show(node)} is too large") from None
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"{node.id} is a function: call it, e.g. {node.id}(x)")
        return variables[node.id]
    if isinstance(node, ast.UnaryOp):
        return -_evaluate(node.operand, variables)
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, variables)
        right = _evaluate(node.right, variables)
        return OPERATORS[type(node.op)](left, right)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id](_evaluate(node.args[0], variables))
