"""What the page's kernel-free explorers share (`schedule_explorer`, `results_explorer`).

Each is a directive whose options are all labels, every one required and written in the
page's language, and whose body is the help text (:class:`LabelledExplorer`); its markup
is built from the same labelled controls (a menu, a range input with its readout, the
chart's figure) under one class prefix, and it brings its own stylesheet and script,
`static/<name>.css` and `static/<name>.js` (:func:`add_explorer`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from . import print_pdf


class LabelledExplorer(SphinxDirective):
    """An explorer: every option (a label) is required, the body is the help text.

    A subclass names the directive (`NAME`, also the stem of its static files), its
    label options (`LABELS`) and the prefix of its element ids and classes (`PREFIX`),
    and says in :meth:`markup` how to write its HTML.
    """

    NAME: ClassVar[str]
    LABELS: ClassVar[tuple[str, ...]]
    PREFIX: ClassVar[str]
    has_content = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.option_spec = {option: directives.unchanged_required for option in cls.LABELS}

    def markup(self) -> Callable[[str], str]:
        """The explorer's HTML for a prefix of its element ids; raises ``self.error``
        when the page cannot have it."""
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        missing = [option for option in self.LABELS if not self.options.get(option)]
        if missing:
            raise self.error(
                f"{self.NAME}: missing label option(s) {', '.join(missing)}; give every one "
                f"of {', '.join(self.LABELS)} in the page's language"
            )
        write = self.markup()
        uid = f"{self.PREFIX}-{self.env.new_serialno(self.NAME)}"
        container = nodes.container(classes=[f"d2l-{self.NAME}"])
        help_text = self.parse_content_to_nodes()
        for node in help_text:  # printed, the sentence below stands in for it
            if isinstance(node, nodes.Element):
                node["classes"].append(print_pdf.HELP_CLASS)
        container += help_text
        container += print_pdf.print_note(self.config.d2l_explorer_print_note)
        container += nodes.raw("", write(uid), format="html")
        return [container]


def add_explorer(app: Sphinx, directive: type[LabelledExplorer]) -> None:
    """Register `directive` with its stylesheet and script, and what every explorer
    shares: the printed note (`d2l_explorer_print_note`, set by bookbuild from book.yml)
    and the script that writes numbers with the page language's decimal mark."""
    if "d2l_explorer_print_note" not in app.config:  # the other explorer registered it
        app.add_config_value("d2l_explorer_print_note", "", "html")
        # before either explorer's script (deferred scripts run in order)
        app.add_js_file("explorer-numbers.js", loading_method="defer")
    app.add_directive(directive.NAME, directive)
    app.add_css_file(f"{directive.NAME}.css")
    app.add_js_file(f"{directive.NAME}.js", loading_method="defer")


# ------------------------------------------------------------ markup


def escape_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels as HTML text."""
    return {key: html.escape(value) for key, value in labels.items()}


def choices(pairs: Iterable[tuple[str, str]], esc: Mapping[str, str]) -> str:
    """The `<option>`s of a menu: (value, label option) pairs, `esc` the escaped labels."""
    return "".join(f'<option value="{value}">{esc[option]}</option>' for value, option in pairs)


def menu_row(prefix: str, uid: str, name: str, label: str, options: str) -> str:
    """A labelled `<select>` named `name` holding `options` (HTML)."""
    return (
        f'<div class="{prefix}-row"><label for="{uid}-{name}">{label}</label>'
        f'<select id="{uid}-{name}" name="{name}">{options}</select></div>'
    )


def range_row(
    prefix: str, uid: str, name: str, label: str, *, minimum: object, maximum: object,
    step: object, value: object, output: str, shown: object, row_attrs: str = "",
) -> str:
    """A labelled range input named `name` with its `<output>` (attributes `output`,
    text `shown`); `label` is HTML, `row_attrs` more attributes of the row."""
    input_id = f"{uid}-{name}"
    return (
        f'<div class="{prefix}-row"{row_attrs}><label for="{input_id}">{label}</label>'
        f'<input type="range" id="{input_id}" name="{name}" '
        f'min="{minimum}" max="{maximum}" step="{step}" value="{value}">'
        f'<output for="{input_id}" {output}>{shown}</output></div>'
    )


def chart_figure(prefix: str, uid: str, height: int, caption: str, after: str = "") -> str:
    """The figure of the chart the script draws (640 wide), named by its `caption`
    (HTML); `after` is HTML put after the caption."""
    return (
        f'<figure class="{prefix}-figure">'
        f'<svg class="{prefix}-chart" viewBox="0 0 640 {height}" role="img" '
        f'aria-labelledby="{uid}-caption"></svg>'
        f'<figcaption id="{uid}-caption">{caption}</figcaption>{after}</figure>'
    )
