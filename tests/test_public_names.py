"""The book's tools (bookbuild, sphinxext, benchmarks) use only d2l_compat's public
names: public modules (no leading underscore) and, from the framework-free ones, only
what their ``__all__`` lists. Read from the source (ast), so no framework is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "d2l_compat"
TOOLS = ("bookbuild", "sphinxext", "benchmarks")


def public_all(module: str) -> set[str]:
    """The names in d2l_compat.<module>'s ``__all__``, read from its source."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"d2l_compat/{module}.py has no __all__")


def uses(tree: ast.AST) -> list[tuple[int, str, str | None]]:
    """(line, module under d2l_compat, name or None) for each d2l_compat name `tree`
    imports or reads as an attribute of an imported d2l_compat module."""
    found: list[tuple[int, str, str | None]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "d2l_compat":
                continue
            if len(parts) == 1:  # from d2l_compat import fashion_mnist [as m]
                for alias in node.names:
                    found.append((node.lineno, alias.name, None))
                    aliases[alias.asname or alias.name] = alias.name
            else:
                for alias in node.names:
                    found.append((node.lineno, parts[1], alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "d2l_compat" and len(parts) > 1:
                    found.append((node.lineno, parts[1], None))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases:
            found.append((node.lineno, aliases[node.value.id], node.attr))
    return found


def problems(source: str, label: str) -> list[str]:
    """What in `source` (a file shown as `label`) uses a non-public d2l_compat name."""
    found = []
    for line, module, name in uses(ast.parse(source)):
        where = f"{label}:{line}"
        if module.startswith("_"):
            found.append(f"{where}: d2l_compat.{module} is internal")
        elif name is not None and (PACKAGE / f"{module}.py").exists() \
                and module not in ("torch", "mxnet", "tensorflow") \
                and name not in public_all(module):
            found.append(f"{where}: d2l_compat.{module}.{name} is not in its __all__")
    return found


def test_tools_use_only_public_d2l_compat_names() -> None:
    files = [p for tool in TOOLS for p in sorted((ROOT / tool).rglob("*.py"))]
    assert files
    found = [problem for path in files
             for problem in problems(path.read_text(encoding="utf-8"),
                                     str(path.relative_to(ROOT)))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("from d2l_compat._results import summary_rows", "d2l_compat._results is internal"),
    ("from d2l_compat import _fashion_mnist", "d2l_compat._fashion_mnist is internal"),
    ("import d2l_compat._plotting", "d2l_compat._plotting is internal"),
    ("from d2l_compat.results import _check", "d2l_compat.results._check is not in"),
    ("from d2l_compat import fashion_mnist as fm\nfm._decode(b'', None)",
     "d2l_compat.fashion_mnist._decode is not in"),
])
def test_the_check_finds_private_uses(source: str, expected: str) -> None:
    found = problems(source, "probe.py")
    assert len(found) == 1 and expected in found[0], found


def test_the_public_uses_pass() -> None:
    tree = ast.parse("from d2l_compat.results import METADATA_KEY, summary_rows\n"
                     "from d2l_compat import fashion_mnist\n"
                     "fashion_mnist.FILES\nfashion_mnist.load_raw()\n"
                     "from d2l_compat import torch as d2l\n")
    modules = {(module, name) for _, module, name in uses(tree)}
    assert modules == {("results", "METADATA_KEY"), ("results", "summary_rows"),
                       ("fashion_mnist", None), ("fashion_mnist", "FILES"),
                       ("fashion_mnist", "load_raw"), ("torch", None)}


def private_imports(source: str, label: str) -> list[str]:
    """Each name with a leading underscore that `source` (a module of a tool, shown as
    `label`) imports from another module of the project (relative or absolute)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (
                node.level > 0 or (node.module or "").split(".")[0] in TOOLS):
            found += [f"{label}:{node.lineno}: imports {alias.name} from "
                      f"{'.' * node.level}{node.module or ''}"
                      for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_tools_import_no_private_name_from_each_other() -> None:
    files = [p for tool in TOOLS for p in sorted((ROOT / tool).rglob("*.py"))]
    found = [problem for path in files
             for problem in private_imports(path.read_text(encoding="utf-8"),
                                            str(path.relative_to(ROOT)))]
    assert not found, "\n".join(found)


def test_the_private_import_check_finds_one() -> None:
    assert private_imports("from .translations import _parser\n", "probe.py") == [
        "probe.py:1: imports _parser from .translations"]
    assert private_imports("from bookbuild.sources import _x, public\n", "p.py") == [
        "p.py:1: imports _x from bookbuild.sources"]
    assert private_imports("from . import files\nfrom __future__ import annotations\n",
                           "p.py") == []


def test_d2l_compat_and_the_tools_name_the_same_environment_variables() -> None:
    # d2l_compat cannot import bookbuild (Colab installs only the package), so each side
    # spells the names; they must agree
    from bookbuild import vocabulary
    from d2l_compat import fashion_mnist

    assert fashion_mnist.ENV_DATA_DIR == vocabulary.DATA_DIR_ENV
    assert fashion_mnist.ENV_MAX_EXAMPLES == vocabulary.MAX_EXAMPLES_ENV
    plotting = (PACKAGE / "_plotting.py").read_text(encoding="utf-8")
    assert f'os.environ.get("{vocabulary.PROGRESS_FILE_ENV}")' in plotting
