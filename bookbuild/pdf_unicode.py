"""The text of Chromium's PDFs as the page wrote it: CJK ideographs, not radicals.

Noto Sans CJK (fonts-noto-cjk, the only CJK fonts here) draws a Kangxi radical
(U+2F00-U+2FDF) or a radical of the CJK Radicals Supplement (U+2E80-U+2EFF) with the
same glyph as its ideograph, e.g. "⽬" (U+2F6C) and "目", "⻚" (U+2EDA) and "页".
Chromium's PDF names each glyph by one code point in the font's /ToUnicode CMap, the
lowest, which is the radical's: a reader who copies or searches "目录" in the Korean or
Chinese PDF gets "⽬录". Every installed CJK family and style does it, so no print font
avoids it. :func:`fix_radicals` rewrites, after Chromium has written the PDF, each
/ToUnicode entry that names a radical so that it names the ideograph the font draws
with the same glyph (the font's own cmap, read with fontTools, so "⼾" becomes "户" in
the Simplified Chinese face, where the text had "户", not NFKC's "戶"). A font that
cannot be found falls back to NFKC, which knows the Kangxi radicals.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import unicodedata
from pathlib import Path

RADICAL_BLOCKS = ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF))
# a CMap's bfchar and bfrange sections, and their entries
SECTION = re.compile(rb"\d+\s+begin(bfchar|bfrange)(.*?)end\1", re.S)
HEX = rb"<([0-9A-Fa-f]*)>"
BFCHAR = re.compile(HEX + rb"\s*" + HEX)
BFRANGE = re.compile(HEX + rb"\s*" + HEX + rb"\s*(?:" + HEX + rb"|\[([^\]]*)\])")
PER_SECTION = 100  # the PDF specification's limit on the entries of one section


def is_radical(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in RADICAL_BLOCKS)


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode("ascii")).decode("utf-16-be", "surrogatepass")


def _hex(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex().upper()


def read_cmap(data: bytes) -> dict[bytes, str]:
    """The entries of a /ToUnicode CMap: source code (hex, as written) -> text."""
    entries: dict[bytes, str] = {}
    for kind, body in SECTION.findall(data):
        if kind == b"bfchar":
            for code, text in BFCHAR.findall(body):
                entries[code.upper()] = _utf16(text)
            continue
        for low, high, start, array in BFRANGE.findall(body):
            width = len(low)
            first, last = int(low, 16), int(high, 16)
            if array:
                texts = [_utf16(item) for item in re.findall(HEX, array)]
            else:
                base = _utf16(start)
                texts = [base[:-1] + chr(ord(base[-1]) + step)
                         for step in range(last - first + 1)] if base else []
            for code, text in zip(range(first, last + 1), texts, strict=False):
                entries[f"{code:0{width}X}".encode()] = text
    return entries


def write_cmap(original: bytes, entries: dict[bytes, str]) -> bytes:
    """`original` with its bfchar and bfrange sections replaced by `entries`."""
    chunks = []
    items = sorted(entries.items())
    for at in range(0, len(items), PER_SECTION):
        part = items[at:at + PER_SECTION]
        lines = b"\n".join(b"<" + code + b"> <" + _hex(text).encode() + b">"
                           for code, text in part)
        chunks.append(f"{len(part)} beginbfchar\n".encode() + lines + b"\nendbfchar")
    sections = list(SECTION.finditer(original))
    head, tail = original[:sections[0].start()], original[sections[-1].end():]
    return head + b"\n".join(chunks) + tail


@functools.cache
def _shared_glyphs(postscript_name: str) -> dict[str, str] | None:
    """Radical -> ideograph drawn with the same glyph in the installed font named
    `postscript_name`; None when fontconfig does not know it."""
    try:
        found = subprocess.run(
            ["fc-list", f":postscriptname={postscript_name}", "--format",
             "%{file}\t%{index}\n"], capture_output=True, text=True, check=False,
            timeout=30).stdout.split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return None
    if "\t" not in found:
        return None
    from fontTools.ttLib import TTFont

    file, index = found.split("\t")
    cmap = TTFont(file, fontNumber=int(index or 0), lazy=True).getBestCmap()
    by_glyph: dict[str, list[str]] = {}
    for code, glyph in sorted(cmap.items()):
        by_glyph.setdefault(glyph, []).append(chr(code))
    shared = {}
    for code, glyph in cmap.items():
        if is_radical(chr(code)):
            # a unified ideograph rather than a compatibility one (力 U+F98A) of the glyph
            others = sorted((c for c in by_glyph[glyph] if not is_radical(c)),
                            key=lambda c: unicodedata.normalize("NFKC", c) != c)
            if others:
                shared[chr(code)] = others[0]
    return shared


def ideographs(text: str, postscript_name: str | None) -> str:
    """`text` (one /ToUnicode entry of the font `postscript_name`) with its radicals
    replaced by their ideographs."""
    shared = (_shared_glyphs(postscript_name) if postscript_name else None) or {}
    return "".join((shared.get(c) or unicodedata.normalize("NFKC", c)) if is_radical(c)
                   else c for c in text)


def _font_name(font) -> str | None:
    """The PostScript name of a PDF font, without its subset tag ("AAAAAA+")."""
    name = font.get("/BaseFont")
    if name is None and "/FontDescriptor" in font:
        name = font["/FontDescriptor"].get_object().get("/FontName")
    if name is None and "/DescendantFonts" in font:
        return _font_name(font["/DescendantFonts"][0].get_object())
    return str(name)[1:].split("+", 1)[-1] if name else None


def _fonts(resources, seen: set[int]):
    """The fonts of a resource dictionary and of its forms and Type 3 fonts."""
    if resources is None or id(resources) in seen:
        return
    seen.add(id(resources))
    resources = resources.get_object()
    for ref in (resources.get("/Font") or {}).values():
        font = ref.get_object()
        yield font
        yield from _fonts(font.get("/Resources"), seen)
    for ref in (resources.get("/XObject") or {}).values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            yield from _fonts(xobject.get("/Resources"), seen)


def fix_radicals(path: Path) -> int:
    """Rewrite the PDF at `path` so that no /ToUnicode entry names a CJK radical where
    the font draws an ideograph; returns how many entries changed. The file is replaced
    whole (a new file, renamed over it) or left as it was."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(path)
    writer = PdfWriter(clone_from=reader)
    changed, done = 0, set()
    for page in writer.pages:
        for font in _fonts(page.get("/Resources"), set()):
            if "/ToUnicode" not in font:
                continue
            stream = font["/ToUnicode"].get_object()
            if id(stream) in done:
                continue
            done.add(id(stream))
            data = stream.get_data()
            entries = read_cmap(data)
            if not any(is_radical(c) for text in entries.values() for c in text):
                continue
            name = _font_name(font)
            fixed = {code: ideographs(text, name) for code, text in entries.items()}
            changed += sum(fixed[code] != text for code, text in entries.items())
            stream.set_data(write_cmap(data, fixed))
    if changed:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as out:
                writer.write(out)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return changed
