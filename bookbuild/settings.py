"""The build's settings, checked: one object every step is given, built from the
command line and the environment by :mod:`bookbuild.cli`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import cache_dir
from .config import ROOT
from .kernel_env import kernel_env
from .vocabulary import DATA_DIR_ENV, MAX_EXAMPLES_ENV, Language


@dataclass(frozen=True)
class Settings:
    """What one build does.

    `langs`: the books to build; `max_examples`: a quick build's class-balanced subset
    size, None for all of Fashion-MNIST; `jobs`: how many notebooks execute at once;
    `build_dir`: where everything is written (absolute); `data_dir`: the verified
    Fashion-MNIST folder, None for d2l_compat's own lookup; `use_cache`: serve cached
    executions; `pdf`: also print each language's chapter as a PDF per framework
    (--pdf); `root`: the source tree.
    """

    langs: tuple[Language, ...]
    max_examples: int | None
    jobs: int
    build_dir: Path
    data_dir: Path | None
    use_cache: bool = True
    pdf: bool = False
    root: Path = ROOT

    @property
    def capped(self) -> bool:
        """A quick build: every run trains on a subset, and every page says so."""
        return self.max_examples is not None

    @property
    def cache_path(self) -> Path:
        return cache_dir(self.build_dir, self.root, self.max_examples)

    def kernel_env(self) -> dict[str, str]:
        """What every kernel of this build gets on top of the build's own environment
        (:func:`kernel_environment`)."""
        return kernel_environment(self.jobs, self.data_dir, self.max_examples)


def kernel_environment(jobs: int, data_dir: Path | None,
                       max_examples: int | None) -> dict[str, str]:
    """What every kernel gets on top of the build's own environment when `jobs`
    notebooks run at once: the thread and quiet settings
    (:func:`bookbuild.kernel_env.kernel_env`), the data folder and the subset size."""
    env = kernel_env(jobs)
    if data_dir is not None:
        # kernels run in the build folder: the path is absolute
        env[DATA_DIR_ENV] = str(data_dir)
    # a full build must not inherit an empty or stale value either
    env[MAX_EXAMPLES_ENV] = "" if max_examples is None else str(max_examples)
    return env
