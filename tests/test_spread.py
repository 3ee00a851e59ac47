"""The seed spread: the command's notebooks and data file (bookbuild/spread.py) and what
the build makes of the file (bookbuild/spread_view.py). No kernel, no data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest

from bookbuild import claims as claims_mod
from bookbuild import spread, spread_file, spread_view
from bookbuild.config import ROOT
from bookbuild.landing import read_book_text
from bookbuild.vocabulary import FRAMEWORK_TAGS, FRAMEWORKS, LANGUAGES, RUNS, is_results_cell


def history(acc: float, train_acc: float, epochs: int = 3, lr: float = 0.2) -> dict:
    return {"lr": [lr] * epochs, "train_loss": [1.0 - acc] * epochs,
            "train_acc": [train_acc] * epochs, "test_acc": [acc] * epochs}


def make_spread_file(path: Path, finals: dict[str, dict[int, float]], **extra) -> dict:
    """A spread file with, per framework and seed, every run ending at the given test
    accuracy (train accuracy 0.05 above it)."""
    data = {"format": spread_file.FORMAT, "max_examples": None, "d2l_compat": "c",
            "frameworks": {}} | extra
    for fw, by_seed in finals.items():
        data["frameworks"][fw] = {"notebook": f"hash-{fw}", "versions": {}, "seeds": {
            str(s): {"date": f"2026-12-0{s + 1}T10:00:00+00:00",
                     "histories": {run: history(acc, acc + 0.05) for run in RUNS}}
            for s, acc in by_seed.items()}}
    path.write_text(json.dumps(data))
    return data


class FakeNotebooks(dict):
    """{framework: notebook} whose code hashes to hash-<framework>."""


def notebooks_hashing(monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> dict:
    nbs = {fw: nbformat.v4.new_notebook(metadata={"fw": fw}) for fw in hashes}
    monkeypatch.setattr(spread_file, "code_hash", lambda nb: hashes[nb.metadata["fw"]])
    return nbs


def test_code_hash_covers_the_code_up_to_the_results_cell() -> None:
    cells = [nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell("seed = 0"),
             nbformat.v4.new_code_cell("d2l.show_results(histories)"),
             nbformat.v4.new_code_cell("explorer()")]
    nb = nbformat.v4.new_notebook(cells=cells)
    base = spread_file.code_hash(nb)
    nb.cells[3].source = "explorer(changed=True)"
    nb.cells[0].source = "other prose"
    assert spread_file.code_hash(nb) == base
    nb.cells[1].source = "seed = 1"
    assert spread_file.code_hash(nb) != base


def test_every_notebook_has_one_results_cell_and_it_shows_the_histories() -> None:
    # code_hash stops there, and the figures and the spread view look for it
    paths = sorted(ROOT.glob("chapters/*/notebooks/*.ipynb"))
    assert len(paths) == len(LANGUAGES) * len(FRAMEWORK_TAGS)
    for path in paths:
        cells = [c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code" and is_results_cell(c.source)]
        assert len(cells) == 1, f"{path}: {len(cells)} results cells"
        assert "d2l.show_results(histories)" in cells[0], path


def test_seed_zero_is_the_books_notebook_and_others_get_one_cell() -> None:
    nb = spread.english_notebook("pytorch")
    assert spread.with_seed(nb, 0) == nb
    three = spread.with_seed(nb, 3)
    assert len(three.cells) == len(nb.cells) + 1
    where = next(i for i, c in enumerate(three.cells)
                 if "parameters" in c.metadata.get("tags", []))
    assert three.cells[where].source.endswith("seed = 0")
    assert three.cells[where + 1].source == "seed = 3"
    assert three.cells[where + 1].metadata["tags"] == ["injected-parameters"]
    # the seed reaches every run: train's default and TensorFlow's data order read it
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "seed=seed):" in code and "seed=0" not in code


def test_a_notebook_without_parameters_cell_is_refused() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(spread_file.SpreadError, match="tagged `parameters`"):
        spread.with_seed(nb, 1)


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "cannot be read"), ('{"format": 99}', "not a seed-spread file"),
    ("[1, 2]", "not a seed-spread file"),
])
def test_an_unreadable_spread_file_is_refused_by_name(tmp_path: Path, content: str,
                                                      says: str) -> None:
    path = tmp_path / "spread.json"
    path.write_text(content)
    with pytest.raises(spread_file.SpreadError, match=says) as error:
        spread_file.read_spread(path)
    assert str(path) in str(error.value)
    assert spread_file.read_spread(tmp_path / "missing.json") is None


def test_write_spread_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "results" / "spread.json"
    spread_file.write_spread(path, {"format": 1})
    assert json.loads(path.read_text()) == {"format": 1}
    assert [p.name for p in path.parent.iterdir()] == ["spread.json"]


def test_mean_and_sample_sd() -> None:
    mean, sd = spread_file.mean_sd([0.8, 0.9, 1.0])
    assert mean == pytest.approx(0.9) and sd == pytest.approx(0.1)
    assert spread_file.mean_sd([0.5]) == (0.5, 0.0)


def test_summary_lists_every_run_with_mean_and_sd(tmp_path: Path) -> None:
    data = make_spread_file(tmp_path / "s.json", {"mxnet": {0: 0.8, 1: 0.9, 2: 1.0}})
    lines = spread_file.summary(data).splitlines()
    assert len(lines) == 1 + len(RUNS)
    assert "0.900 ± 0.100" in lines[1] and "0.050 ± 0.000" in lines[1]


def test_the_command_refuses_bad_options_before_running(capsys) -> None:
    for argv, says in ((["--framework", "jax"], "invalid choice"),
                       (["--seed", "-1"], "--seed must be >= 0"),
                       (["--jobs", "0"], "--jobs 0 is not a number"),
                       (["--max-examples", "100"], "needs --out")):
        with pytest.raises(SystemExit) as stop:
            spread.main(argv)
        assert stop.value.code == 2
        assert says in capsys.readouterr().err


def test_load_reports_what_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    make_spread_file(path, {"mxnet": {0: 0.8, 1: 0.9}, "pytorch": {0: 0.85}})
    nbs = notebooks_hashing(monkeypatch, {"mxnet": "hash-mxnet", "pytorch": "hash-pytorch",
                                          "tensorflow": "x"})
    fresh = spread_view.load(path, nbs, "c")
    assert fresh is not None and fresh.stale == [] and fresh.date == "2026-12-02"
    assert fresh.seeds("mxnet") == [0, 1] and fresh.seeds("tensorflow") == []
    nbs = notebooks_hashing(monkeypatch, {"mxnet": "new", "pytorch": "hash-pytorch"})
    stale = spread_view.load(path, nbs, "other")
    assert len(stale.stale) == 2
    assert "d2l_compat" in stale.stale[0] and stale.stale[1].startswith("mxnet:")
    assert spread_view.load(tmp_path / "none.json", nbs, "c") is None


def test_a_subset_spread_is_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    make_spread_file(path, {"mxnet": {0: 0.8}}, max_examples=100)
    assert spread_view.load(path, {}, "c") is None


def loaded(tmp_path: Path, finals: dict) -> spread_view.Spread:
    path = tmp_path / "s.json"
    make_spread_file(path, finals)
    return spread_view.load(path, {}, "c")


def test_typical_sd_pools_the_runs(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9, 2: 1.0}})
    assert spread_view.typical_sd(sp, "pytorch") == pytest.approx(0.1)
    assert math.isnan(spread_view.typical_sd(sp, "mxnet"))


def test_bands_are_the_range_over_seeds(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9, 2: 0.85}})
    low, high = spread_view.bands(sp, "pytorch")["cosine"]["test_acc"]
    assert low == [0.8] * 3 and high == [0.9] * 3


def test_seed_zero_is_compared_exactly(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9}})
    built = {"pytorch": {run: history(0.8, 0.8 + 0.05) for run in RUNS}}
    assert spread_view.seed_zero_differences(sp, built) == []
    built["pytorch"]["cosine"]["test_acc"][-1] = 0.8000001
    assert spread_view.seed_zero_differences(sp, built) == [
        "pytorch: seed 0 of run 'cosine' differs from this build's run"]


def test_claims_are_counted_per_seed(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9, 2: 0.95}})
    claim = claims_mod.Claim("acc-above", "less", (0.85, ["final", "cosine", "test_acc"]),
                             "sentence", 1)
    table = spread_view.claims_by_seed([claim], sp)
    assert table == {"acc-above": {"pytorch": (2, 3)}}
    assert "2/3 seeds" in spread_view.format_claims_table(table)


def results_page(frameworks=("mxnet", "pytorch", "tensorflow")) -> nbformat.NotebookNode:
    cells = []
    for fw in frameworks:
        cell = nbformat.v4.new_code_cell("d2l.show_results(histories)", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": "<table/>"}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>"})])
        cell.metadata["d2l_tabs"] = {"framework": fw, "group": 0}
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_each_tab_gets_its_spread_and_banded_figure(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {fw: {0: 0.8, 1: 0.9} for fw in ("mxnet", "pytorch", "tensorflow")})
    built = {fw: {run: history(0.8, 0.85) for run in RUNS}
             for fw in ("mxnet", "pytorch", "tensorflow")}
    page = spread_view.decorate(results_page(), read_book_text("en", ROOT), sp, built,
                                capped=False)
    for cell in page.cells:
        figure = cell.outputs[1]["data"]["image/svg+xml"]
        assert figure.startswith("<?xml") and figure.count("<path") > 10
        text = cell.outputs[2]["data"]["text/plain"]
        html = cell.outputs[2]["data"]["text/html"]
        assert html.startswith('<div class="d2l-spread">') and html.count("<tr>") == 6
        assert "Each run repeated with 2 seeds" in text and "2026-12-02" in text
        assert "cosine 0.850 ± 0.071 0.050 ± 0.000" in text
        assert ('<th scope="row">cosine</th><td>0.850 ± 0.071</td><td>0.050 ± 0.000</td>'
                in html)
        assert "<caption>Each run repeated with 2 seeds" in html
        name = dict(FRAMEWORKS)[cell.metadata["d2l_tabs"]["framework"]]
        assert f"On {name}, the final test accuracy of a run varies" in text
        assert "about 0.071 (standard deviation)" in text


def test_a_stale_spread_says_so_in_the_readers_language(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9}})
    sp.stale = ["pytorch: changed"]
    built = {"pytorch": {run: history(0.8, 0.85) for run in RUNS}}
    page = spread_view.decorate(results_page(("pytorch",)), read_book_text("ko", ROOT), sp,
                                built, capped=False)
    output = page.cells[0].outputs[-1]["data"]
    assert output["text/plain"].startswith("아래의 시드 간 편차는 2026-12-02에")
    assert output["text/html"].startswith(
        '<div class="d2l-spread">\n<blockquote><p>아래의 시드 간 편차는')


def test_a_quick_build_shows_no_spread(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9}})
    built = {"pytorch": {run: history(0.8, 0.85) for run in RUNS}}
    page = spread_view.decorate(results_page(("pytorch",)), read_book_text("en", ROOT), sp,
                                built, capped=True)
    outputs = page.cells[0].outputs
    assert outputs[1]["data"]["image/svg+xml"] == "<svg/>"
    assert outputs[2]["data"]["text/plain"].startswith("This quick build does not show")
    assert outputs[2]["data"]["text/html"].startswith('<div class="d2l-spread-quick">')
    assert spread_view.explorer_data(built, sp, capped=True)["spread"] is None
    shown = spread_view.explorer_data(built, sp, capped=False)["spread"]
    assert shown["seeds"] == [0, 1] and set(shown["histories"]["pytorch"]) == {"0", "1"}


def test_claims_say_how_often_they_hold_or_hold_on_every_seed(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8, 1: 0.9, 2: 0.95}})
    fact = claims_mod.Claim("fact", "less", (0.85, ["final", "cosine", "test_acc"]), "s", 7)
    often = claims_mod.Claim("often", "less", (0.85, ["final", "cosine", "test_acc"]), "s", 8,
                             seeds=2)
    too_often = claims_mod.Claim("too-often", "less", (0.85, ["final", "cosine", "test_acc"]),
                                 "s", 9, seeds=3)
    problems = spread_view.claim_problems([fact, often, too_often], sp)
    assert len(problems) == 2
    assert problems[0].startswith("pytorch: claim 'fact' (line 7) holds on 2 of 3 seeds")
    assert "says it holds as a fact" in problems[0]
    assert "claim 'too-often' (line 9) holds on 2 of 3 seeds" in problems[1]
    assert "says it holds on 3 seeds" in problems[1]


@pytest.mark.parametrize(("seeds", "ok"), [("3", True), ("0", False), ("x", False)])
def test_a_claim_may_say_on_how_many_seeds_it_holds(tmp_path: Path, seeds: str,
                                                    ok: bool) -> None:
    source = tmp_path / "chapter.md"
    source.write_text("It held. <!-- claim: {id: c, seeds: " + seeds
                      + ", less: [0.1, [final, cosine, test_acc]]} -->\n")
    if ok:
        assert claims_mod.parse_claims(source, list(RUNS))[0].seeds == 3
    else:
        with pytest.raises(claims_mod.ClaimError, match="seeds is the number of seeds"):
            claims_mod.parse_claims(source, list(RUNS))


def test_a_single_seed_shows_no_spread(tmp_path: Path) -> None:
    sp = loaded(tmp_path, {"pytorch": {0: 0.8}})
    built = {"pytorch": {run: history(0.8, 0.85) for run in RUNS}}
    page = spread_view.decorate(results_page(("pytorch",)), read_book_text("en", ROOT), sp,
                                built, capped=False)
    assert len(page.cells[0].outputs) == 2
    assert page.cells[0].outputs[1]["data"]["image/svg+xml"] == "<svg/>"


def test_a_claim_past_the_runs_end_names_its_line() -> None:
    histories = {run: history(0.8, 0.85, epochs=30) for run in RUNS}
    claim = claims_mod.Claim("late", "less", (["mean", "cosine", "test_acc", 20, 40], 1.0),
                             "s", 12)
    with pytest.raises(claims_mod.ClaimError) as error:
        claims_mod.check(claim, histories)
    assert str(error.value) == ("claim 'late' (line 12): ['mean', 'cosine', 'test_acc', 20, "
                                "40] names epoch 40, past the run's end (30 epochs)")
