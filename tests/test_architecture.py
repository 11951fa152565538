"""The house is plain from the tree: imports point down, no circles, short modules, kernels that stay pure, named
slots, package docstrings that name what they may import, and recipes in docs/architecture.md that name real files.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "loyaltysim"
LAYERS = {
    "_version": 0,
    "vocabulary": 0,
    "errors": 0,
    "scenario": 1,
    "engine": 2,
    "runs": 3,
    "comparisons": 4,
    "sweeps": 4,
    "survey": 4,
    "calibration": 5,
    "teach": 5,
    "ema": 5,
    "cli": 6,
}
"""Each top-level module or package of loyaltysim, bottom first; a module may import only from lower layers or from
its own package."""
KERNEL_MODULES = ("engine/kernels.py", "engine/listen.py", "engine/rules.py", "engine/rng.py", "engine/state.py")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """loyaltysim modules a file imports (``if TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and top_level_only:
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("loyaltysim"):
                found.add(child.module)
                found.update(f"{child.module}.{a.name}" for a in child.names)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("loyaltysim"))
            visit(child, depth + 1)

    visit(tree, 0)
    known = modules()
    return {name for name in found if name in known}


def layer(module: str) -> tuple[str, int]:
    head = module.split(".")[1]
    return head, LAYERS[head]


@pytest.mark.parametrize("module", [m for m in modules() if m != "loyaltysim"])
def test_imports_point_down(module):
    own, level = layer(module)
    for target in imports(modules()[module]):
        assert target != "loyaltysim", f"{module} imports the package root, which sits above everything"
        head, target_level = layer(target)
        assert head == own or target_level < level, f"{module} imports {target} (layer {head} is not below {own})"


def test_no_import_circles():
    graph = {m: imports(p, top_level_only=True) - {"loyaltysim"} for m, p in modules().items() if m != "loyaltysim"}
    for name in graph:
        graph[name] = {t for t in graph[name] if t != name}
    seen: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in graph.get(node, ()):
            if seen.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in seen:
                walk(nxt, [*stack, nxt])
        seen[node] = 2

    for name in graph:
        if name not in seen:
            walk(name, [name])


@pytest.mark.parametrize("module", list(modules()))
def test_modules_are_short_or_say_why(module):
    path = modules()[module]
    text = path.read_text(encoding="utf-8")
    n = text.count("\n")
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert doc, f"{module} has no module docstring"
    assert n <= MAX_LINES or "kept whole" in doc, f"{module}: {n} lines; split it or say why it is kept whole"


@pytest.mark.parametrize("package", [p for p in LAYERS if (SRC / p).is_dir()])
def test_package_docstrings_name_the_flow_and_what_they_may_import(package):
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert "may import" in doc.lower() or (package == "scenario" and "imports only" in doc), package


def test_kernel_modules_do_not_load_the_declarations_even_indirectly():
    """The compiled modules reach only numpy, numba and the engine's bottom (layout, prefetch, rng, rules, state)."""
    known = modules()
    for name in KERNEL_MODULES:
        todo, seen = [f"loyaltysim.{name.removesuffix('.py').replace('/', '.')}"], set()
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            todo.extend(imports(known[module], top_level_only=True))
        pure = {"loyaltysim", "loyaltysim.engine", "loyaltysim.vocabulary"} | {
            f"loyaltysim.engine.{m}" for m in ("kernels", "listen", "layout", "prefetch", "rng", "rules", "state")
        }
        assert seen <= pure, f"{name} reaches {sorted(seen - pure)}"


def test_every_touchpoint_lever_has_a_level_column():
    from loyaltysim.engine.layout import LEVEL_COLUMNS
    from loyaltysim.scenario import TOUCHPOINT_LEVERS, Touchpoint

    assert set(TOUCHPOINT_LEVERS) <= {"visits_per_month", *LEVEL_COLUMNS}
    assert set(LEVEL_COLUMNS) - {"cumulative_share"} <= set(Touchpoint.model_fields)


@pytest.mark.parametrize("name", KERNEL_MODULES)
def test_kernel_modules_import_only_numpy_numba_and_the_engine(name):
    tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            mod = node.module
        elif isinstance(node, ast.Import):
            mod = node.names[0].name
        else:
            continue
        allowed = mod in (
            "__future__",
            "math",
            "enum",
            "typing",
            "numpy",
            "numba",
            "loyaltysim.engine",
        ) or mod.startswith(("loyaltysim.engine.", "numba."))
        assert allowed, f"{name} imports {mod}"
        assert not mod.startswith(("loyaltysim.engine.model", "loyaltysim.engine.agents", "loyaltysim.engine.plan"))


POSITIONAL = re.compile(
    r"\b(levels|persona_table|lv|counts|sums)\[[^\]]*,\s*(extra\s*\+\s*)?\d+\s*\]|\bby_stage\[\d|\bflags\s*>>\s*\d"
    r"|FIRST_STAGE\s*\+\s*\d"
)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_positional_index_into_the_layout(path):
    if path.name == "layout.py":
        return
    hits = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if POSITIONAL.search(line)]
    assert not hits, f"index the layout by name (loyaltysim.engine.layout): {hits}"


def test_architecture_recipes_name_real_files_and_names():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    recipes = text.split("## How to", 1)[1]
    paths = re.findall(r"`((?:src|tests|docs|scenarios|benchmarks)/[\w/.-]+)`", recipes)
    assert len(paths) >= 8
    for p in paths:
        assert (ROOT / p).exists(), p
    for p, names in re.findall(r"`((?:src|tests)/[\w/.-]+\.py)` \(([^)]*)\)", recipes):
        source = (ROOT / p).read_text(encoding="utf-8")
        for name in re.findall(r"`(\w+)`", names):
            assert re.search(rf"\b(def|class)\s+{name}\b|^{name}\s*[:=]|\b{name}\s*=", source, re.M), (p, name)
    tree = text.split("```text", 1)[1].split("```", 1)[0]
    package, listed = "", set()
    for line in tree.splitlines():
        m = re.match(r"(\s*)([\w/]+?)(/|\.py)\s", line + " ")
        if not m:
            continue
        if not m.group(1):
            package = m.group(2) + "/" if m.group(3) == "/" else ""
        if m.group(3) == ".py":
            listed.add((package if m.group(1) else "") + m.group(2) + ".py")
    on_disk = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "__init__.py"}
    on_disk = {p for p in on_disk if not p.startswith("teach/")}  # the classroom is one line of the tree
    assert listed == on_disk, f"docs/architecture.md's tree differs from src: {sorted(listed ^ on_disk)}"
