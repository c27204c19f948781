"""LeanAdam steps exactly as torch's fused Adam, keeps its state layout and works with schedulers and checkpoints."""

from __future__ import annotations

import pytest
import torch

from steprl.agents.torch._adam import LeanAdam, make_adam
from steprl.agents.torch.base import clip_grad_norm
from steprl.resources.schedulers.torch import KLAdaptiveLR


def _nets(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))


def _train(net: torch.nn.Module, optimizer: torch.optim.Optimizer, steps: int, frozen: bool = False) -> None:
    torch.manual_seed(1)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = net(torch.randn(32, 4)).square().mean()
        if frozen and step % 2:  # the first layer gets no gradient every other step
            loss = net[2](net[1](net[0](torch.randn(32, 4)).detach())).square().mean()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("frozen", [False, True])
def test_steps_equal_torch_fused_adam(frozen: bool) -> None:
    ours, reference = _nets(0), _nets(0)
    lean = LeanAdam(ours.parameters(), lr=3e-3)
    fused = torch.optim.Adam(reference.parameters(), lr=3e-3, fused=True)
    _train(ours, lean, 12, frozen)
    _train(reference, fused, 12, frozen)
    for a, b in zip(ours.parameters(), reference.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(lean.state.values(), fused.state.values()):
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_state_dict_round_trip_into_torch_adam_and_back() -> None:
    net = _nets(0)
    lean = make_adam(list(net.parameters()), 1e-3)
    assert isinstance(lean, LeanAdam) and isinstance(lean, torch.optim.Adam)
    _train(net, lean, 3)
    other = torch.optim.Adam(_nets(0).parameters(), lr=1e-3, fused=True)
    other.load_state_dict(lean.state_dict())
    restored = LeanAdam(_nets(0).parameters(), lr=5.0)
    restored.load_state_dict(other.state_dict())
    assert restored.param_groups[0]["lr"] == 1e-3
    assert [s["step"].item() for s in restored.state.values()] == [3.0] * 4


def test_schedulers_drive_the_learning_rate() -> None:
    net = _nets(0)
    optimizer = LeanAdam(net.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5**epoch)
    _train(net, optimizer, 1)
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(5e-3)
    adaptive = KLAdaptiveLR(optimizer, kl_threshold=0.01)
    adaptive.step(torch.tensor(1.0))
    assert optimizer.param_groups[0]["lr"] < 5e-3


@pytest.mark.slow  # the closure takes torch.optim's generic step, which imports torch._dynamo (seconds)
def test_closures_and_step_hooks_still_work() -> None:
    net = _nets(0)
    optimizer = LeanAdam(net.parameters(), lr=1e-3)
    calls: list[str] = []
    optimizer.register_step_pre_hook(lambda *args: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *args: calls.append("post"))

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = net(torch.ones(2, 4)).sum()
        loss.backward()
        return loss

    before = [p.clone() for p in net.parameters()]
    assert torch.is_tensor(optimizer.step(closure))
    _train(net, optimizer, 1)
    assert calls == ["pre", "post", "pre", "post"]
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


@pytest.mark.parametrize("max_norm", [1e-3, 1e3])
def test_clip_grad_norm_matches_torch(max_norm: float) -> None:
    ours, reference = _nets(0), _nets(0)
    for net in (ours, reference):
        torch.manual_seed(2)
        net(torch.randn(8, 4)).sum().backward()
    ours[0].bias.grad = None  # parameters without a gradient are skipped
    reference[0].bias.grad = None
    clip_grad_norm(list(ours.parameters()), max_norm)
    torch.nn.utils.clip_grad_norm_(list(reference.parameters()), max_norm)
    for a, b in zip(ours.parameters(), reference.parameters()):
        assert (a.grad is None and b.grad is None) or torch.allclose(a.grad, b.grad, rtol=1e-6, atol=0)
