"""XLA settings for the JAX tests: one CPU thread, compiled programs cached on disk across the session's tests
(every agent jits its own functions; identical programs compile once)."""

from __future__ import annotations

import os
import tempfile

import jax


def use_test_compilation_cache() -> None:
    """One XLA CPU thread and a persistent compilation cache in the temporary directory."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "steprl-jax-test-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
