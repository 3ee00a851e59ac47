"""The build's option checks called directly (bookbuild.options): what the command
accepts; its refusals as `python -m bookbuild` prints them are tests/test_build_options.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild import options

ROOT = Path(__file__).resolve().parent.parent


def test_max_examples_accepts_multiples_of_ten() -> None:
    assert options.max_examples("10", "--max-examples") == 10
    assert options.max_examples(" 100 ", "D2L_MAX_EXAMPLES") == 100
    for bad in ("0", "-10", "15", "1e3", "١٠", ""):  # "١٠": Arabic-Indic digits for 10
        with pytest.raises(options.OptionError):
            options.max_examples(bad, "--max-examples")


@pytest.mark.parametrize("value", ["60000", "10000000"])
def test_a_subset_as_large_as_the_data_is_refused(value: str) -> None:
    with pytest.raises(options.OptionError) as error:
        options.max_examples(value, "--max-examples")
    message = str(error.value)
    assert f"--max-examples {value} is not a subset" in message
    assert "60000 training examples" in message and "unset" in message
    assert options.max_examples("59990", "--max-examples") == 59990


def test_default_jobs_is_every_notebook_at_once() -> None:
    assert options.jobs(None, 3) == 3
    assert options.jobs(None, 1) == 1
    assert options.jobs(" 4 ", 3) == 4


def test_build_dir_inside_the_repository_but_apart_is_fine() -> None:
    assert options.build_dir(Path("_build"), ROOT) == ROOT / "_build"
    assert options.build_dir(ROOT / "_other" / "x", ROOT) == ROOT / "_other" / "x"
