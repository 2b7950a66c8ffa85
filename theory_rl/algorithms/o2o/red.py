"""RED's recall-versus-extend, a contextual-bandit ANALOGUE: exact expected policy-gradient (RL) and SFT steps on a
softmax policy, with pass@k, entropy and the mass outside the student's initial support.

Guan, Wu, Zhao, Wang, Wu (2025), "Recall-Extend Dynamics: Enhancing Small Language Models through Controlled
Exploration and Refined Offline Integration", arXiv 2508.16677 [V: abstract]. RED combines offline SFT on a
teacher's (distilled) data with online RL with verifiable rewards: the SFT weight is set from the ratio of the
entropy changes on offline and online data, and a sample-accuracy-based switch chooses, per sample, between imitating
the offline data and learning from the policy's own samples. Analogue (digest WP-C; not the paper's LLM setting):

- prompts are contexts ``x ~ rho``, responses are arms; the student is ``pi = softmax(theta[x])``; the verifiable
  reward is ``r[x, a] in [0, 1]``; the teacher ``q[x]`` puts its mass on arms the student almost never samples;
- :func:`rl_gradient` -- the EXACT expected policy gradient of pass@1 ``J = sum_x rho(x) sum_a pi r``:
  ``rho(x) pi(a | x) (r(x, a) - V(x))``; an arm's logit moves in proportion to its own probability, so RL
  sharpens within the support ("recall");
- :func:`sft_gradient` -- the exact gradient of ``E_{x, a ~ q} log pi(a | x)``: ``rho(x) (q(a | x) - pi(a | x))``,
  which moves mass onto the teacher's arms whatever the student's probability ("extend");
- :func:`recall_extend` -- gradient ascent with ``mode`` ``"rl"``, ``"sft"``, ``"mixed"`` (RL + ``sft_weight``
  SFT) or ``"switch"`` (per context: SFT when the student's pass@1 at ``x`` is below ``accuracy_threshold``,
  RL otherwise -- the shape of RED's accuracy-based switch);
- :func:`bandit_metrics` -- pass@1, pass@k (``1 - (1 - p(x))^k``, independent samples), mean entropy and the
  mass outside a support set, exactly.

[U] RED's exact formulas (the entropy-ratio SFT weight, the switch's threshold) are not verified: ``sft_weight``
and ``accuracy_threshold`` are parameters, and the entropy-ratio rule is not implemented. The analogue reproduces
only the qualitative recall-versus-extend claim; token-level credit and sequence structure have no analogue here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import (
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_range,
    check_shape,
    validate_params,
)

__all__ = ["MODES", "RecallExtendResult", "softmax", "bandit_metrics", "rl_gradient", "sft_gradient", "recall_extend"]

#: ``rl`` (policy gradient on pass@1), ``sft`` (imitate the teacher), ``mixed`` (both), ``switch`` (per context).
MODES = ("rl", "sft", "mixed", "switch")


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of ``logits`` (shape ``(X, A)``), shifted by the row maximum for stability."""
    z = as_float_array(logits, "logits", ndim=2)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _args(logits, rewards, context_dist):
    theta = as_float_array(logits, "logits", ndim=2)
    r = as_float_array(rewards, "rewards", ndim=2)
    check_shape(r, "rewards", theta.shape)
    check_range(r, "rewards", 0.0, 1.0)
    rho = as_float_array(context_dist, "context_dist", shape=(theta.shape[0],))
    check_distributions(rho, "context_dist")
    return theta, r, rho


def _teacher(teacher, shape):
    q = as_float_array(teacher, "teacher", ndim=2)
    check_shape(q, "teacher", shape)
    check_distributions(q, "teacher")
    return q


def rl_gradient(logits, rewards, context_dist) -> np.ndarray:
    """The exact gradient of pass@1 ``J(theta) = sum_x rho(x) sum_a softmax(theta[x])_a r[x, a]``, shape ``(X, A)``
    (the expected REINFORCE update with the baseline ``V(x)``)."""
    theta, r, rho = _args(logits, rewards, context_dist)
    pi = softmax(theta)
    V = np.sum(pi * r, axis=1, keepdims=True)
    return rho[:, None] * pi * (r - V)


def sft_gradient(logits, teacher, context_dist) -> np.ndarray:
    """The exact gradient of the SFT objective ``sum_x rho(x) sum_a q[x, a] log softmax(theta[x])_a``."""
    theta = as_float_array(logits, "logits", ndim=2)
    q = _teacher(teacher, theta.shape)
    rho = as_float_array(context_dist, "context_dist", shape=(theta.shape[0],))
    check_distributions(rho, "context_dist")
    return rho[:, None] * (q - softmax(theta))


@validate_params(k=Integer(1, 1_000_000))
def bandit_metrics(logits, rewards, context_dist, support=None, *, k: int = 8) -> dict:
    """pass@1, pass@k, the mean entropy (nats, weighted by ``rho``) and, with a boolean ``support`` mask, the mass
    outside it (the "extension" mass)."""
    theta, r, rho = _args(logits, rewards, context_dist)
    pi = softmax(theta)
    p = np.sum(pi * r, axis=1)
    ent = -np.sum(pi * np.log(np.where(pi > 0, pi, 1.0)), axis=1)
    out = {"pass@1": float(rho @ p), f"pass@{k}": float(rho @ (1 - (1 - p) ** k)), "entropy": float(rho @ ent)}
    if support is not None:
        mask = np.asarray(support)
        if mask.dtype != bool or mask.shape != theta.shape:
            raise ValueError(f"support is a {mask.dtype} array of shape {mask.shape}, expected a bool mask of shape "
                             f"{theta.shape}")  # fmt: skip
        out["outside_support"] = float(rho @ np.sum(pi * ~mask, axis=1))
    return out


@dataclass(frozen=True)
class RecallExtendResult:
    """What :func:`recall_extend` returns: the final logits and the metrics after each step (step 0 the start).

    Attributes
    ----------
    logits : numpy.ndarray, shape (X, A)
    pass1, passk, entropy, outside_support : numpy.ndarray, shape (n_steps + 1,)
        ``outside_support``: the mass on arms where the INITIAL student had probability below ``support_tol``.
    sft_fraction : numpy.ndarray, shape (n_steps,)
        The ``rho``-weight of contexts that imitated at each step (1 for ``sft``, 0 for ``rl``).
    """

    logits: np.ndarray
    pass1: np.ndarray
    passk: np.ndarray
    entropy: np.ndarray
    outside_support: np.ndarray
    sft_fraction: np.ndarray


@validate_params(mode=Options(MODES), lr=Real(0.0, None, closed="neither"), n_steps=Integer(1, 1_000_000),
                 sft_weight=Real(0.0, None), accuracy_threshold=Real(0.0, 1.0), support_tol=Real(0.0, 1.0),
                 k=Integer(1, 1_000_000))  # fmt: skip
def recall_extend(logits, rewards, teacher, context_dist, *, mode: str = "rl", lr: float = 1.0,
                  n_steps: int = 100, sft_weight: float = 1.0, accuracy_threshold: float = 0.5,
                  support_tol: float = 1e-3, k: int = 8) -> RecallExtendResult:  # fmt: skip
    """Exact expected-gradient ascent on the softmax student (analogue of RED's RL / SFT mixture).

    Parameters
    ----------
    logits : array_like, shape (X, A)
        The initial student.
    rewards : array_like, shape (X, A), values in [0, 1]
    teacher : array_like, shape (X, A)
        The teacher's response distribution per context (rows sum to 1).
    context_dist : array_like, shape (X,)
    mode : {"rl", "sft", "mixed", "switch"}
    lr : float, default 1.0
    n_steps : int, default 100
    sft_weight : float, default 1.0
        The SFT term's weight for ``mixed`` [U: RED sets it from an entropy-change ratio; a parameter here].
    accuracy_threshold : float, default 0.5
        ``switch``: a context imitates while its pass@1 is below this [U: a parameter].
    support_tol : float, default 1e-3
    k : int, default 8
    """
    theta, r, rho = _args(logits, rewards, context_dist)
    q = _teacher(teacher, theta.shape)
    theta = theta.copy()
    support = softmax(theta) >= support_tol
    hist = [bandit_metrics(theta, r, rho, support, k=k)]
    frac = []
    for _ in range(n_steps):
        g_rl, g_sft = rl_gradient(theta, r, rho), sft_gradient(theta, q, rho)
        if mode == "rl":
            g, f = g_rl, 0.0
        elif mode == "sft":
            g, f = g_sft, 1.0
        elif mode == "mixed":
            g, f = g_rl + sft_weight * g_sft, 1.0
        else:
            imitate = np.sum(softmax(theta) * r, axis=1) < accuracy_threshold
            g, f = np.where(imitate[:, None], g_sft, g_rl), float(rho @ imitate)
        theta += lr * g
        hist.append(bandit_metrics(theta, r, rho, support, k=k))
        frac.append(f)
    col = {key: np.array([h[key] for h in hist]) for key in hist[0]}
    return RecallExtendResult(logits=theta, pass1=col["pass@1"], passk=col[f"pass@{k}"], entropy=col["entropy"],
                              outside_support=col["outside_support"], sft_fraction=np.array(frac))  # fmt: skip
