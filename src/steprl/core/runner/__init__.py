"""The backend-neutral runner: configuration format, class tables and building (see :mod:`.spec`)."""

from steprl.core.runner.runner import RunnerBase, load_yaml
from steprl.core.runner.spec import RunnerConfigError, RunnerSpec, parse_config

__all__ = ["RunnerBase", "RunnerConfigError", "RunnerSpec", "load_yaml", "parse_config"]
