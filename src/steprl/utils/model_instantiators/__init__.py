"""Model instantiators: build ready-to-use models from a declarative network definition (``.torch``)."""
