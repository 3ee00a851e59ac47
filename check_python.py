"""Stop at once, in one line, when this Python cannot install the book's environment.

The README's commands start with ``python3 check_python.py &&``: without it, pip on
Python 3.13 ends in a ResolutionImpossible after minutes of work. ``requirements.txt``
pins numpy 1.26.4 because MXNet 1.9.1 needs numpy < 2, and numpy 1 has no wheels for
Python 3.13 or newer (nor does TensorFlow's ml-dtypes accept it there); the pinned
toolchain (IPython 9, matplotlib 3.11, ...) needs Python 3.11 or newer. So the pins
resolve on Python 3.11 and 3.12 only.

Exit status 0 and no output on a supported Python; otherwise status 1 and one line on
standard error naming the supported versions and why. Kept free of syntax newer than
Python 3.6 so that an old ``python3`` reaches the message instead of a SyntaxError.
"""

import sys

SUPPORTED = ((3, 11), (3, 12))


def problem(version_info, executable=sys.executable):
    """The one-line complaint about the Python at `executable` whose version is
    `version_info` (a ``sys.version_info`` or a tuple of at least (major, minor)), or
    None when the book's pins install on it."""
    found = ".".join(str(part) for part in tuple(version_info)[:3])
    if tuple(version_info)[:2] in SUPPORTED:
        return None
    if tuple(version_info)[:2] > SUPPORTED[-1]:
        why = ("MXNet 1.9.1 needs numpy < 2, which has no wheels for Python 3.13 or newer "
               "and which TensorFlow's ml-dtypes does not accept there")
    else:
        why = "the pinned packages (IPython 9, matplotlib 3.11, ...) need Python 3.11 or newer"
    return ("This book's environment needs Python 3.11 or 3.12, found Python " + found
            + " (" + executable + "): " + why
            + ". Run the commands with python3.12 or python3.11 in place of python3.")


if __name__ == "__main__":
    message = problem(sys.version_info)
    if message:
        sys.exit(message)
