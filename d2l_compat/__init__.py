"""Small, modern stand-in for the parts of the ``d2l`` package that the d2l.ai section
"Learning Rate Scheduling" needs.

Import the framework flavour you want, exactly like d2l::

    from d2l_compat import torch as d2l       # or: mxnet, tensorflow

The three submodules expose the same public names with the same signatures. This
package module itself imports no deep-learning framework.

Environment variables (see :mod:`d2l_compat._fashion_mnist`):

``D2L_DATA_DIR``
    Directory holding the four Fashion-MNIST ``.gz`` files.
``D2L_MAX_EXAMPLES``
    Cap the train and test sets to a fixed class-balanced subset of N examples each.
"""

__version__ = "0.1.0"
