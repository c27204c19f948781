"""Agents (single-agent algorithms)."""
