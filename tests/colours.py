"""WCAG 2 colour contrast, for the browser tests that measure what a reader sees."""

from __future__ import annotations


def luminance(rgb: str) -> float:
    """Relative luminance (WCAG 2) of a CSS `rgb(...)`/`rgba(...)` colour."""
    parts = [float(x) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
           for c in (p / 255 for p in parts)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """The contrast ratio (1 to 21) of two CSS colours."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
