"""The shape of the source tree: no import cycles (function-level imports included), the
runtime never imports the test kit, no module over its size limit, the PPO pieces called from
one place. Static checks: nothing is imported or compiled."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("ued", "envs", "curricula", "meta", "experiments")
# the conformance kit and the network zoo each keep one job in one file
SIZE_EXCEPTIONS = {"ued/testing.py", "ued/networks.py"}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for p in PACKAGES:
        for f in sorted((ROOT / p).rglob("*.py")):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _resolve(module: str, mods: dict) -> str | None:
    """The deepest module of ours that ``module`` names (``None``: not ours)."""
    while module and module not in mods:
        module = module.rpartition(".")[0]
    return module or None


def import_graph() -> dict[str, set[str]]:
    """``module -> modules of ours it imports``, at top level or inside functions.
    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = name if is_pkg else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    base = f"{pkg}.{base}" if base else pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]  # fmt: skip
            for t in targets:
                r = _resolve(t, mods)
                if r is not None and r != name:
                    graph[name].add(r)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_one_that_imports_it():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles (function-level imports included): " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_graph_walk_sees_function_level_imports_and_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    g = import_graph()
    # a function-level import is an edge: the kinds' commands import the UED report lazily
    assert "experiments.kinds.ued_report" in g["experiments.kinds.ued"]
    assert "ued.level_space" in g["ued.train"]


def test_the_runtime_never_imports_the_test_kit():
    g = import_graph()
    users = sorted(m for m, deps in g.items() if "ued.testing" in deps)
    assert users == [], f"modules importing ued.testing: {users}"


def test_no_source_module_over_its_size_limit():
    for path in _modules().values():
        rel = str(path.relative_to(ROOT))
        n = len(path.read_text().splitlines())
        if rel in SIZE_EXCEPTIONS:
            continue
        limit = 200 if rel == "experiments/cli.py" else 600
        assert n <= limit, f"{rel}: {n} lines (at most {limit})"


def test_gae_and_ppo_batches_are_built_in_one_place():
    call = re.compile(r"(?<![\w.])(?:ppo\.)?(gae|make_batch)\(")
    for path in _modules().values():
        rel = str(path.relative_to(ROOT))
        if rel == "ued/ppo.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if call.search(code) and not code.lstrip().startswith(("def ", '"', "'")):
                raise AssertionError(f"{rel}:{i} calls {call.search(code).group(1)}: {line.strip()}")
