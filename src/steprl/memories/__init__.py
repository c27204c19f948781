"""Replay/rollout memories (``steprl.memories.torch``)."""
