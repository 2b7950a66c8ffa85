"""UI-S1 and RED analogues (issue 19): SOP and the online success against enumeration of action sequences, the
exact SOP facts, and the RL / SFT gradients against finite differences with the recall-versus-extend claim."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.algorithms.o2o import (
    bandit_metrics,
    expert_path,
    online_success,
    recall_extend,
    rl_gradient,
    semi_online_performance,
    sft_gradient,
    softmax,
)


def _instance(seed, S=5, A=3, H=4):
    rng = np.random.default_rng(seed)
    nxt = rng.integers(S, size=(S, A))
    pi = rng.dirichlet(np.ones(A) * 0.7, size=S)
    expert = rng.integers(A, size=S)
    return rng, nxt, pi, expert, H


def _sop_enumerated(nxt, pi, path, budget, actions=None):
    """Every action sequence along the path, its probability and the patched rollout's outcome."""
    H = len(path) - 1
    A = nxt.shape[1]
    success = progress = 0.0
    for seq in itertools.product(range(A), repeat=H):
        p = np.prod([pi[path[t], a] for t, a in enumerate(seq)])
        misses, steps = 0, 0
        for t, a in enumerate(seq):
            steps += 1
            ok = (a == actions[t]) if actions is not None else nxt[path[t], a] == path[t + 1]
            misses += not ok
            if misses > budget:
                break
        success += p * (misses <= budget)
        progress += p * steps / H
    return success, progress


def _online_dp_free(nxt, pi, start, goal, H):
    """Sum over trajectories by recursion (no matrices): P(reach goal within H)."""
    def rec(s, h):
        if s == goal:
            return 1.0
        if h == 0:
            return 0.0
        return sum(pi[s, a] * rec(nxt[s, a], h - 1) for a in range(nxt.shape[1]))
    return rec(start, H)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), budget=st.integers(0, 3), by_action=st.booleans())
def test_sop_against_enumeration(seed, budget, by_action):
    _, nxt, pi, expert, H = _instance(seed)
    path = expert_path(nxt, expert, 0, H)
    acts = expert[path[:-1]]
    out = semi_online_performance(nxt, pi, path, acts, budget=budget, match="action" if by_action else "effect")
    succ, prog = _sop_enumerated(nxt, pi, path, budget, acts if by_action else None)
    assert out["success"] == pytest.approx(succ, abs=1e-12)
    assert out["progress"] == pytest.approx(prog, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_online_success_and_the_exact_sop_facts(seed):
    _, nxt, pi, expert, H = _instance(seed)
    path = expert_path(nxt, expert, 0, H)
    goal = int(path[-1])
    J = online_success(nxt, pi, 0, goal, H)
    assert J == pytest.approx(_online_dp_free(nxt, pi, 0, goal, H), abs=1e-12)
    first = int(np.argmax(path == goal))  # the expert may pass the goal earlier; cut the path there
    if first == 0:
        return
    sub = path[: first + 1]
    sop0 = semi_online_performance(nxt, pi, sub, budget=0)
    assert sop0["success"] == pytest.approx(np.prod(sop0["match_prob"]), abs=1e-14)
    assert sop0["success"] <= J + 1e-12  # the expert path is one way to reach the goal
    assert 1 - sop0["success"] <= first * (1 - sop0["step_accuracy"]) + 1e-12  # union bound
    sop_all = semi_online_performance(nxt, pi, sub, budget=first)
    assert sop_all["success"] == pytest.approx(1.0) and sop_all["progress"] == pytest.approx(1.0)


def test_patching_can_overrate_a_policy():
    """A chain with a trap: the expert goes right; action 1 falls into an absorbing trap. A policy that errs once
    is rescued by one patch (SOP success 1 with budget 1) but fails online; budget 0 is the faithful lower bound."""
    nxt = np.array([[1, 3], [2, 3], [2, 2], [3, 3]])  # state 2 goal, state 3 trap
    pi = np.array([[0.5, 0.5], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    path = expert_path(nxt, np.zeros(4, int), 0, 2)
    assert path.tolist() == [0, 1, 2]
    assert semi_online_performance(nxt, pi, path, budget=1)["success"] == 1.0
    assert semi_online_performance(nxt, pi, path, budget=0)["success"] == 0.5
    assert online_success(nxt, pi, 0, 2, 2) == 0.5


def test_ui_s1_bad_input():
    nxt = np.array([[1, 0], [1, 1]])
    pi = np.full((2, 2), 0.5)
    with pytest.raises(ValueError, match="path"):
        semi_online_performance(nxt, pi, np.array([1, 0, 1]))  # 1 -> 0 unreachable
    with pytest.raises(ValueError, match="actions"):
        semi_online_performance(nxt, pi, np.array([0, 1]), match="action")
    with pytest.raises(ValueError, match="policy"):
        online_success(nxt, np.ones((2, 2)), 0, 1, 3)
    with pytest.raises(ValueError, match="goal"):
        online_success(nxt, pi, 0, 5, 3)
    with pytest.raises(ValueError, match="next_state"):
        expert_path(np.array([[0.5, 1.0]]), np.zeros(1, int), 0, 2)


# ------------------------------------------------------------------------------------------------- RED analogue
def _objectives(rng, X=3, A=4):
    theta = rng.normal(size=(X, A))
    r = rng.random((X, A))
    q = rng.dirichlet(np.ones(A), size=X)
    rho = rng.dirichlet(np.ones(X))
    return theta, r, q, rho


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_gradients_against_finite_differences(seed):
    theta, r, q, rho = _objectives(np.random.default_rng(seed))
    J = lambda th: bandit_metrics(th, r, rho)["pass@1"]  # noqa: E731
    L = lambda th: float(rho @ np.sum(q * np.log(softmax(th)), axis=1))  # noqa: E731
    h = 1e-6
    for f, g in ((J, rl_gradient(theta, r, rho)), (L, sft_gradient(theta, q, rho))):
        num = np.zeros_like(theta)
        for idx in np.ndindex(theta.shape):
            e = np.zeros_like(theta)
            e[idx] = h
            num[idx] = (f(theta + e) - f(theta - e)) / (2 * h)
        np.testing.assert_allclose(g, num, atol=1e-7)


def _recall_instance():
    """Two prompts. Prompt 0: the correct arm 3 has student mass ~1e-5 (outside the support), the teacher puts
    all its mass there. Prompt 1: two correct arms inside the support (RL can sharpen)."""
    theta = np.log(np.array([[0.5, 0.3, 0.2 - 1e-5, 1e-5], [0.4, 0.3, 0.2, 0.1]]))
    r = np.array([[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]])
    q = np.array([[0.0, 0.0, 0.0, 1.0], [0.5, 0.0, 0.0, 0.5]])
    return theta, r, q, np.array([0.5, 0.5])


def test_rl_recalls_and_sft_extends():
    theta, r, q, rho = _recall_instance()
    rl = recall_extend(theta, r, q, rho, mode="rl", lr=2.0, n_steps=200)
    sft = recall_extend(theta, r, q, rho, mode="sft", lr=2.0, n_steps=200)
    sw = recall_extend(theta, r, q, rho, mode="switch", lr=2.0, n_steps=200, accuracy_threshold=0.5)
    # RL: prompt 0 stays unsolved (the gradient on arm 3 is ~ its 1e-5 mass); prompt 1 sharpens (entropy falls)
    p_rl = softmax(rl.logits)
    assert p_rl[0, 3] < 1e-3 and p_rl[1, [0, 3]].sum() > 0.95
    assert rl.outside_support[-1] < 1e-3 and rl.entropy[-1] < rl.entropy[0]
    # SFT: the teacher's arm gains the mass ("extend")
    assert softmax(sft.logits)[0, 3] > 0.9 and sft.outside_support[-1] > 0.4
    # the switch imitates on prompt 0 only, then both prompts are solved
    assert sw.pass1[-1] > max(rl.pass1[-1], 0.9) and 0 < sw.sft_fraction[0] < 1


def test_red_bad_input():
    theta, r, q, rho = _recall_instance()
    with pytest.raises(ValueError, match="rewards"):
        rl_gradient(theta, r * 2, rho)
    with pytest.raises(ValueError, match="teacher"):
        sft_gradient(theta, q * 2, rho)
    with pytest.raises(ValueError, match="mode"):
        recall_extend(theta, r, q, rho, mode="dpo")
    with pytest.raises(ValueError, match="support"):
        bandit_metrics(theta, r, rho, support=np.ones((2, 4)))
