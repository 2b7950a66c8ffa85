"""Issue 14, item 3 (third pass on ``theory_rl/coverage/``): tests written against the mutants that the complete run
on the current code left alive after ``test_coverage_mutation.py`` and ``test_coverage_mutation2.py``. A closed-form
coefficient ``C(T) = K / T`` is substituted for the solver (as in ``test_coverage_mutation2.py``), so every
comparison with one is exact."""

import math

from theory_rl.coverage import o2o as o2o_module
from theory_rl.generators.linear import hybrid_family


def test_minimal_online_episodes_never_exceeds_t_max(monkeypatch):
    """``T_max`` caps the search: when it suffices (``C(T_max) <= 1``) the answer lies in ``(0, T_max]``, however
    coarse ``rtol`` is. Threshold K = 1.3 with T_max = 1.5 and rtol = 0.5: the bracket [1, 1.5] already meets the
    tolerance, so the answer is T_max itself (a search that starts above T_max can return more)."""
    lin = hybrid_family(0.1, r_safe=0.3)

    def fake(lmdp, offline, eps, T, *, h=None, **kwargs):
        return math.inf if T == 0 else 1.3 / T

    monkeypatch.setattr(o2o_module, "o2o_coefficient", fake)
    for T_max, rtol in ((1.5, 0.5), (1.5, 0.01), (3.0, 2.0)):
        T = o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=T_max, rtol=rtol)
        assert 1.3 <= T <= T_max
        assert 1.3 / T <= 1.0 < 1.3 / (T / (1 + rtol))
    assert o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=1.5, rtol=0.5) == 1.5
