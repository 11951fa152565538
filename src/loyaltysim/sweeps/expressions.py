"""The arithmetic of ``[derived]`` keys: numbers, parameter names, + - * / **, min, max and abs; nothing else.

Parsed with Python's own `ast` and evaluated by walking the tree, so an experiment file can never run code.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from typing import Any

__all__ = ["compile_expression", "evaluate"]

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCS = {"min": min, "max": max, "abs": abs}


def compile_expression(expr: str, names: set[str], where: str) -> ast.Expression:
    """Parse an arithmetic expression over parameter names; anything else is an error."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"{where}: '{expr}' is not an arithmetic expression") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names and node.id not in _FUNCS:
            raise ValueError(f"{where}: '{node.id}' is not a parameter; allowed: {', '.join(sorted(names))}")
        ok = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call, *_OPS)
        if not isinstance(node, ok) or (isinstance(node, ast.Constant) and not isinstance(node.value, int | float)):
            raise ValueError(f"{where}: '{expr}' may use numbers, parameter names, + - * / **, min, max, abs")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS):
            raise ValueError(f"{where}: only min, max and abs may be called")
    return tree


def evaluate(node: ast.AST, values: Mapping[str, Any]) -> float:
    """The value of a compiled expression for the parameter values of one point."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](evaluate(node.left, values), evaluate(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return _OPS[type(node.op)](evaluate(node.operand, values))
    return _FUNCS[node.func.id](*(evaluate(a, values) for a in node.args))
