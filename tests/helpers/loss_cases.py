"""Hand-computed cases for the pure loss functions, as plain Python numbers (no torch, no jax).

Each case holds the inputs, the expected outputs and, where a term can be silently dropped, the expected
gradients. Every backend runs the same cases against its own losses: per-sample quantities are flat lists of
length ``B`` that a backend views as ``(B, 1)`` columns unless the case says otherwise; ``[T][N]`` nested lists are
GAE's time-major layout. The derivations are in the comments, so a failing case can be checked by hand.
"""

from __future__ import annotations

import math
from typing import Any

Case = dict[str, Any]


# ------------------------------------------------------------------------------------------------------ PPO / RPO
# Probability ratios on both sides of [1 - ε, 1 + ε] (ε = 0.2) with positive and negative advantages:
#   i  ratio  A     A·r    A·clip(r)  min    branch taken          d(policy_loss)/d(log_prob_i) = -A·r/B or 0
#   0  1.5    2.0   3.0    2.4        2.4    clipped (r > 1 + ε)   0
#   1  1.5   -1.0  -1.5   -1.2       -1.5    unclipped             -(-1.0·1.5)/6 =  0.25
#   2  0.5    1.0   0.5    0.8        0.5    unclipped             -(1.0·0.5)/6  = -1/12
#   3  0.5   -2.0  -1.0   -1.6       -1.6    clipped (r < 1 - ε)   0
#   4  1.1    3.0   3.3    3.3        3.3    inside                -(3.0·1.1)/6  = -0.55
#   5  0.9   -1.0  -0.9   -0.9       -0.9    inside                -(-1.0·0.9)/6 =  0.15
# policy_loss = -(2.4 - 1.5 + 0.5 - 1.6 + 3.3 - 0.9) / 6 = -2.2 / 6
_RATIOS = [1.5, 1.5, 0.5, 0.5, 1.1, 0.9]
_OLD_LOG_PROB = [-1.0, -0.5, -2.0, -1.2, -0.3, -0.7]
_PPO_INPUTS = {
    "log_prob": [old + math.log(r) for old, r in zip(_OLD_LOG_PROB, _RATIOS)],
    "old_log_prob": _OLD_LOG_PROB,
    "advantages": [2.0, -1.0, 1.0, -2.0, 3.0, -1.0],
    # values: old ± value_clip (0.2) clips rows 0 (+0.5), 2 (-1.0) and 4 (+0.3); rows 1, 3, 5 stay inside
    "predicted_values": [1.5, 0.9, -1.0, 0.1, 2.3, -1.05],
    "old_values": [1.0, 1.0, 0.0, 0.0, 2.0, -1.0],
    "returns": [2.0, 0.0, -1.0, 1.1, 2.5, -1.0],
    "entropy": [1.0, 2.0, 0.5, 1.5, 1.0, 0.0],
}
_PPO_POLICY_LOSS = -2.2 / 6
_PPO_LOG_PROB_GRAD = [0.0, 0.25, -1.0 / 12, 0.0, -0.55, 0.15]
_PPO_KL = sum((r - 1.0) - math.log(r) for r in _RATIOS) / 6  # E[(r - 1) - log r]
# unclipped squared errors (returns - predicted)²: 0.25, 0.81, 0, 1.0, 0.04, 0.0025 (sum 2.1025)
# clipped predictions 1.2, 0.9, -0.2, 0.1, 2.2, -1.05: 0.64, 0.81, 0.64, 1.0, 0.09, 0.0025 (sum 3.1825)
# d(scale·mean((R - v)²))/dv = scale·2·(v - R)/6 = (v - R)/6 with scale 0.5, and 0 where the clip is active
_VALUE_SCALE = 0.5
_ENTROPY_SCALE = 0.01
_ENTROPY_LOSS = -0.01 * 6.0 / 6  # -scale · mean(entropy), mean = 1.0

PPO_CASES: list[Case] = [
    {
        "id": "surrogate_both_sides_unclipped_values",
        "inputs": _PPO_INPUTS,
        "kwargs": {
            "ratio_clip": 0.2,
            "value_clip": 0.2,
            "clip_predicted_values": False,
            "entropy_loss_scale": _ENTROPY_SCALE,
            "value_loss_scale": _VALUE_SCALE,
        },
        "expected": {
            "policy_loss": _PPO_POLICY_LOSS,
            "value_loss": _VALUE_SCALE * 2.1025 / 6,
            "entropy_loss": _ENTROPY_LOSS,
            "kl": _PPO_KL,
            "total": _PPO_POLICY_LOSS + _VALUE_SCALE * 2.1025 / 6 + _ENTROPY_LOSS,
        },
        "grad": {  # of the total loss
            "log_prob": _PPO_LOG_PROB_GRAD,
            "predicted_values": [-0.5 / 6, 0.9 / 6, 0.0, -1.0 / 6, -0.2 / 6, -0.05 / 6],
            "entropy": [-_ENTROPY_SCALE / 6] * 6,
        },
    },
    {
        "id": "surrogate_both_sides_clipped_values",
        "inputs": _PPO_INPUTS,
        "kwargs": {
            "ratio_clip": 0.2,
            "value_clip": 0.2,
            "clip_predicted_values": True,
            "entropy_loss_scale": _ENTROPY_SCALE,
            "value_loss_scale": _VALUE_SCALE,
        },
        "expected": {
            "policy_loss": _PPO_POLICY_LOSS,
            "value_loss": _VALUE_SCALE * 3.1825 / 6,
            "entropy_loss": _ENTROPY_LOSS,
            "kl": _PPO_KL,
            "total": _PPO_POLICY_LOSS + _VALUE_SCALE * 3.1825 / 6 + _ENTROPY_LOSS,
        },
        "grad": {
            "log_prob": _PPO_LOG_PROB_GRAD,
            "predicted_values": [0.0, 0.9 / 6, 0.0, -1.0 / 6, 0.0, -0.05 / 6],
            "entropy": [-_ENTROPY_SCALE / 6] * 6,
        },
    },
    {
        # a wider clip (ε = 0.6) leaves every ratio inside: the plain surrogate -mean(A·r) = -(3 - 1.5 + 0.5 - 1 +
        # 3.3 - 0.9)/6 = -3.4/6; values clipped at ±0.4 only on row 0 (1.4: 0.36) and row 2 (-0.4: 0.36); no entropy
        "id": "wide_clip_no_entropy",
        "inputs": _PPO_INPUTS,
        "kwargs": {
            "ratio_clip": 0.6,
            "value_clip": 0.4,
            "clip_predicted_values": True,
            "entropy_loss_scale": 0.0,
            "value_loss_scale": 1.0,
        },
        "expected": {
            "policy_loss": -3.4 / 6,
            "value_loss": (0.36 + 0.81 + 0.36 + 1.0 + 0.04 + 0.0025) / 6,
            "entropy_loss": 0.0,
            "kl": _PPO_KL,
            "total": -3.4 / 6 + (0.36 + 0.81 + 0.36 + 1.0 + 0.04 + 0.0025) / 6,
        },
        "grad": {
            "log_prob": [-2.0 * 1.5 / 6, 0.25, -1.0 / 12, 2.0 * 0.5 / 6, -0.55, 0.15],
            "predicted_values": [0.0, 2 * 0.9 / 6, 0.0, 2 * -1.0 / 6, 2 * -0.2 / 6, 2 * -0.05 / 6],
            "entropy": [0.0] * 6,
        },
    },
]

# ------------------------------------------------------------------------------------------------------ A2C
# policy = -mean(A · log π) = -mean(-0.5, 0.5, -4.0, 0.0) = 1.0; value = mean(0.25, 1, 1, 0.25) = 0.625;
# entropy = -0.1 · mean(0.5, 1, 1.5, 2) = -0.125. Gradients: -A/4; 2(v - R)/4; -0.1/4.
A2C_CASES: list[Case] = [
    {
        "id": "policy_value_entropy",
        "inputs": {
            "log_prob": [-0.5, -1.0, -2.0, -0.1],
            "advantages": [1.0, -0.5, 2.0, 0.0],
            "predicted_values": [0.5, 1.0, -1.0, 2.0],
            "returns": [1.0, 0.0, 0.0, 2.5],
            "entropy": [0.5, 1.0, 1.5, 2.0],
        },
        "kwargs": {"entropy_loss_scale": 0.1},
        "expected": {"policy_loss": 1.0, "value_loss": 0.625, "entropy_loss": -0.125, "total": 1.5},
        "grad": {
            "log_prob": [-0.25, 0.125, -0.5, 0.0],
            "predicted_values": [-0.25, 0.5, -0.5, -0.25],
            "entropy": [-0.025] * 4,
        },
    },
]

# ------------------------------------------------------------------------------------------------------ GAE
# delta_t = r_t + γ·(1 - terminated_t)·V(s'_t) - V(s_t);  A_t = delta_t + γλ·(1 - done_t)·A_{t+1}
GAE_CASES: list[Case] = [
    {
        # delta = [1 + .5·1 - .5, 2 + .5·1.5 - 1, 3 - 1.5] = [1, 1.75, 1.5]; A = [1 + .25·2.125, 1.75 + .25·1.5, 1.5]
        "id": "termination",
        "inputs": {
            "rewards": [[1.0], [2.0], [3.0]],
            "values": [[0.5], [1.0], [1.5]],
            "next_values": [[1.0], [1.5], [2.0]],
            "terminated": [[False], [False], [True]],
            "truncated": [[False], [False], [False]],
        },
        "kwargs": {"discount_factor": 0.5, "lambda_coefficient": 0.5},
        "expected": {"advantages": [[1.53125], [2.125], [1.5]], "returns": [[2.03125], [3.125], [3.0]]},
    },
    {
        # step 1 truncated: it bootstraps from V(final obs) = 1.5 but does not chain A_2 (the next episode)
        "id": "truncation_bootstraps_but_does_not_chain",
        "inputs": {
            "rewards": [[1.0], [2.0], [3.0]],
            "values": [[0.5], [1.0], [1.5]],
            "next_values": [[1.0], [1.5], [2.0]],
            "terminated": [[False], [False], [False]],
            "truncated": [[False], [True], [False]],
        },
        "kwargs": {"discount_factor": 0.5, "lambda_coefficient": 0.5},
        "expected": {"advantages": [[1.4375], [1.75], [2.5]], "returns": [[1.9375], [2.75], [4.0]]},
    },
    {
        # γ = 0.9, λ = 0.5 (γλ = 0.45). env 0 terminates at t=1: deltas [1 + .9 - .5, 0 - 1, 2 + 2.7 - 0] =
        # [1.4, -1.0, 4.7]; A = [1.4 - .45, -1.0, 4.7]. env 1 truncates at t=1: deltas [0 + 0 - 1, 1 + 3.6 - 0,
        # 1 + .9 - 2] = [-1.0, 4.6, -0.1]; A = [-1 + .45·4.6, 4.6, -0.1]
        "id": "two_envs_termination_and_truncation",
        "inputs": {
            "rewards": [[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]],
            "values": [[0.5, 1.0], [1.0, 0.0], [0.0, 2.0]],
            "next_values": [[1.0, 0.0], [2.0, 4.0], [3.0, 1.0]],
            "terminated": [[False, False], [True, False], [False, False]],
            "truncated": [[False, False], [False, True], [False, False]],
        },
        "kwargs": {"discount_factor": 0.9, "lambda_coefficient": 0.5},
        "expected": {
            "advantages": [[0.95, 1.07], [-1.0, 4.6], [4.7, -0.1]],
            "returns": [[1.45, 2.07], [0.0, 4.6], [4.7, 1.9]],
        },
    },
    {
        # terminated and truncated together: no bootstrap, no chaining; the last step bootstraps 0.9·5
        "id": "terminated_and_truncated_together",
        "inputs": {
            "rewards": [[1.0], [1.0]],
            "values": [[0.0], [0.0]],
            "next_values": [[5.0], [5.0]],
            "terminated": [[True], [False]],
            "truncated": [[True], [False]],
        },
        "kwargs": {"discount_factor": 0.9, "lambda_coefficient": 0.5},
        "expected": {"advantages": [[1.0], [5.5]], "returns": [[1.0], [5.5]]},
    },
    {
        # a one-step rollout of two envs: A = δ = [1 + .5·2 - .5, 2 (terminated) - 0]
        "id": "one_step_rollout",
        "inputs": {
            "rewards": [[1.0, 2.0]],
            "values": [[0.5, 0.0]],
            "next_values": [[2.0, 3.0]],
            "terminated": [[False, True]],
            "truncated": [[False, False]],
        },
        "kwargs": {"discount_factor": 0.5, "lambda_coefficient": 0.5},
        "expected": {"advantages": [[1.5, 2.0]], "returns": [[2.0, 2.0]]},
    },
]

# ------------------------------------------------------------------------------------------------------ DDPG / TD3
# r + γ·(1 - terminated)·Q': [1 + .9·3, 2 (terminated), -1 + .9·(-2)]
BOOTSTRAPPED_TARGET_CASE: Case = {
    "inputs": {"rewards": [1.0, 2.0, -1.0], "terminated": [False, True, False], "next_q_values": [3.0, 5.0, -2.0]},
    "kwargs": {"discount_factor": 0.9},
    "expected": [3.7, 2.0, -2.8],
}
# one critic: mean((1-0)², (3-1)²) = 2.5; two critics: (2.5 + mean(0², 1²)) / 2 = 1.5
CRITIC_LOSS_CASE: Case = {
    "q_values": [[1.0, 3.0], [0.0, 0.0]],
    "target": [0.0, 1.0],
    "expected_one": 2.5,
    "expected_two": 1.5,
    "grad_two": [[0.5, 1.0], [0.0, -0.5]],  # d/dq_i of (MSE_1 + MSE_2)/2 = (q - y)/2 per element, per critic
}
DETERMINISTIC_POLICY_LOSS_CASE: Case = {"q_values": [1.0, -3.0, 5.0], "expected": -1.0}
# target policy smoothing, per-dimension bounds low = [-1, -0.5], high = [1, 2]: a + clip(noise, ±0.5) =
# [[0.5 + 0.5, -0.9 - 0.3], [1.9 - 0.1, 0.0 + 0.5]] = [[1.0, -1.2], [1.8, 0.5]], then clamped per dimension
SMOOTHING_CASE: Case = {
    "inputs": {"target_actions": [[0.5, -0.9], [1.9, 0.0]], "noise": [[0.7, -0.3], [-0.1, 0.6]]},
    "noise_clip": 0.5,
    "low": [-1.0, -0.5],
    "high": [1.0, 2.0],
    "expected_bounded": [[1.0, -0.5], [1.0, 0.5]],
    "expected_unbounded": [[1.0, -1.2], [1.8, 0.5]],
}
# min over the critics per row: [min(2, 3, 1.5), min(1, -4, 0), min(4, 1, 2)] = [1.5, -4, 1];
# r + .5·(1 - term)·min = [0.5 + 0.75, 1.0 (terminated), 0 + 0.5]. Critics 1 and 2 only: min = [2, -4, 1]
CLIPPED_DOUBLE_Q_CASE: Case = {
    "inputs": {"rewards": [0.5, 1.0, 0.0], "terminated": [False, True, False]},
    "next_q_values": [[2.0, 1.0, 4.0], [3.0, -4.0, 1.0], [1.5, 0.0, 2.0]],
    "kwargs": {"discount_factor": 0.5},
    "expected_two": [1.5, 1.0, 0.5],
    "expected_three": [1.25, 1.0, 0.5],
}

# ------------------------------------------------------------------------------------------------------ DQN / DDQN
# DQN: max_a Q'(s', a) = [4, 3, 9] -> [1 + 2, 0 + 1.5, 2 (terminated)];
# double DQN: a* = argmax online = [0, 1, 0], Q' there = [1, -1, 9] -> [1 + .5, 0 - .5, 2]
DQN_TARGET_CASE: Case = {
    "inputs": {
        "rewards": [1.0, 0.0, 2.0],
        "terminated": [False, False, True],
        "next_target_q": [[1.0, 4.0, 2.0], [0.0, -1.0, 3.0], [9.0, 9.0, 9.0]],
    },
    "next_online_q": [[5.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]],
    "kwargs": {"discount_factor": 0.5},
    "expected_dqn": [3.0, 1.5, 2.0],
    "expected_double": [1.5, -0.5, 2.0],
}
# Q(s, a) of the taken actions [3, 0]; mean((3 - 1)², (0 - 1)²) = 2.5; d/dQ = (Q - y) at the taken action only
DQN_LOSS_CASE: Case = {
    "q_values": [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]],
    "actions": [2, 0],
    "targets": [1.0, 1.0],
    "expected": 2.5,
    "grad": [[0.0, 0.0, 2.0], [-1.0, 0.0, 0.0]],
}

# ------------------------------------------------------------------------------------------------------ SAC
# min(Q1', Q2') - α·log π = [1 + .4, 3 - .4] = [1.4, 2.6]; r + .9·(1 - term)·that = [1 + 1.26, 0.5]
SAC_TARGET_CASE: Case = {
    "inputs": {
        "rewards": [1.0, 0.5],
        "terminated": [False, True],
        "next_q1": [2.0, 3.0],
        "next_q2": [1.0, 5.0],
        "next_log_prob": [-2.0, 2.0],
    },
    "kwargs": {"alpha": 0.2, "discount_factor": 0.9},
    "expected": [2.26, 0.5],
}
# (mean((1-1)², (2-1)²) + mean((0-1)², (3-1)²)) / 2 = (0.5 + 2.5) / 2
SAC_CRITIC_LOSS_CASE: Case = {
    "q1": [1.0, 2.0],
    "q2": [0.0, 3.0],
    "target": [1.0, 1.0],
    "expected": 1.5,
    "grad_q1": [0.0, 0.5],  # (q - y) / 2 (the ½ of the mean over the two critics times 2/B with B = 2)
    "grad_q2": [-0.5, 1.0],
}
# mean(α·log π - min(Q1, Q2)) = mean(-0.5 - 2, 0.25 + 1) = -0.625; the min picks Q1 on row 0, Q2 on row 1
SAC_POLICY_LOSS_CASE: Case = {
    "log_prob": [-1.0, 0.5],
    "q1": [2.0, 1.0],
    "q2": [3.0, -1.0],
    "alpha": 0.5,
    "expected": -0.625,
    "grad_log_prob": [0.25, 0.25],
    "grad_q1": [-0.5, 0.0],
    "grad_q2": [0.0, -0.5],
}
# -log α · mean(log π + H) = -0.3 · mean(-2, 1) = 0.15; d/d(log α) = -mean(log π + H) = 0.5 (> 0: the entropy
# -mean log π = -0.5 is above the target -1, so gradient descent lowers log α); no gradient reaches log π
SAC_ENTROPY_LOSS_CASE: Case = {
    "log_alpha": 0.3,
    "log_prob": [-1.0, 2.0],
    "target_entropy": -1.0,
    "expected": 0.15,
    "grad_log_alpha": 0.5,
}

# ------------------------------------------------------------------------------------------------------ TRPO
# surrogate mean(A·exp(log π - log π_old)) with ratios [2, 0.5] and A = [1, 4]: mean(2, 2) = 2
SURROGATE_CASE: Case = {
    "log_prob": [math.log(2.0) - 1.0, math.log(0.5) - 2.0],
    "old_log_prob": [-1.0, -2.0],
    "advantages": [1.0, 4.0],
    "expected": 2.0,
}
# KL(N(m1, s1) ‖ N(m2, s2)) = log(s2/s1) + (s1² + (m1 - m2)²)/(2 s2²) - 1/2, summed over the last axis (2
# dimensions), then averaged over the 3 rows: row 0: 0.5 + 0; row 1: 0 + (log 2 + 5/8 - 1/2);
# row 2: (log(1/2) + 4/2 - 1/2) + 0.5 = 2 - log 2. Mean (0.5 + log 2 + 0.125 + 2 - log 2) / 3 = 0.875
NORMAL_KL_CASE: Case = {
    "old_loc": [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
    "old_scale": [[1.0, 1.0], [1.0, 1.0], [2.0, 1.0]],
    "new_loc": [[1.0, 0.0], [1.0, 2.0], [0.0, 0.0]],
    "new_scale": [[1.0, 1.0], [1.0, 2.0], [1.0, 1.0]],
    "expected": 0.875,
}
# KL(p ‖ q) = Σ p log(p/q): row 0 0.5·log 2 + 0.5·log(2/3), row 1 0
CATEGORICAL_KL_CASE: Case = {
    "old_probs": [[0.5, 0.5], [0.25, 0.75]],
    "new_probs": [[0.25, 0.75], [0.25, 0.75]],
    "expected": (0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)) / 2,
}
# A = [[4, 1], [1, 3]], b = [1, 2]: x = A⁻¹b = [1/11, 7/11] (CG is exact in 2 steps); after one step
# x = (bᵀb / bᵀAb)·b = (5/20)·b = [0.25, 0.5]
CONJUGATE_GRADIENT_CASE: Case = {
    "matrix": [[4.0, 1.0], [1.0, 3.0]],
    "b": [1.0, 2.0],
    "expected": [1.0 / 11.0, 7.0 / 11.0],
    "expected_one_step": [0.25, 0.5],
}
# Backtracking line search: old objective 0, expected improvement 1 (unless the case says otherwise), max_kl 0.01,
# accept_ratio 0.5. Try i sets
# f = step_fraction·0.5^i and accepts when kl <= max_kl, improvement > 0 and improvement >= 0.5·f·1.
# "tries" are the (objective, kl) pairs the evaluation returns in order.
LINE_SEARCH_CASES: list[Case] = [
    {
        "id": "full_step_improves",
        "tries": [(0.8, 0.005)],
        "kwargs": {},
        "accepted": True,
        "fraction": 1.0,
        "evaluations": 1,
    },
    {
        "id": "kl_violated_then_half_step_at_the_bound",
        "tries": [(0.9, 0.02), (0.6, 0.01)],
        "kwargs": {},
        "accepted": True,
        "fraction": 0.5,
        "evaluations": 2,
    },
    # improvement 0.1 < 0.5·1; then 0 is no improvement; then 0.3 >= 0.5·0.25
    {
        "id": "too_little_then_none_then_enough",
        "tries": [(0.1, 0.0), (0.0, 0.0), (0.3, 0.001)],
        "kwargs": {},
        "accepted": True,
        "fraction": 0.25,
        "evaluations": 3,
    },
    {
        "id": "improvement_exactly_at_the_accept_ratio",
        "tries": [(0.5, 0.0)],
        "kwargs": {},
        "accepted": True,
        "fraction": 1.0,
        "evaluations": 1,
    },
    {
        "id": "non_finite_objective_is_rejected",
        "tries": [(math.nan, 0.0), (math.inf, 0.0), (0.2, 0.0)],
        "kwargs": {},
        "accepted": True,
        "fraction": 0.25,
        "evaluations": 3,
    },
    {
        "id": "non_finite_kl_is_rejected",
        "tries": [(0.9, math.nan), (0.9, -math.inf), (0.3, 0.0)],
        "kwargs": {},
        "accepted": True,
        "fraction": 0.25,
        "evaluations": 3,
    },
    # step_fraction 0.5 and accept_ratio 0.2: the first try is f = 0.5 and needs 0.1, the second f = 0.25 needs 0.05
    {
        "id": "step_fraction_and_accept_ratio",
        "tries": [(0.09, 0.0), (0.06, 0.0)],
        "kwargs": {"step_fraction": 0.5, "accept_ratio": 0.2},
        "accepted": True,
        "fraction": 0.25,
        "evaluations": 2,
    },
    {
        # a zero predicted improvement accepts any real improvement, but no improvement is never accepted
        "id": "no_predicted_improvement",
        "tries": [(0.0, 0.0), (0.1, 0.0)],
        "kwargs": {},
        "expected_improvement": 0.0,
        "accepted": True,
        "fraction": 0.5,
        "evaluations": 2,
    },
    {
        "id": "never_improves",
        "tries": [(-1.0, 0.0)] * 3,
        "kwargs": {"max_backtrack_steps": 3},
        "accepted": False,
        "fraction": 0.0,
        "evaluations": 3,
    },
    {
        "id": "always_too_far",
        "tries": [(5.0, 1.0)] * 4,
        "kwargs": {"max_backtrack_steps": 4},
        "accepted": False,
        "fraction": 0.0,
        "evaluations": 4,
    },
]

# ------------------------------------------------------------------------------------------------------ CEM
# -mean(log π) of the elite actions
CEM_LOSS_CASE: Case = {"log_prob": [-1.0, -3.0, -0.5], "expected": 1.5}
# one environment, γ = 0.5: episode 0 = steps 0-1 (1 + .5·2 = 2, terminated), episode 1 = steps 2-4
# (0 + .5·4 + .25·4 = 3, truncated), episode 2 = step 5 (an unfinished tail, return 8). Quantile 0.5 of [2, 3]
# is 2.5: only episode 1 is elite.
SELECT_ELITE_CASE: Case = {
    "inputs": {
        "env_ids": [0, 0, 0, 0, 0, 0],
        "rewards": [1.0, 2.0, 0.0, 4.0, 4.0, 8.0],
        "dones": [False, True, False, False, True, False],
        "cuts": [False] * 6,
    },
    "kwargs": {"discount_factor": 0.5, "percentile": 0.5},
    "expected": {
        "episode_ids": [0, 0, 1, 1, 1, 2],
        "returns": [2.0, 3.0, 8.0],
        "complete": [True, True, False],
        "threshold": 2.5,
        "elite": [False, True, False],
        "elite_steps": [False, False, True, True, True, False],
        "tail_steps": [False, False, False, False, False, True],
    },
}

# ------------------------------------------------------------------------------------------------------ tabular
# one shared table (1, 3, 2); Q[0] = [[0, 1], [2, -1], [5, 3]]
_TABLE = [[[0.0, 1.0], [2.0, -1.0], [5.0, 3.0]]]
# Q-learning: r + .5·max Q(s') = [1 + .5·2, 0 (terminated)]; SARSA: Q(s', a') = [-1, 5] -> [1 - .5, 0]
TABULAR_TARGET_CASE: Case = {
    "q_table": _TABLE,
    "inputs": {"rewards": [1.0, 0.0], "next_states": [1, 2], "terminated": [False, True]},
    "next_actions": [1, 0],
    "discount_factor": 0.5,
    "expected_q_learning": [2.0, 0.0],
    "expected_sarsa": [0.5, 0.0],
}
# Shared table, two environments hit entry (s=0, a=1) in one step: TD errors [3 - 1, 5 - 1] move it by
# α·mean(2, 4) = 1.5 (to 2.5); a third environment updates (s=1, a=0) by .5·(2 - 0) = 1.
TD_UPDATE_SHARED_CASE: Case = {
    "q_table": [[[0.0, 1.0], [0.0, 0.0]]],
    "rows": [0, 0, 0],
    "states": [0, 0, 1],
    "actions": [1, 1, 0],
    "targets": [3.0, 5.0, 2.0],
    "learning_rate": 0.5,
    "expected_td_errors": [2.0, 4.0, 2.0],
    "expected_table": [[[0.0, 2.5], [1.0, 0.0]]],
}
# Two environments on one entry of a shared table: 1 + .5·mean(3 - 1, 5 - 1) = 2.5
TD_UPDATE_SHARED_PAIR_CASE: Case = {
    "q_table": [[[1.0]]],
    "rows": [0, 0],
    "states": [0, 0],
    "actions": [0, 0],
    "targets": [3.0, 5.0],
    "learning_rate": 0.5,
    "expected_td_errors": [2.0, 4.0],
    "expected_table": [[[2.5]]],
}
# One table per environment: each moves by α·(target - Q) on its own table: 1 + .1·1, 3 + .1·(-2)
TD_UPDATE_PER_ENV_CASE: Case = {
    "q_table": [[[0.0, 1.0]], [[0.0, 3.0]]],
    "rows": [0, 1],
    "states": [0, 0],
    "actions": [1, 1],
    "targets": [2.0, 1.0],
    "learning_rate": 0.1,
    "expected_td_errors": [1.0, -2.0],
    "expected_table": [[[0.0, 1.1]], [[0.0, 2.8]]],
}
