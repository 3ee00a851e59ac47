"""Small, modern stand-in for the parts of the ``d2l`` package that the d2l.ai section
"Learning Rate Scheduling" needs.

Import the framework flavour you want, exactly like d2l::

    from d2l_compat import torch as d2l       # or: mxnet, tensorflow

The three framework submodules expose the same public names with the same signatures.
Two framework-free public modules serve tools as well as the notebooks (the book's build
imports only these and no framework):

:mod:`d2l_compat.fashion_mnist`
    The data files: where they are looked for (:func:`~d2l_compat.fashion_mnist.locate`),
    their specification (``FILES``), decoding and verification
    (:func:`~d2l_compat.fashion_mnist.load_raw`, ``FashionMNISTError``).
:mod:`d2l_compat.results`
    The chapter's table and figure of several runs' per-epoch histories
    (``HISTORY_KEYS``, ``METADATA_KEY``, ``summary_rows``, ``results_table``,
    ``plot_histories``, ``show_results``).

The modules whose names start with ``_`` are internal. This package module itself
imports no deep-learning framework.

Environment variables (see :mod:`d2l_compat.fashion_mnist`):

``D2L_DATA_DIR``
    Directory holding the four Fashion-MNIST ``.gz`` files.
``D2L_MAX_EXAMPLES``
    Cap the train and test sets to a fixed class-balanced subset of N examples each.
"""

__version__ = "0.1.0"
