"""Rewards outside [0, 1], mapped in and back: :class:`RewardMap`, and the record of an imported model.

:class:`~theory_rl.mdp.TabularMDP` can hold rewards on any range (``reward_range``), but the bounds and algorithms
assume [0, 1]; so models from other
libraries (Gymnasium's Taxi pays -10..20, QuantEcon's problems any real) are imported through one affine map,
stated and returned, never applied silently:

    r_unit = (r - low) / (high - low),        r = low + (high - low) r_unit.

Every reward of the model, the absorbing state's 0 included, goes through the same map, so the optimal policies
are unchanged (an affine map with a positive slope of every reward preserves the order of the returns) and the
values map back exactly: for a discounted MDP ``V = (high - low) V_unit + low / (1 - gamma)``; at step ``h`` of a
finite-horizon one ``V_h = (high - low) V_unit_h + low (H - h)`` (``H - h`` rewards are still to come). The same
holds for Q-values. :class:`~theory_rl.scales.RewardMap` itself lives in :mod:`theory_rl.scales` (issue 15, item
5: the one map of rewards onto [0, 1]) and is re-exported here. A finite horizon with a discount is imported in
native form (``TabularMDP(..., gamma=g, horizon=H)``); ``ImportedMDP.stage_discount`` stays for records built by hand
in the older stage-reward form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory_rl._validation import check_instance, check_int, check_mapping, check_real, check_str
from theory_rl.mdp import TabularMDP
from theory_rl.scales import RewardMap

__all__ = ["ImportedMDP"]  # and RewardMap, re-exported from theory_rl.scales (documented there)


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
    reward_map : theory_rl.scales.RewardMap
        How rewards were mapped; ``reward_map.values(V, mdp)`` gives values in the source's units.
    absorbing : int or None
        The absorbing state added for termination (Gymnasium), or None.
    stage_discount : float or None
        None from the importers (a discounted finite horizon is imported natively, ``mdp.gamma`` with
        ``mdp.horizon``). Given, ``mdp`` is the undiscounted stage-reward form of a problem discounted by ``g``
        (rewards ``g^h R`` at step ``h``, :func:`~theory_rl.scales.undiscounted_stages`), and ``values`` divides
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
