"""Training resources: noises, preprocessors and learning-rate schedulers."""
