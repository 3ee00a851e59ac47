"""Pure helpers of benchmarks/divergence_screen.py (no framework, no training)."""

from __future__ import annotations

import ast
import json
import math
import sys
from pathlib import Path

import pytest

from bookbuild.vocabulary import FRAMEWORK_TAGS, RUNS

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/ is not a package: its scripts import each other (and _common.py) as
# scripts do, from their folder on sys.path.
sys.path.insert(0, str(ROOT / "benchmarks"))
import _common  # noqa: E402
import divergence_screen  # noqa: E402
import screen_records  # noqa: E402


def _stmt(source: str) -> ast.stmt:
    return ast.parse(source).body[0]


def test_strip_magics_keeps_indented_blocks_valid() -> None:
    source = "%matplotlib inline\nimport math\nif x:\n    %pip install foo\n"
    stripped = _common.strip_magics(source)
    assert stripped == "pass\nimport math\nif x:\n    pass\n"
    ast.parse(stripped)


def test_code_cells_skip_only_the_colab_cell() -> None:
    notebook = {"cells": [
        {"cell_type": "code", "source": ["import sys\n", "if 'google.colab' in sys.modules:\n",
                                         "    %pip install d2l_compat\n"]},
        {"cell_type": "markdown", "source": "prose"},
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
    ]}  # fmt: skip
    assert _common.code_cells(notebook) == ["a = 1\nb = 2"]
    assert _common.code_cells({"cells": notebook["cells"][1:]}) == ["a = 1\nb = 2"]


@pytest.mark.parametrize(
    ("source", "run"),
    [
        ("histories['constant'] = train(net_fn, train_iter, test_iter, num_epochs, lr)",
         "constant"),
        ("histories['square root'] = train(net_fn, train_iter, test_iter, num_epochs, lr,\n"
         "                                 scheduler)", "square root"),
        ("histories[name] = train(net_fn)", None),
        ("result = train(net_fn)", None),
        ("histories['x'] = d2l.train(net_fn)", None),
        ("histories['x'] = other(net_fn)", None),
    ],
)  # fmt: skip
def test_training_run(source: str, run: str | None) -> None:
    assert screen_records.training_run(_stmt(source)) == run


def test_is_show_results() -> None:
    assert screen_records.is_show_results(_stmt("d2l.show_results(histories)"))
    assert screen_records.is_show_results(_stmt("show_results(histories)"))
    assert not screen_records.is_show_results(_stmt("d2l.plot(x, y)"))
    assert not screen_records.is_show_results(_stmt("table = d2l.show_results(histories)"))


def test_find_runs_in_the_committed_notebooks() -> None:
    # The chapter's five runs, in the book's order, on every framework.
    for framework in FRAMEWORK_TAGS:
        path = _common.notebook_path(framework)
        cells = _common.code_cells(json.loads(path.read_text(encoding="utf-8")))
        assert screen_records.find_runs(cells) == list(RUNS), framework


def test_unknown_names_is_one_line_naming_the_valid_ones() -> None:
    tags = FRAMEWORK_TAGS
    assert screen_records.unknown_names(["mxnet"], tags, "framework") is None
    message = screen_records.unknown_names(["jax"], tags, "framework")
    assert message is not None and "\n" not in message
    assert "'jax'" in message and all(f"'{fw}'" in message for fw in tags)


def test_history_roundtrips_non_finite_values_through_strict_json() -> None:
    history = {"lr": [0.3, 0.3], "train_loss": [2.3, math.nan], "train_acc": [0.1, math.inf],
               "test_acc": [0.1, -math.inf]}
    text = json.dumps(screen_records.encode_history(history), allow_nan=False)
    back = screen_records.decode_history(json.loads(text))
    assert back["lr"] == [0.3, 0.3]
    assert math.isnan(back["train_loss"][1])
    assert back["train_acc"][1] == math.inf and back["test_acc"][1] == -math.inf


def _history(test_acc: float, train_acc: float = 0.9, loss: float = 0.3) -> dict:
    return {"lr": [0.3], "train_loss": [loss], "train_acc": [train_acc], "test_acc": [test_acc]}


def test_diverged() -> None:
    assert not screen_records.diverged(_history(0.8))
    assert screen_records.diverged(_history(0.2))
    assert screen_records.diverged(_history(0.1, loss=math.nan))
    assert screen_records.diverged(_history(0.8, loss=math.inf))


def _record(mode: str, seed: int, test_acc: float, *, run: str = "cosine",
            framework: str = "pytorch", train_acc: float = 0.9, loss: float = 0.3,
            epochs: int = 2, max_examples: int | None = None) -> dict:
    history = screen_records.encode_history(_history(test_acc, train_acc, loss))
    return {"framework": framework, "mode": mode, "run": run, "seed": seed, "epochs": epochs,
            "max_examples": max_examples, "history": history, "code_sha256": "abc"}


def test_screen_rows_count_diverged_seeds() -> None:
    records = [_record("screen", 0, 0.80), _record("screen", 1, 0.10, loss=math.nan),
               _record("screen", 2, 0.70), _record("spread", 0, 0.5)]
    [row] = screen_records.screen_rows(records)
    # A NaN loss with a finite test accuracy still counts as diverged.
    assert row == ["pytorch", "cosine", "abc", "0.3", "2", "full", "3", "1", "1", "0.100",
                   "0.700"]
    records[1] = _record("screen", 1, 0.15)
    [row] = screen_records.screen_rows(records)
    assert row[6:] == ["3", "1", "1", "0.150", "0.700"]


def test_a_rerun_record_replaces_the_earlier_one() -> None:
    records = [_record("screen", 0, 0.10), _record("screen", 0, 0.80)]
    [row] = screen_records.screen_rows(records)
    assert row[6:9] == ["1", "0", "-"]


def test_the_seed_spread_is_the_books_command(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        divergence_screen.main(["--spread", "--out", "unused.jsonl"])
    assert exit_info.value.code == 2
    assert "python -m bookbuild.spread" in capsys.readouterr().err


def test_groups_keep_settings_and_frameworks_apart_in_book_order() -> None:
    records = [_record("screen", 0, 0.8, framework="tensorflow"),
               _record("screen", 0, 0.8, run="constant"),
               _record("screen", 0, 0.8, max_examples=100),
               _record("screen", 0, 0.8, framework="mxnet")]
    rows = screen_records.screen_rows(records)
    assert [(r[0], r[1], r[5]) for r in rows] == [
        ("mxnet", "cosine", "full"), ("pytorch", "constant", "full"),
        ("pytorch", "cosine", "100"), ("tensorflow", "cosine", "full"),
    ]  # fmt: skip


def test_read_records_skips_a_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(_record("screen", 0, 0.8)) + "\n" + '{"framework": "py')
    assert len(screen_records.read_records(path)) == 1
    assert screen_records.read_records(tmp_path / "missing.jsonl") == []


def test_format_table_aligns_columns() -> None:
    # The first three columns (framework, run, code) are text, the rest numbers.
    table = _common.format_table(
        ["a", "b", "c", "num"], [["xx", "r", "c1", "1.5"], ["y", "run", "c", "10.25"]],
        text_columns=3,
    )
    assert table.splitlines() == [
        "a   b    c     num", "--  ---  --  -----", "xx  r    c1    1.5", "y   run  c   10.25",
    ]  # fmt: skip


def test_code_hash_note_flags_mixed_code() -> None:
    same = [_record("screen", 0, 0.8), _record("screen", 1, 0.8)]
    assert screen_records.code_hash_note(same) is None
    other = {**_record("screen", 2, 0.8), "compat_sha256": "def"}
    note = screen_records.code_hash_note([*same, other])
    assert note is not None and "pytorch: abc/?, abc/def" in note


def test_records_of_different_chapter_code_never_share_a_row() -> None:
    old = [{**_record("screen", s, 0.8), "finished": "1"} for s in (0, 1)]
    new = [{**_record("screen", s, 0.7), "code_sha256": "new", "finished": "2"} for s in (0, 1)]
    rows = screen_records.screen_rows(new + old)
    assert [(r[2], r[6]) for r in rows] == [("abc", "2"), ("new", "2")]  # older code first
    assert len(screen_records.latest_by_key(old + new)) == 4
