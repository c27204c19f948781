"""PyTorch preprocessors."""

from steprl.resources.preprocessors.torch.running_standard_scaler import RunningStandardScaler

__all__ = ["RunningStandardScaler"]
