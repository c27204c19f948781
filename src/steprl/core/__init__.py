"""Backend-neutral building blocks shared by every trainer and agent (written once)."""
