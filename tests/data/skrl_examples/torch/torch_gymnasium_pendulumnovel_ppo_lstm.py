# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""PPO (PPO_RNN) on 4 synchronous PendulumNoVel-v1 environments (gym.vector.make), Pendulum with its angular velocity
hidden: Gaussian policy and value written with the mixins over LSTM layers (64 units, sequences of 128 steps),
running standard scalers, the KL-adaptive learning rate (KLAdaptiveRL), a 1024-step rollout in a RandomMemory."""

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.ppo import PPO_DEFAULT_CONFIG
from steprl.agents.torch.ppo import PPO_RNN as PPO
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, GaussianMixin, Model
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.resources.schedulers.torch import KLAdaptiveRL
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

set_seed()  # pass a number for a fixed seed


# An LSTM carries two tensors, the hidden and the cell state, each (layers, batch, size); torch wants them as a tuple.
STATE_TENSORS = 2


def pack(tensors):
    """The list of recurrent tensors (as kept in inputs["rnn"]) in the form torch's nn.LSTM takes."""
    return tuple(tensors)


def unpack(state):
    """torch's nn.LSTM state back into the list form returned in outputs["rnn"]."""
    return list(state)


def rnn_specification(model):
    """What the agent must allocate and sample: sequences of ``sequence_length`` steps and the recurrent tensors,
    each (layers, environments, size)."""
    shape = (model.num_layers, model.num_envs, model.hidden_size)
    return {"rnn": {"sequence_length": model.sequence_length, "sizes": [shape] * STATE_TENSORS}}


def rollout_step(core, observations, carried):
    """One environment step: every environment is a batch entry with a sequence of length 1."""
    output, state = core(observations.unsqueeze(1), pack(carried))
    return output.squeeze(1), unpack(state)


def unroll(core, observations, carried, terminated, window, start=0):
    """Runs ``core`` over sampled sequences of ``window`` consecutive steps.

    ``observations`` is (sequences * window, features) and each stored recurrent tensor is
    (layers, sequences * window, size); the tensors stored at step ``start`` of every sequence seed the core (1 for
    target networks, which look at the next observations). Wherever an episode ended inside the window, the
    sequence is cut after that step and the state of the sequences that ended is zeroed before going on.
    Returns the (sequences * window, size) outputs and the final state.
    """
    sequences = observations.view(-1, window, observations.shape[-1])
    state = [t.view(t.shape[0], -1, window, t.shape[-1])[:, :, start, :].contiguous() for t in carried]
    if terminated is None or not torch.any(terminated):
        output, final = core(sequences, pack(state))
        return output.flatten(0, 1), unpack(final)
    ended = terminated.view(-1, window).bool()
    cuts = (ended[:, :-1].any(dim=0).nonzero().flatten() + 1).tolist()
    bounds = [0, *cuts, window]
    pieces = []
    for first, stop in zip(bounds[:-1], bounds[1:]):
        output, final = core(sequences[:, first:stop], pack(state))
        still_running = (~ended[:, stop - 1]).to(output.dtype).view(1, -1, 1)
        state = [t * still_running for t in unpack(final)]
        pieces.append(output)
    return torch.cat(pieces, dim=1).flatten(0, 1), state


class Policy(GaussianMixin, Model):
    """Gaussian policy over an LSTM of 64 units: a 64-unit ReLU layer turns its output into a mean squashed
    into Pendulum's torque range [-2, 2]; a state-independent log standard deviation."""

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 clip_log_std=True, min_log_std=-20, max_log_std=2, reduction="sum",
                 num_envs=1, num_layers=1, hidden_size=64, sequence_length=128):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)
        self.num_envs = num_envs
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.sequence_length = sequence_length
        self.core = nn.LSTM(input_size=self.num_observations, hidden_size=hidden_size, num_layers=num_layers,
                            batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 64), nn.ReLU(), nn.Linear(64, self.num_actions))
        self.log_std_param = nn.Parameter(torch.zeros(self.num_actions))

    def get_specification(self):
        return rnn_specification(self)

    def compute(self, inputs, role):
        if self.training:  # sampled sequences
            features, state = unroll(self.core, inputs["states"], inputs["rnn"], inputs.get("terminated"),
                                     self.sequence_length)
        else:  # one step of every environment
            features, state = rollout_step(self.core, inputs["states"], inputs["rnn"])
        return 2.0 * torch.tanh(self.head(features)), self.log_std_param, {"rnn": state}


class Value(DeterministicMixin, Model):
    """State value over an LSTM of 64 units, then a 64-unit ReLU layer."""

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 num_envs=1, num_layers=1, hidden_size=64, sequence_length=128):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.num_envs = num_envs
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.sequence_length = sequence_length
        self.core = nn.LSTM(input_size=self.num_observations, hidden_size=hidden_size, num_layers=num_layers,
                            batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 64), nn.ReLU(), nn.Linear(64, 1))

    def get_specification(self):
        return rnn_specification(self)

    def compute(self, inputs, role):
        if self.training:
            features, state = unroll(self.core, inputs["states"], inputs["rnn"], inputs.get("terminated"),
                                     self.sequence_length)
        else:
            features, state = rollout_step(self.core, inputs["states"], inputs["rnn"])
        return self.head(features), {"rnn": state}


class MaskAngularVelocity(gym.ObservationWrapper):
    """Pendulum observations are (cos theta, sin theta, angular velocity); this zeroes the velocity, which the agent
    then has to infer from what it saw before."""

    KEEP = np.array([1, 1, 0])

    def observation(self, observation):
        return observation * self.KEEP


def pendulum_without_velocity():
    return MaskAngularVelocity(gym.make("Pendulum-v1"))


gym.envs.registration.register(id="PendulumNoVel-v1", entry_point=pendulum_without_velocity)


env = wrap_env(gym.vector.make("PendulumNoVel-v1", num_envs=4, asynchronous=False))
device = env.device

memory = RandomMemory(memory_size=1024, num_envs=env.num_envs, device=device)

models = {"policy": Policy(env.observation_space, env.action_space, device, clip_actions=True, num_envs=env.num_envs),
          "value": Value(env.observation_space, env.action_space, device, num_envs=env.num_envs)}

cfg = PPO_DEFAULT_CONFIG.copy()
cfg["rollouts"] = 1024
cfg["learning_epochs"] = 10
cfg["mini_batches"] = 32
cfg["discount_factor"] = 0.9
cfg["lambda"] = 0.95
cfg["learning_rate"] = 1e-3
cfg["learning_rate_scheduler"] = KLAdaptiveRL
cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
cfg["grad_norm_clip"] = 0.5
cfg["ratio_clip"] = 0.2
cfg["value_clip"] = 0.2
cfg["clip_predicted_values"] = False
cfg["entropy_loss_scale"] = 0.0
cfg["value_loss_scale"] = 0.5
cfg["kl_threshold"] = 0
cfg["state_preprocessor"] = RunningStandardScaler
cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
cfg["value_preprocessor"] = RunningStandardScaler
cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
cfg["experiment"]["write_interval"] = 500
cfg["experiment"]["checkpoint_interval"] = 5000
cfg["experiment"]["directory"] = "runs/torch/PendulumNoVel"

agent = PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 100000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
