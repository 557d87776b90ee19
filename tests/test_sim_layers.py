"""The emulator's layers (docs/EMULATOR.md): each imports only the ones below it.

Every import counts, including ``if TYPE_CHECKING:`` ones; no import may sit inside a
function (that is how cycles hide), and nothing evaluates generated code.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "switchlab" / "sim"
#: bottom first; a module may import its own layer and the ones before it
LAYERS = ("model", "dut", "calls", "mod_dptools", "esl", "top")
#: what the emulator may use from the rest of switchlab
OUTSIDE = ("switchlab.errors", "switchlab.wire")


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 and parts[2] in LAYERS:
        return parts[2]
    return "top"


def module_name(path: Path) -> str:
    rel = path.relative_to(SIM.parents[1]).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(absolute module, line, inside a function)`` of every import in ``path``."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")
                if child.level:
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                out.append((target, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return out


MODULES = sorted(SIM.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_imports_go_down_only(path: Path) -> None:
    here = LAYERS.index(layer_of(module_name(path)))
    for target, line, in_function in imports(path):
        where = f"{path.relative_to(SIM)}:{line} imports {target}"
        assert not in_function, f"{where} inside a function: move it to the top"
        if target.startswith("switchlab.sim"):
            there = LAYERS.index(layer_of(target))
            assert there <= here, (f"{where}: layer {LAYERS[there]!r} is above "
                                   f"{LAYERS[here]!r}; pass a hook or a protocol down instead")
        elif target.startswith("switchlab"):
            assert target.startswith(OUTSIDE), f"{where}: the emulator uses only {OUTSIDE}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_nothing_evaluates_code(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("eval", "exec", "compile"), \
                f"{path.relative_to(SIM)}:{node.lineno} calls {node.func.id}()"


def test_every_module_is_short() -> None:
    long = {str(p.relative_to(SIM)): n for p in MODULES
            if (n := p.read_text().count("\n") + 1) > 400}
    assert not long, f"modules over 400 lines: {long}"
