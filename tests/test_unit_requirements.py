"""requirements-unit.txt, the unit lane's environment: every line is pinned exactly as in
requirements.txt, it leaves out the frameworks, Playwright and JupyterLab, and it holds
everything its packages depend on (so pip adds nothing unpinned)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# What the unit lane exists to do without.
HEAVY = {"torch", "tensorflow", "tensorflow-cpu", "keras", "mxnet", "playwright",
         "jupyterlab"}
# The installer's own tools, which requirements.txt does not pin either.
INSTALLER = {"pip", "setuptools", "wheel"}


def pins(name: str) -> dict[str, str]:
    """{canonical name: the requirement line} of a requirements file's package lines."""
    found = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found[canonicalize_name(Requirement(line).name)] = line
    return found


def assert_pinned_as_in_requirements_txt(name: str) -> None:
    """Every line of requirements file `name` is an exact pin, the same as requirements.txt's."""
    mine, full = pins(name), pins("requirements.txt")
    for package, line in mine.items():
        (spec,) = Requirement(line).specifier
        assert spec.operator == "==", f"{name}: {line!r} is not a pin"
        assert package in full, f"{name}: {package} is not in requirements.txt"
        assert Requirement(full[package]).specifier == Requirement(line).specifier, \
            f"{name} pins {line!r}, requirements.txt {full[package]!r}"


def missing_dependencies(name: str) -> dict[str, list[str]]:
    """{dependency: the packages needing it} that requirements file `name` does not pin,
    read from the installed packages' metadata (the same versions in either environment,
    as both install these pins)."""
    mine = set(pins(name))
    missing: dict[str, list[str]] = {}
    for package in sorted(mine):
        for text in importlib.metadata.requires(package) or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = canonicalize_name(req.name)
            if dep not in mine | INSTALLER:
                missing.setdefault(dep, []).append(package)
    return missing


def test_every_unit_requirement_is_pinned_as_in_requirements_txt() -> None:
    assert len(pins("requirements-unit.txt")) > 50
    assert_pinned_as_in_requirements_txt("requirements-unit.txt")


def test_the_unit_lane_installs_no_framework_browser_or_jupyterlab() -> None:
    assert not HEAVY & set(pins("requirements-unit.txt"))


def test_unit_requirements_hold_their_dependencies() -> None:
    missing = missing_dependencies("requirements-unit.txt")
    assert not missing, f"requirements-unit.txt lacks (needed by): {missing}"


# requirements-translate.txt, the translators' environment (`python -m bookbuild
# translations`): pinned as in requirements.txt, closed under its dependencies, and
# without the book toolchain either (tests/test_translator.py runs the command with
# these imports blocked).
TRANSLATE = "requirements-translate.txt"
NOT_FOR_TRANSLATORS = HEAVY | {"sphinx", "jupyter-book", "myst-nb", "myst-parser",
                               "matplotlib", "ipykernel", "jupyter-client"}


def test_every_translate_requirement_is_pinned_as_in_requirements_txt() -> None:
    mine = pins(TRANSLATE)
    assert "jupytext" in mine and "pyyaml" in mine
    assert_pinned_as_in_requirements_txt(TRANSLATE)


def test_the_translators_install_no_framework_or_book_toolchain() -> None:
    assert not NOT_FOR_TRANSLATORS & set(pins(TRANSLATE))


def test_translate_requirements_hold_their_dependencies() -> None:
    missing = missing_dependencies(TRANSLATE)
    assert not missing, f"{TRANSLATE} lacks (needed by): {missing}"
