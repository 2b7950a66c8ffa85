"""Reward ranges and finite-horizon discounting (issue 15, item 5): the exact maps onto the [0, 1], undiscounted
problems that the bounds and algorithms assume.

A :class:`~theory_rl.mdp.TabularMDP` may carry rewards on any bounded range ``reward_range = (r_min, r_max)`` and,
with a finite horizon, a discount ``gamma`` (``V_h = R_h + gamma P_h V_{h+1}``). Planning and evaluation handle both
natively. What assumes [0, 1] rewards (penalties sized by ``H`` or ``1/(1 - gamma)``, value clipping, the theorem
bounds) goes through the affine :class:`RewardMap`

    r_unit = (r - r_min) / (r_max - r_min),        r = r_min + (r_max - r_min) r_unit,

which keeps the optimal policies (a positive affine map of every reward orders the returns alike) and maps values
back exactly: ``V = w V_unit + r_min / (1 - gamma)`` (discounted) and ``V_h = w V_unit_h + r_min sum_{t=h}^{H-1}
gamma^(t-h)`` (finite horizon), ``w = r_max - r_min``; the same for Q-values. :func:`unit_rewards` gives the mapped
MDP; :func:`undiscounted_stages` the undiscounted finite-horizon MDP with stage rewards ``gamma^h R_h`` (values
``gamma^h V_h``, the same optimal policies). Functions that do neither refuse through ``require_unit_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._ranges import UNIT
from theory_rl._validation import check_instance, check_real
from theory_rl.mdp import TabularMDP

# require_unit_scale, scale_meta, scale_meta_of, dataset_gamma and check_sampleable are the plumbing of the samplers
# and algorithms (public names, not in __all__).
__all__ = ["RewardMap", "unit_rewards", "undiscounted_stages"]



@dataclass(frozen=True)
class RewardMap:
    """The affine map ``r -> (r - low) / (high - low)`` of a model's rewards onto [0, 1].

    Parameters
    ----------
    low, high : float
        The reward range ``[low, high]`` mapped to ``[0, 1]`` (finite, ``low < high``). The identity map is
        ``RewardMap(0.0, 1.0)``; ``RewardMap(*mdp.reward_range)`` is an MDP's own.

    Examples
    --------
    >>> m = RewardMap(-10.0, 20.0)
    >>> float(m.to_unit(-1.0)), float(m.from_unit(0.3))
    (0.3, -1.0)
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = check_real(self.low, "low")
        high = check_real(self.high, "high")
        if not high > low:
            raise ValueError(f"high is {high!r}, expected a value above low = {low!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def scale(self) -> float:
        """The slope ``high - low``."""
        return self.high - self.low

    @property
    def is_identity(self) -> bool:
        """True when the map leaves rewards unchanged (``low = 0``, ``high = 1``)."""
        return self.low == 0.0 and self.high == 1.0

    def to_unit(self, r):
        """Rewards in model units mapped into [0, 1] (for rewards inside ``[low, high]``)."""
        return (np.asarray(r, dtype=np.float64) - self.low) / self.scale

    def from_unit(self, r_unit):
        """Rewards in [0, 1] mapped back to model units."""
        return self.low + self.scale * np.asarray(r_unit, dtype=np.float64)

    def values(self, V, mdp, stage_discount: float | None = None) -> np.ndarray:
        """Values (or Q-values) of the mapped ``mdp`` in the model's units.

        ``mdp`` is a :class:`~theory_rl.mdp.TabularMDP` or anything with its ``gamma`` and ``horizon`` (a dataset:
        its ``horizon``, and ``meta["discount"]`` for a discounted finite horizon).
        ``V`` has shape ``(S,)`` / ``(S, A)`` for a discounted MDP and ``(H, S)`` / ``(H, S, A)`` for a
        finite-horizon one (the first axis is the step ``h``), as :mod:`theory_rl.planning` returns them. A
        finite-horizon ``mdp`` with a discount ``g`` gives ``(high - low) V_h + low (1 - g^(H-h)) / (1 - g)``.
        ``stage_discount = g`` instead says that ``mdp`` is the undiscounted stage-reward form of a problem
        discounted by ``g`` (rewards ``g^h`` times the unit rewards, :func:`undiscounted_stages`): the values are
        then ``(high - low) V_h / g^h + low (1 - g^(H-h)) / (1 - g)``.
        """
        if not (hasattr(mdp, "gamma") and hasattr(mdp, "horizon")):
            raise ValueError(f"mdp is a {type(mdp).__name__}, expected a TabularMDP or a dataset (gamma, horizon)")
        V = np.asarray(V, dtype=np.float64)
        H = mdp.horizon
        gamma = mdp.gamma if H is None or isinstance(mdp, TabularMDP) else scale_meta_of(mdp).get("discount")
        if H is None:
            if stage_discount is not None:
                raise ValueError("stage_discount applies to finite-horizon MDPs only; this one is discounted")
            return self.scale * V + self.low / (1.0 - gamma)
        if V.ndim < 1 or V.shape[0] != H:
            raise ValueError(f"V has shape {V.shape}, expected the step axis first (horizon {H})")
        if stage_discount is not None and gamma is not None:
            raise ValueError(f"stage_discount is {stage_discount!r}, but mdp is discounted itself (gamma "
                             f"{gamma!r}): give one discount")  # fmt: skip
        shape = (-1,) + (1,) * (V.ndim - 1)
        remaining = (H - np.arange(H)).reshape(shape)  # rewards still to come at step h
        g = gamma if stage_discount is None else check_real(stage_discount, "stage_discount", low=0.0, high=1.0,
                                                              closed="right")
        if g is None or g == 1.0:
            return self.scale * V + self.low * remaining
        tail = self.low * (1.0 - g**remaining) / (1.0 - g)
        if stage_discount is None:
            return self.scale * V + tail
        return self.scale * V / g ** np.arange(H).reshape(shape) + tail


def unit_rewards(mdp: TabularMDP) -> tuple[TabularMDP, RewardMap]:
    """``mdp`` with its rewards mapped onto [0, 1] by its own :class:`RewardMap`, and the map.

    The same transitions, initial distribution, discount and horizon; mean rewards ``(R - r_min) / w`` with
    ``w = r_max - r_min``; Gaussian reward noise scaled to ``reward_std / w``, so that a sampled reward ``r`` of
    ``mdp`` and ``(r - r_min) / w`` have the same law. Bernoulli rewards are Bernoulli in the mapped MDP: on a range
    other than [0, 1] the samplers refuse them (``check_sampleable``). Optimal policies are the same;
    ``map.values(V_unit, mapped)`` gives ``mdp``'s values exactly (to rounding). The identity map returns ``mdp``.

    Examples
    --------
    >>> import numpy as np
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), [[-1.0, 3.0]], [1.0], gamma=0.5, reward_range=(-1, 3))
    >>> unit, m = unit_rewards(mdp)
    >>> unit.R.tolist(), unit.reward_range, (m.low, m.high)
    ([[0.0, 1.0]], (0.0, 1.0), (-1.0, 3.0))
    """
    mdp = check_instance(mdp, "mdp", TabularMDP)
    m = RewardMap(*mdp.reward_range)
    if m.is_identity:
        return mdp, m
    R = np.clip(m.to_unit(mdp.R), 0.0, 1.0)  # clips rounding only: R lies in the range
    return mdp.replace(R=R, reward_std=mdp.reward_std / m.scale, reward_range=UNIT), m


def undiscounted_stages(mdp: TabularMDP) -> TabularMDP:
    """The undiscounted finite-horizon MDP with stage rewards ``gamma^h R_h`` of a discounted finite-horizon one.

    Its values at step ``h`` are ``gamma^h`` times ``mdp``'s (``sum_{t >= h} gamma^t r_t = gamma^h sum_{t >= h}
    gamma^(t-h) r_t``), so its optimal policies are ``mdp``'s: the form in which algorithms and bounds written for
    undiscounted horizons see a discounted one. Its reward range is ``(min(r_min, 0), max(r_max, 0))``, which holds
    every ``gamma^h r``; the reward noise is kept (means match; sampled laws scale only for Gaussian/deterministic).
    An undiscounted ``mdp`` is returned as is. Refused where ``gamma^(H-1)`` underflows (below 1e-200) or is 0
    (``gamma = 0``, ``H > 1``): the late stage rewards vanish, and with them the equivalence of the policies.

    Examples
    --------
    >>> import numpy as np
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), [[1.0]], [1.0], gamma=0.5, horizon=3)
    >>> undiscounted_stages(mdp).R[:, 0, 0].tolist()
    [1.0, 0.5, 0.25]
    """
    mdp = check_instance(mdp, "mdp", TabularMDP, episodic=True)
    g, H = mdp.gamma, mdp.horizon
    if g is None:
        return mdp
    if H > 1 and g ** (H - 1) < 1e-200:
        raise ValueError(f"mdp.gamma is {g!r} with horizon {H}: gamma^(H-1) = {g ** (H - 1):.3g} underflows the "
                         "stage rewards gamma^h R (the native form has no such limit); use a shorter horizon or a "
                         "larger discount")  # fmt: skip
    R = (g ** np.arange(H))[:, None, None] * mdp.stage_R
    lo, hi = mdp.reward_range
    return mdp.replace(R=R, gamma=None, reward_range=(min(lo, 0.0), max(hi, 0.0)))


def scale_meta(mdp) -> dict:
    """What a dataset sampled from ``mdp`` records of its scale in ``meta``: ``{"reward_range": [r_min, r_max]}``
    when the rewards are not on [0, 1] and ``{"discount": gamma}`` for a discounted finite horizon (a dataset
    itself is discounted or finite-horizon, never both); empty otherwise, and for models without these fields."""
    out = {}
    reward_range = getattr(mdp, "reward_range", UNIT)
    if tuple(reward_range) != UNIT:
        out["reward_range"] = [float(reward_range[0]), float(reward_range[1])]
    if getattr(mdp, "horizon", None) is not None and getattr(mdp, "gamma", None) is not None:
        out["discount"] = float(mdp.gamma)
    return out


def require_unit_scale(obj, what: str):
    """``obj`` (an MDP or a dataset) if its rewards are on [0, 1] and it is not a discounted finite horizon, else a
    ValueError saying that ``what`` assumes both and how to map the problem.

    An MDP states its scale in ``reward_range`` and ``gamma`` (with ``horizon``); a dataset in ``meta``
    (:func:`scale_meta`, written by the samplers)."""
    scale = scale_meta(obj) if isinstance(obj, TabularMDP) else scale_meta_of(obj)
    reward_range = scale.get("reward_range")
    if reward_range is not None and tuple(float(x) for x in reward_range) != UNIT:
        raise ValueError(f"{what} assumes rewards in [0, 1], but the rewards lie in {list(reward_range)}: map them "
                         "first (theory_rl.scales.unit_rewards for an MDP, "
                         "theory_rl.algorithms.reward_scale.on_unit_rewards for an offline algorithm's data)")
    if scale.get("discount") is not None:
        raise ValueError(f"{what} assumes an undiscounted finite horizon, but the problem is discounted (gamma "
                         f"{scale['discount']!r}): use theory_rl.scales.undiscounted_stages (the same optimal "
                         "policies), or a discounted model")  # fmt: skip
    return obj


def dataset_gamma(mdp) -> float | None:
    """The ``gamma`` a dataset sampled from ``mdp`` records: the discount of a discounted MDP, None for a finite
    horizon (whose discount, if any, goes to ``meta["discount"]``, :func:`scale_meta`). Not in ``__all__`` (the
    samplers' plumbing)."""
    return getattr(mdp, "gamma", None) if getattr(mdp, "horizon", None) is None else None


def check_sampleable(mdp) -> None:
    """Refuse to sample Bernoulli rewards of an MDP whose ``reward_range`` is not [0, 1]: a Bernoulli reward lies in
    {0, 1}, so its law does not fit another range (``"gaussian"`` and ``"deterministic"`` rewards, with mean ``R``,
    fit any). Not in ``__all__`` (called by the samplers' model tables and count draws)."""
    reward_range = tuple(getattr(mdp, "reward_range", UNIT))
    if getattr(mdp, "reward_noise", None) == "bernoulli" and reward_range != UNIT:
        raise ValueError(f"mdp has Bernoulli rewards (values in {{0, 1}}) but reward_range {reward_range}: Bernoulli "
                         "draws need rewards in [0, 1]. Give reward_noise='gaussian' or 'deterministic', or sample "
                         "theory_rl.scales.unit_rewards(mdp) and map the rewards back with its RewardMap")  # fmt: skip


def scale_meta_of(data) -> dict:
    """The scale entries (``reward_range``, ``discount``) of a dataset's ``meta`` (empty when it has none); read
    without computing a lazy entry. Not in ``__all__``."""
    meta = getattr(data, "meta", None)
    if not isinstance(meta, dict):
        return {}
    return {key: meta.get(key) for key in ("reward_range", "discount") if dict.__contains__(meta, key)}
