"""`python -m bookbuild.spread` end to end, on the suite's quick-build subset: its seed 0
is exactly the run the book's build executed, another seed trains differently, and a
second call resumes from the data file instead of training again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bookbuild.vocabulary import FRAMEWORK_TAGS, RUNS

ROOT = Path(__file__).resolve().parent.parent


def spread(out: Path, build_dir: Path, *seeds: int,
           framework: str | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "bookbuild.spread", "--max-examples",
            os.environ["D2L_MAX_EXAMPLES"], "--out", str(out), "--build-dir", str(build_dir)]
    for seed in seeds:
        args += ["--seed", str(seed)]
    if framework:
        args += ["--framework", framework]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_seed_zero_is_the_books_run_and_a_rerun_resumes(builds, tmp_path: Path,
                                                        fashion_mnist_dir: Path) -> None:
    book_dir, book = builds["book"]
    assert book.returncode == 0, book.stderr[-3000:]
    executed = json.loads((book_dir / "pages" / "results.json").read_text())["histories"]

    out = tmp_path / "spread.json"
    # its own execution cache: seed 0 really runs again, it is not served the book's
    first = spread(out, tmp_path / "build", 0)
    assert first.returncode == 0, first.stderr[-3000:]
    # another seed on TensorFlow, whose data order (set before train_iter is made) is
    # the last place the parameter reaches
    second = spread(out, tmp_path / "build", 1, framework="tensorflow")
    assert second.returncode == 0, second.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["max_examples"] == int(os.environ["D2L_MAX_EXAMPLES"])
    assert set(data["threads"]) == {"OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS",
                                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"}
    for fw in FRAMEWORK_TAGS:
        entry = data["frameworks"][fw]
        assert entry["notebook"] and entry["versions"], fw
        seed0 = entry["seeds"]["0"]
        assert not seed0["cached"], fw
        assert seed0["histories"] == {run: executed[fw][run] for run in RUNS}, fw
        assert f"{fw:<11} constant" in first.stdout
    seeds = data["frameworks"]["tensorflow"]["seeds"]
    assert list(seeds["1"]["histories"]) == list(RUNS)
    assert seeds["1"]["histories"] != seeds["0"]["histories"]

    again = spread(out, tmp_path / "build", 0, 1, framework="tensorflow")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 notebooks to execute (2 already in spread.json)" in " ".join(again.stderr.split())
    assert json.loads(out.read_text())["frameworks"] == data["frameworks"]
