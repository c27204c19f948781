"""Runners: build and run an agent from a configuration (skrl's YAML format); one per backend."""
