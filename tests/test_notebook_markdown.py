"""The committed per-framework notebooks show plain Markdown, no MyST (Jupyter and Colab
would print it as text), and bookbuild.plain_markdown converts each construct the
chapter uses, or refuses one it cannot convert."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

from bookbuild import notebooks
from bookbuild.plain_markdown import PlainMarkdownError, plain_cells
from bookbuild.sources import SourceError
from bookbuild.vocabulary import FRAMEWORK_TAGS, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [ROOT / "chapters" / lang.code / "notebooks" / f"scheduler_{fw}.ipynb"
             for lang in LANGUAGES for fw in FRAMEWORK_TAGS]
SOURCE = Path("chapters/en/scheduler.md")  # names the source in error messages

_commonmark = MarkdownIt("commonmark")
_myst = (MarkdownIt("commonmark").use(myst_role_plugin).use(myst_block_plugin)
         .use(colon_fence_plugin).use(dollarmath_plugin).use(amsmath_plugin))

# What MyST looks like once a CommonMark renderer (Jupyter's, Colab's) has shown it
_ROLE = re.compile(r"\{[\w:+-]+\}<code>")  # {cite:t}`key` -> {cite:t}<code>key</code>
_COLON_FENCE = re.compile(r"(?m)(^|<p>):{3,}")
_TARGET = re.compile(r"(?m)(^|<p>)\([^()\s]+\)=(</p>)?$")
_DIRECTIVE_FENCE = re.compile(r'<code class="language-\{')
_PRE = re.compile(r"(?s)<pre>.*?</pre>")


def myst_left(markdown: str) -> list[str]:
    """Every MyST construct left in `markdown`, as a CommonMark renderer shows it and as
    MyST's markdown-it plugins find it."""
    html = _commonmark.render(markdown)
    found = [m.group(0) for m in _DIRECTIVE_FENCE.finditer(html)]
    prose = _PRE.sub("", html)
    found += [f"role {m.group(0)!r}" for m in _ROLE.finditer(prose)]
    found += [f"colon fence {m.group(0)!r}" for m in _COLON_FENCE.finditer(prose)]
    found += [f"target {m.group(0)!r}" for m in _TARGET.finditer(prose)]
    for token in _myst.parse(markdown):
        if token.type in ("myst_target", "myst_line_comment"):
            found.append(f"{token.type} {token.content.strip()!r}")
        elif token.type == "colon_fence":
            found.append(f"colon_fence {token.markup}{token.info}")
        elif token.type == "fence" and token.info.startswith("{"):
            found.append(f"fence {token.info!r}")
        for child in token.children or []:
            if child.type == "myst_role":
                found.append(f"myst_role {{{child.meta['name']}}}`{child.content}`")
    return found


def convert(*cells: str, framework: str = "pytorch", language: str = "en",
            **kwargs) -> list[str]:
    return plain_cells(list(cells), source=SOURCE, framework=framework, language=language,
                       **kwargs)


def shown(markdown: str) -> str:
    """`markdown` as Jupyter would show it, in HTML."""
    return _commonmark.render(markdown).strip()


# The committed notebooks


def test_every_notebook_is_checked() -> None:
    # the committed notebooks are exactly the ones these tests check
    assert sorted((ROOT / "chapters").glob("*/notebooks/*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_notebook_markdown_has_no_myst(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    left = [f"cell {i}: {what}" for i, cell in enumerate(nb.cells)
            if cell.cell_type == "markdown" for what in myst_left(cell.source)]
    assert not left, f"{path.relative_to(ROOT)} shows MyST as text: {left}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_notebook_keeps_its_own_discussion_link_note_and_references(path: Path) -> None:
    framework = path.stem.removeprefix("scheduler_")
    topics = {"mxnet": "359", "pytorch": "1080", "tensorflow": "1081"}
    markdown = "\n\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                           if c.cell_type == "markdown")
    assert re.findall(r"discuss\.d2l\.ai/t/(\d+)", markdown) == [topics[framework]]
    assert re.search(r"(?m)^> \*\*[^*]+\*\*$", markdown), "the note is a titled blockquote"
    references = markdown.rsplit("\n## ", 1)[-1]  # the last section
    assert len(re.findall(r"(?m)^- ", references)) == 4, "the four cited works are listed"


def test_checks_find_what_the_old_notebooks_showed() -> None:
    old = ("(sec_scheduler)=\n# Title\n\nSee {cite:t}`Loshchilov.Hutter.2016`.\n\n"
           ":::{note}\nText.\n:::\n\n```{bibliography}\n:filter: docname in docnames\n```")
    left = " ".join(myst_left(old))
    for what in ("role '{cite:t}<code>'", "colon fence '<p>:::'", "target '<p>(sec_scheduler)=",
                 'class="language-{', "myst_role {cite:t}`Loshchilov.Hutter.2016`",
                 "myst_target 'sec_scheduler'", "colon_fence :::{note}",
                 "fence '{bibliography}'"):
        assert what in left
    assert myst_left("# Title\n\nA `{cite:t}` in code, $\\{1\\}$ and ```x```.") == []


# The conversion, construct by construct


def test_targets_are_dropped_and_plain_markdown_is_kept() -> None:
    plain = "Math $x_{t+1}$ and\n\n$$a$$\n\n```python\n(x)=\n:::\n```\n\n<!-- c -->"
    assert convert("(sec_a)=\n# Title\n\nText.", plain) == ["# Title\n\nText.", plain]


def test_note_is_a_blockquote_titled_in_the_page_language() -> None:
    note = ":::{note}\nFirst {cite:t}`Welling.Teh.2011`.\n\nSecond.\n:::"
    assert convert(note) == [
        "> **Note**\n>\n> First Welling and Teh \\[2011\\].\n>\n> Second."]
    assert convert(note, language="ko")[0].startswith("> **참고**\n")
    assert convert(note, language="zh_CN")[0].startswith("> **备注**\n")
    assert convert(note, language="pt_BR")[0].startswith("> **Nota**\n")
    assert convert("```{warning}\nCareful.\n```", language="tr") == [
        "> **Uyarı**\n>\n> Careful."]
    assert convert(":::{admonition} Own title\nBody.\n:::") == ["> **Own title**\n>\n> Body."]


def test_citations_read_as_on_the_page() -> None:
    """sphinxcontrib-bibtex's author_year style: "and" for two authors, "et al." for
    three or more, the year in brackets."""
    (text,) = convert("{cite:t}`Loshchilov.Hutter.2016`, {cite:p}`Gotmare.Keskar.Xiong.ea.2018`"
                      " and {cite:t}`Izmailov.Podoprikhin.Garipov.ea.2018`.")
    assert shown(text) == ("<p>Loshchilov and Hutter [2016], [Gotmare <em>et al.</em>, 2018] "
                           "and Izmailov <em>et al.</em> [2018].</p>")
    (text,) = convert("{cite:p}`Welling.Teh.2011,Loshchilov.Hutter.2016`")
    assert shown(text) == "<p>[Welling and Teh, 2011, Loshchilov and Hutter, 2016]</p>"


def test_bibliography_lists_what_the_notebook_cites() -> None:
    cells = convert("Text {cite:p}`Welling.Teh.2011`.",
                    "## References\n\n```{bibliography}\n:filter: docname in docnames\n```")
    assert cells[1].startswith("## References\n\n- Max Welling and Yee W Teh\\.\n  ")
    html = shown(cells[1])
    assert html.count("<li>") == 1
    assert "<em>Proceedings of the 28th International Conference on Machine Learning " \
        "(ICML)</em>" in html
    # a citation only in another framework's tab is not this notebook's
    tabs = ("::::{tab-set}\n:sync-group: framework\n\n:::{tab-item} MXNet\n:sync: mxnet\n"
            "{cite:t}`Loshchilov.Hutter.2016`\n:::\n\n:::{tab-item} PyTorch\n:sync: pytorch\n"
            "No citation.\n:::\n::::")
    assert convert(tabs, "```{bibliography}\n```", framework="pytorch") == ["No citation.", ""]
    assert convert(tabs, "```{bibliography}\n```", framework="mxnet")[1].startswith(
        "- Ilya Loshchilov and Frank Hutter")


def test_tab_set_keeps_the_notebooks_own_tab() -> None:
    tabs = ("Exercises.\n\n::::{tab-set}\n:sync-group: framework\n\n"
            + "".join(f":::{{tab-item}} {fw.title()}\n:sync: {fw}\n[Discussions](/t/{fw})\n:::\n\n"
                      for fw in FRAMEWORK_TAGS)
            + "::::\n\n## References")
    for fw in FRAMEWORK_TAGS:
        assert convert(tabs, framework=fw) == [
            f"Exercises.\n\n[Discussions](/t/{fw})\n\n## References"]
    with pytest.raises(PlainMarkdownError, match="0 tab-items with :sync: pytorch"):
        convert(tabs.replace(":sync: pytorch", ":sync: torch"))
    with pytest.raises(PlainMarkdownError, match="sync-group"):
        convert(tabs.replace(":sync-group: framework\n", ""))


def test_references_link_to_the_heading_below_the_label() -> None:
    cells = convert("(sec_toy)=\n## Toy Problem\n\nText.",
                    "See {ref}`sec_toy` and {numref}`the toy problem <sec_toy>`.")
    assert cells == ["## Toy Problem\n\nText.",
                     "See [Toy Problem](#Toy-Problem) and [the toy problem](#Toy-Problem)."]


def test_page_only_directives_are_dropped() -> None:
    cell = "Before.\n\n:::{schedule-explorer}\n:chart: x\n\nOn this page.\n:::\n\nAfter."
    assert convert(cell, drop=("schedule-explorer",)) == ["Before.\n\nAfter."]
    assert convert(":::{schedule-explorer}\n:::", drop=("schedule-explorer",)) == [""]


@pytest.mark.parametrize(("cells", "message"), [
    (["See {ref}`sec_nowhere`."], r"scheduler\.md:3: .*the label 'sec_nowhere'"),
    (["(sec_a)=\nText.", "{ref}`sec_a`"], "the label 'sec_a' is not right above a heading"),
    (["Text {sub-ref}`x`."], r"scheduler\.md:3: the role \{sub-ref\}`x`"),
    (["{cite:t}`No.Such.2000`"], "'No.Such.2000' is not in references.bib"),
    (["Text.\n\n:::{figure} a.png\n:::"], r"scheduler\.md:5: the directive \{figure\}"),
    (["```{code-block} python\nx\n```"], r"the directive \{code-block\}"),
    (["```{bibliography}\n:all:\n```"], r"options \['all'\] are not handled"),
    (["* item\n\n  :::{note}\n  x\n  :::"], "inside a list or quote"),
    (["Term\n: Definition"], "dl_open"),
    (["$$x$$ (eq1)"], "math_block_label"),
    ([":::{note}\n:bogus: 1\nx\n:::"], "Unknown option keys"),
])
def test_myst_without_a_plain_form_is_refused(cells: list[str], message: str) -> None:
    with pytest.raises(PlainMarkdownError, match=message):
        convert(*cells, first_lines=[3] * len(cells))


def test_generation_refuses_unknown_myst_with_source_and_line(tmp_path: Path) -> None:
    text = (ROOT / "chapters" / "en" / "scheduler.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    where = lines.index("## Toy Problem") + 2  # 0-based: the paragraph below it
    lines[where] = "Setup {term}`LeNet` first. " + lines[where]
    path = tmp_path / "en" / "scheduler.md"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    nb = notebooks.read_source(path)
    with pytest.raises(SourceError, match=rf"{re.escape(str(path))}:{where + 1}: the role "
                       r"\{term\}`LeNet`"):
        notebooks.framework_notebook(nb, "pytorch", "https://github.com/o/r", "main",
                                     source=path, root=ROOT)
