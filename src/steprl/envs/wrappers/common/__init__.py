"""Backend-neutral (NumPy) environment logic shared by the torch and JAX wrappers."""
