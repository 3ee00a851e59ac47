"""The environment the book's build gives every kernel it starts, on top of its own.

Kept apart from :mod:`bookbuild.execute` (which imports nbclient and jupyter-cache) so
that the benchmarks can give their workers the same settings cheaply.
"""

from __future__ import annotations

import os

# Kernel environment of the build. TensorFlow's C++ logging goes to the kernel's stderr,
# which ipykernel forwards into the cell outputs; TF_CPP_MIN_LOG_LEVEL=2 keeps only errors
# (it silences cpu_feature_guard). The oneDNN notice at import ignores it and is dropped
# by d2l_compat.tensorflow instead (TF_ENABLE_ONEDNN_OPTS=0 would also silence it, but
# makes training several times slower). README documents the same for readers; a
# variable the user set is left as it is.
QUIET_KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}
# glibc's malloc hands freed blocks above a moving threshold back to the OS and
# trims the heap top, so a training loop that frees and allocates its activations every
# minibatch page-faults them in again: measured here (PyTorch LeNet, one thread) up to a
# million minor faults and 1.5-2.8 s of system time in an epoch of 6-9 s, varying from
# epoch to epoch. With a fixed mmap threshold (32 MiB, glibc's maximum on 64-bit) and a
# 1 GiB trim threshold, freed memory stays in the process: a few faults per epoch, no
# system time. Read at process start; other C libraries ignore it.
MALLOC_KERNEL_ENV = {
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=33554432:"
                      "glibc.malloc.trim_threshold=1073741824",
}
# What each framework reads at import for its number of compute threads (see kernel_env).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


def kernel_env(parallel: int, cpus: int | None = None) -> dict[str, str]:
    """Environment variables the build gives every kernel, on top of its own.

    Besides :data:`QUIET_KERNEL_ENV` and :data:`MALLOC_KERNEL_ENV`: when `parallel`
    notebooks execute at once, each
    kernel's frameworks get ``cpus // parallel`` threads (at least 1), so the kernels
    share the cores instead of contending for them. With 2 threads each on 2 cores,
    every preemption stalls an OpenMP barrier and training slows down several times;
    MXNet 1.9.1's LeNet keeps only ~1.3 cores busy anyway. The variables are the ones
    each framework reads at import: OpenMP (PyTorch), ``MXNET_OMP_MAX_THREADS``
    (MXNet, see :mod:`d2l_compat.mxnet`) and TensorFlow's intra-/inter-op pools.
    A variable already set in the build's environment is left as it is.
    """
    env = QUIET_KERNEL_ENV | MALLOC_KERNEL_ENV
    if parallel > 1:
        cpus = cpus or len(os.sched_getaffinity(0))
        threads = str(max(1, cpus // parallel))
        env |= {name: threads for name in THREAD_VARIABLES}
    return {k: v for k, v in env.items() if k not in os.environ}
