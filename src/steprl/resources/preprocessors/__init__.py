"""Input preprocessors (``steprl.resources.preprocessors.torch``)."""
