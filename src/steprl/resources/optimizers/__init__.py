"""Optimizers (JAX: ``steprl.resources.optimizers.jax.Adam``)."""
