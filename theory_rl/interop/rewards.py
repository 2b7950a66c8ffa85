"""Rewards outside [0, 1], mapped in and back: :class:`RewardMap`, and the record of an imported model.

:class:`~theory_rl.mdp.TabularMDP` holds mean rewards in [0, 1], as the bounds it serves assume. Models from other
libraries (Gymnasium's Taxi pays -10..20, QuantEcon's problems any real) are imported through one affine map,
stated and returned, never applied silently:

    r_unit = (r - low) / (high - low),        r = low + (high - low) r_unit.

Every reward of the model, the absorbing state's 0 included, goes through the same map, so the optimal policies
are unchanged (an affine map with a positive slope of every reward preserves the order of the returns) and the
values map back exactly: for a discounted MDP ``V = (high - low) V_unit + low / (1 - gamma)``; at step ``h`` of a
finite-horizon one ``V_h = (high - low) V_unit_h + low (H - h)`` (``H - h`` rewards are still to come). The same
holds for Q-values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory_rl._validation import check_instance, check_int, check_mapping, check_real, check_str
from theory_rl.mdp import TabularMDP

__all__ = ["RewardMap", "ImportedMDP"]


@dataclass(frozen=True)
class RewardMap:
    """The affine map ``r -> (r - low) / (high - low)`` of a model's rewards onto [0, 1].

    Parameters
    ----------
    low, high : float
        The reward range ``[low, high]`` mapped to ``[0, 1]`` (finite, ``low < high``). The identity map is
        ``RewardMap(0.0, 1.0)``.

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

    def values(self, V, mdp: TabularMDP, stage_discount: float | None = None) -> np.ndarray:
        """Values (or Q-values) of the mapped ``mdp`` in the model's units.

        ``V`` has shape ``(S,)`` / ``(S, A)`` for a discounted MDP and ``(H, S)`` / ``(H, S, A)`` for a
        finite-horizon one (the first axis is the step ``h``), as :mod:`theory_rl.planning` returns them.
        ``stage_discount = g`` says that ``mdp`` is the undiscounted stage-reward form of a finite-horizon problem
        discounted by ``g`` (its rewards at step ``h`` are ``g^h`` times the unit rewards, see
        ``discounted_stages``): the values are then ``(high - low) V_h / g^h + low (1 - g^(H-h)) / (1 - g)``.
        """
        mdp = check_instance(mdp, "mdp", TabularMDP)
        V = np.asarray(V, dtype=np.float64)
        if mdp.is_discounted:
            if stage_discount is not None:
                raise ValueError("stage_discount applies to finite-horizon MDPs only; this one is discounted")
            return self.scale * V + self.low / (1.0 - mdp.gamma)
        if V.ndim < 1 or V.shape[0] != mdp.horizon:
            raise ValueError(f"V has shape {V.shape}, expected the step axis first (horizon {mdp.horizon})")
        shape = (-1,) + (1,) * (V.ndim - 1)
        remaining = (mdp.horizon - np.arange(mdp.horizon)).reshape(shape)  # rewards still to come at step h
        if stage_discount is None or stage_discount == 1.0:
            return self.scale * V + self.low * remaining
        g = check_real(stage_discount, "stage_discount", low=0.0, high=1.0, closed="right")
        weight = g ** np.arange(mdp.horizon).reshape(shape)
        return self.scale * V / weight + self.low * (1.0 - g**remaining) / (1.0 - g)


def discounted_stages(R_unit: np.ndarray, discount: float, horizon: int) -> np.ndarray:
    """Stage rewards ``g^h R(s, a)``, shape ``(H, S, A)``: the undiscounted finite-horizon MDP with these rewards has
    values ``g^h`` times those of the ``g``-discounted one (``sum_{t >= h} g^t r_t = g^h sum_{t >= h} g^(t-h) r_t``),
    hence the same optimal policies; :meth:`RewardMap.values` divides ``g^h`` back out. Refused where ``g^(H-1)``
    would underflow (below 1e-200), which would lose the late steps' values."""
    if horizon > 1 and discount ** (horizon - 1) < 1e-200:
        raise ValueError(f"discount is {discount!r} with horizon {horizon}: discount^(H-1) = "
                         f"{discount ** (horizon - 1):.3g} underflows the stage rewards g^h R; use a shorter horizon "
                         "or a larger discount")  # fmt: skip
    return (discount ** np.arange(horizon))[:, None, None] * R_unit[None]


def fit_reward_map(low: float, high: float, reward_range) -> RewardMap:
    """The map for rewards spanning ``[low, high]``: the identity when they lie in [0, 1], else ``[low, high]``
    itself (``[low, low + 1]`` when all rewards are equal); ``reward_range=(lo, hi)`` instead, if given, must
    contain every reward."""
    if reward_range is not None:
        try:
            lo, hi = reward_range
        except (TypeError, ValueError):
            raise ValueError(f"reward_range is {reward_range!r}, expected a pair (low, high)") from None
        lo, hi = check_real(lo, "reward_range[0]"), check_real(hi, "reward_range[1]")
        if not hi > lo:
            raise ValueError(f"reward_range is ({lo!r}, {hi!r}), expected low < high")
        if low < lo or high > hi:
            raise ValueError(f"reward_range is ({lo!r}, {hi!r}), but the rewards span [{low!r}, {high!r}]")
        return RewardMap(lo, hi)
    if low >= 0.0 and high <= 1.0:
        return RewardMap(0.0, 1.0)
    return RewardMap(low, high if high > low else low + 1.0)


@dataclass(frozen=True)
class ImportedMDP:
    """A model imported from another library: the MDP, the reward map it went through, and where it came from.

    Attributes
    ----------
    mdp : TabularMDP
        The model, rewards in [0, 1] (``reward_map.to_unit`` of the source's).
    reward_map : RewardMap
        How rewards were mapped; ``reward_map.values(V, mdp)`` gives values in the source's units.
    absorbing : int or None
        The absorbing state added for termination (Gymnasium), or None.
    stage_discount : float or None
        For a discounted finite-horizon source, its discount ``g``: ``mdp`` is then the undiscounted
        stage-reward form (rewards ``g^h R`` at step ``h``, same optimal policies), and ``values`` divides
        ``g^h`` back out.
    source : str
        A one-line description of the source.
    meta : dict
        Details of the conversion (sizes, the source's own settings).
    """

    mdp: TabularMDP
    reward_map: RewardMap
    absorbing: int | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)
    stage_discount: float | None = None

    def __post_init__(self) -> None:
        check_instance(self.mdp, "mdp", TabularMDP)
        check_instance(self.reward_map, "reward_map", RewardMap)
        if self.absorbing is not None:
            check_int(self.absorbing, "absorbing", low=0, high=self.mdp.S - 1)
        check_str(self.source, "source")
        check_mapping(self.meta, "meta")
        if self.stage_discount is not None:
            check_real(self.stage_discount, "stage_discount", low=0.0, high=1.0, closed="right")
            if not self.mdp.is_episodic:
                raise ValueError("stage_discount is given, but mdp is discounted: it applies to a finite horizon")

    def values(self, V) -> np.ndarray:
        """``V`` (or Q) of ``mdp`` in the source's reward units (and discounting)."""
        return self.reward_map.values(V, self.mdp, self.stage_discount)
