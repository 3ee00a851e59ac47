"""Process-wide set-up for every test path (tests/ and the nbval notebooks).

PyPI's torch for Linux is the CUDA build (on Python 3.12, and on 3.11 away from the
project machines' CPU wheel) and brings triton, whose compiler library crashes the process
(segmentation fault) when it is loaded after TensorFlow's libraries; torch loads it
lazily, e.g. when the first optimizer is made. Tests run several frameworks in one
process, so triton, when installed, is loaded before any of them.
"""

import importlib.util

if importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401
