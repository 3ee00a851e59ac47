"""A language's book text (`chapters/<lang>/book.yml`): read as written, and a
broken one is refused with a message naming the file and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.landing import BookTextError, read_book_text

GOOD = """title: "Buch: Abschnitt"
author: "Die Autoren (CC BY-SA 4.0)"
subset_notice: "Schnell: {n} Beispiele"
colab_mxnet_note: "MXNet auf Colab"
code_prompt_show: "Code zeigen"
code_prompt_hide: "Code verbergen"
spread_table: "Mit {seeds} Seeds wiederholt ({date}):"
spread_columns: "Lauf | Testgenauigkeit | Lücke"
spread_band: "Band: Spanne über {seeds} Seeds."
spread_differ: "Mit {framework} schwankt sie um {sd}."
spread_stale: "Gemessen am {date} für anderen Code."
spread_quick: "Schnell: ohne Streuung."
stale_translation: "Übersetzung veraltet: {sections}."
figure_training: "{framework}, Lauf „{run}“: nach {epochs} Epochen {values}."
figure_schedule: "{framework}, {schedule}: Epochen {start}–{end}, von {first} bis {last},
  höchstens {max} (Epoche {max_epoch}), mindestens {min} (Epoche {min_epoch})"
figure_results: "{framework}, {panels} der Läufe {runs}; am höchsten: {best} ({value})."
figure_value: "{metric} {value}"
pdf_link: "PDF ({framework})"
explorer_print: "Auf der Webseite steht hier ein Explorer."
table_schedule: "Zeitplan"
table_best_test_acc: "beste Testgenauigkeit"
table_best_epoch: "beste Epoche"
cite_and: "und"
cite_et_al: "*et al.*"
landing: |
  Text mit [Link](https://d2l.ai).

  ```{language-list}
  ```
"""


def write(root: Path, text: str) -> Path:
    path = root / "chapters" / "xx" / "book.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_title_author_and_landing(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    text = read_book_text("xx", tmp_path)
    assert (text.title, text.author) == ("Buch: Abschnitt", "Die Autoren (CC BY-SA 4.0)")
    assert text.notice(100) == "Schnell: 100 Beispiele"
    assert text.line("spread_differ", framework="MXNet", sd=0.01) == (
        "Mit MXNet schwankt sie um 0.01.")
    assert text.index_md() == (
        "# Buch: Abschnitt\n\nText mit [Link](https://d2l.ai).\n\n```{language-list}\n```\n")


@pytest.mark.parametrize(("text", "says"), [
    (None, "missing"),
    ('title: "Buch\nauthor: x\n', "not valid YAML"),
    ("- a list\n",
     "needs exactly the keys title, author, landing, subset_notice, colab_mxnet_note, "
     "code_prompt_show"),
    (GOOD.replace('author: "Die Autoren (CC BY-SA 4.0)"\n', ""), "needs exactly the keys"),
    (GOOD + "subtitle: x\n", "needs exactly the keys"),
    (GOOD.replace('"Buch: Abschnitt"', '""'), "`title` must be non-empty text"),
    (GOOD.replace('"Buch: Abschnitt"', "3"), "`title` must be non-empty text"),
    (GOOD.replace('"Buch: Abschnitt"', '"Buch\\nAbschnitt"'), "`title` must be one line"),
    (GOOD.replace("{n} Beispiele", "hundert Beispiele"), "must contain {n} once"),
    (GOOD.replace("um {sd}", "um {sd} ({sd})"), "`spread_differ` must contain {sd} once"),
    (GOOD.replace("Lauf | ", "Lauf, "), "`spread_columns` must name three columns"),
])
def test_a_broken_book_text_is_refused_by_name(tmp_path: Path, text: str | None,
                                               says: str) -> None:
    if text is None:
        path = tmp_path / "chapters" / "xx" / "book.yml"
    else:
        path = write(tmp_path, text)
    with pytest.raises(BookTextError) as error:
        read_book_text("xx", tmp_path)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert says in message, message
