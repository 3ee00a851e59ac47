"""Build step of the book: split chapter sources into per-framework notebooks,
execute them once with jupyter-cache, merge the outputs into tabbed page notebooks
and render every language with Jupyter Book.

Run ``python -m bookbuild --help`` for the command line.
"""
