"""JAX agent tests: XLA on one CPU thread and compiled programs cached on disk for the session (every agent jits
its own functions; identical programs compile once)."""

from helpers.jax_compilation import use_test_compilation_cache

use_test_compilation_cache()
