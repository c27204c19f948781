# Written for steprl's tests: the components, settings and public calls of skrl 1.x's example of this name, with steprl as the import root.
"""TD3 (TD3_RNN) on PendulumNoVel-v1, Pendulum with its angular velocity hidden: actor and critics written with the
mixins over GRU layers (400 units, sequences of 20 steps), Gaussian exploration noise (0, 0.1) and target-smoothing
noise (0, 0.2) clipped at 0.5, a RandomMemory of 20000 transitions sampled without replacement."""

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from steprl.agents.torch.td3 import TD3_DEFAULT_CONFIG
from steprl.agents.torch.td3 import TD3_RNN as TD3
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, Model
from steprl.resources.noises.torch import GaussianNoise
from steprl.trainers.torch import SequentialTrainer
from steprl.utils import set_seed

set_seed()  # pass a number for a fixed seed


# A GRU carries one tensor, the hidden state (layers, batch, size).
STATE_TENSORS = 1


def pack(tensors):
    """The list of recurrent tensors (as kept in inputs["rnn"]) in the form torch's nn.GRU takes."""
    return tensors[0]


def unpack(state):
    """torch's nn.GRU state back into the list form returned in outputs["rnn"]."""
    return [state]


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


class Actor(DeterministicMixin, Model):
    """Deterministic actor over a GRU of 400 units, then ReLU layers of 400 and 300 units; the action is
    squashed into Pendulum's torque range [-2, 2]."""

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 num_envs=1, num_layers=1, hidden_size=400, sequence_length=20):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.num_envs = num_envs
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.sequence_length = sequence_length
        self.core = nn.GRU(input_size=self.num_observations, hidden_size=hidden_size, num_layers=num_layers,
                           batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 400), nn.ReLU(), nn.Linear(400, 300), nn.ReLU(),
                                  nn.Linear(300, self.num_actions))

    def get_specification(self):
        return rnn_specification(self)

    def compute(self, inputs, role):
        if self.training:  # sampled sequences
            start = 1 if role == "target_policy" else 0  # the target policy acts on the next observations
            features, state = unroll(self.core, inputs["states"], inputs["rnn"], inputs.get("terminated"),
                                     self.sequence_length, start)
        else:  # one step of every environment
            features, state = rollout_step(self.core, inputs["states"], inputs["rnn"])
        return 2.0 * torch.tanh(self.head(features)), {"rnn": state}


class Critic(DeterministicMixin, Model):
    """Q-value: the observations go through a GRU of 400 units, whose output is joined with the action
    and passed through ReLU layers of 400 and 300 units. Critics only ever see sampled sequences."""

    TARGETS = ("target_critic_1", "target_critic_2")

    def __init__(self, observation_space, action_space, device, clip_actions=False,
                 num_envs=1, num_layers=1, hidden_size=400, sequence_length=20):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)
        self.num_envs = num_envs
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.sequence_length = sequence_length
        self.core = nn.GRU(input_size=self.num_observations, hidden_size=hidden_size, num_layers=num_layers,
                           batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size + self.num_actions, 400), nn.ReLU(), nn.Linear(400, 300),
                                  nn.ReLU(), nn.Linear(300, 1))

    def get_specification(self):
        return rnn_specification(self)

    def compute(self, inputs, role):
        start = 1 if role in self.TARGETS else 0  # target critics evaluate the next observations
        features, state = unroll(self.core, inputs["states"], inputs["rnn"], inputs.get("terminated"),
                                 self.sequence_length, start)
        return self.head(torch.cat([features, inputs["taken_actions"]], dim=-1)), {"rnn": state}


class MaskAngularVelocity(gym.ObservationWrapper):
    """Pendulum observations are (cos theta, sin theta, angular velocity); this zeroes the velocity, which the agent
    then has to infer from what it saw before."""

    KEEP = np.array([1, 1, 0])

    def observation(self, observation):
        return observation * self.KEEP


def pendulum_without_velocity():
    return MaskAngularVelocity(gym.make("Pendulum-v1"))


gym.envs.registration.register(id="PendulumNoVel-v1", entry_point=pendulum_without_velocity)


env = wrap_env(gym.make("PendulumNoVel-v1"))
device = env.device

memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=False)

models = {}
models["policy"] = Actor(env.observation_space, env.action_space, device, num_envs=env.num_envs)
models["target_policy"] = Actor(env.observation_space, env.action_space, device, num_envs=env.num_envs)
models["critic_1"] = Critic(env.observation_space, env.action_space, device, num_envs=env.num_envs)
models["critic_2"] = Critic(env.observation_space, env.action_space, device, num_envs=env.num_envs)
models["target_critic_1"] = Critic(env.observation_space, env.action_space, device, num_envs=env.num_envs)
models["target_critic_2"] = Critic(env.observation_space, env.action_space, device, num_envs=env.num_envs)
for model in models.values():
    model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

cfg = TD3_DEFAULT_CONFIG.copy()
cfg["exploration"]["noise"] = GaussianNoise(0, 0.1, device=device)
cfg["smooth_regularization_noise"] = GaussianNoise(0, 0.2, device=device)
cfg["smooth_regularization_clip"] = 0.5
cfg["discount_factor"] = 0.98
cfg["batch_size"] = 100
cfg["random_timesteps"] = 0
cfg["learning_starts"] = 1000
cfg["experiment"]["write_interval"] = 75
cfg["experiment"]["checkpoint_interval"] = 750
cfg["experiment"]["directory"] = "runs/torch/PendulumNoVel"

agent = TD3(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=device)

cfg_trainer = {"timesteps": 15000, "headless": True}
trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=[agent])
trainer.train()
