"""bookbuild/pdf_unicode.py: a /ToUnicode CMap's radicals become the ideographs that the
font draws with the same glyph (the PDFs themselves: tests/browser/test_pdf.py)."""

from __future__ import annotations

import pytest

from bookbuild import pdf_unicode

CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
1 begincodespacerange
<00> <FF>
endcodespacerange
2 beginbfchar
<45> <2F6C>
<46> <0041>
endbfchar
1 beginbfrange
<47> <48> <2EDA>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def test_cmap_is_read_and_written_back() -> None:
    entries = pdf_unicode.read_cmap(CMAP)
    assert entries == {b"45": "\u2f6c", b"46": "A", b"47": "\u2eda", b"48": "\u2edb"}
    written = pdf_unicode.write_cmap(CMAP, {**entries, b"45": "目"})
    assert pdf_unicode.read_cmap(written) == {**entries, b"45": "目"}
    assert b"<00> <FF>\nendcodespacerange" in written and b"endbfrange" not in written


def test_kangxi_radicals_fall_back_to_nfkc() -> None:
    assert pdf_unicode.ideographs("\u2f6c录", None) == "目录"


def test_radicals_become_the_ideographs_of_their_glyphs() -> None:
    shared = pdf_unicode._shared_glyphs("NotoSansCJKsc-Regular")
    if shared is None:
        pytest.skip("fonts-noto-cjk is not installed")
    text = pdf_unicode.ideographs("\u2f6c录 \u2eda \u2f3e", "NotoSansCJKsc-Regular")
    # 户 (U+6237) is the Simplified Chinese face's glyph; NFKC would say 戶 (U+6236)
    assert text == "目录 页 户"
