"""The schedule explorer's markup (sphinxext/schedule_explorer.py) as a reader without
JavaScript sees it: each slider's value beside it, with the page language's decimal
mark, as the script then writes it (tests/browser/test_explorer_numbers.py)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from sphinxext import schedule_explorer as sx


def shown_values(decimal: str) -> list[str]:
    """Each slider's value as the page shows it, in the explorer's order."""
    labels = {option: option for option in sx.OPTIONS}
    soup = BeautifulSoup(sx.explorer_html("x-1", labels, decimal), "html.parser")
    return [out.get_text() for out in soup.select("output[data-decimals]")]


def test_slider_values_are_shown_with_the_pages_decimal_mark() -> None:
    point, comma = shown_values("."), shown_values(",")
    assert any("." in value for value in point), point
    assert comma == [value.replace(".", ",") for value in point]
    assert all("." not in value for value in comma)
