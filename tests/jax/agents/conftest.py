"""JAX agent tests: XLA on one CPU thread and compiled programs cached on disk for the session (every agent jits
its own functions; identical programs compile once)."""

from __future__ import annotations

import os
import tempfile

import jax

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "steprl-jax-test-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
