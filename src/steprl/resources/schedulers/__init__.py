"""Learning-rate schedulers (``steprl.resources.schedulers.torch``)."""
