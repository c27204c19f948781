"""Models: the :class:`Model` base class and the policy/value mixins (see ``steprl.models.torch``)."""
