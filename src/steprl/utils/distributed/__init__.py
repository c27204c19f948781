"""Multi-process training helpers, one module per backend (``torch``: the torchrun process group and its
collectives; ``jax``: the launcher of ``python -m steprl.utils.distributed.jax``)."""
