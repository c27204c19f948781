"""JAX multi-agent tests: one XLA CPU thread and the session's compilation cache."""

from helpers.jax_compilation import use_test_compilation_cache

use_test_compilation_cache()
