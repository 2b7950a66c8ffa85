"""Issue 22: the decoy layout of ``coverability_family`` (n decoys on s states) and its class coverability.

Oracle: :func:`theory_rl.coverage.coverability` (exact, by enumerating the class's greedy policies and their
occupancies) against the closed form ``DecoyInstance.c_cov_class``; and the knobs of the experiment's two
one-factor sweeps move only the intended factor of Thm 3.1's ``C_cov log(|F||W|)``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import glow_coverability
from theory_rl.algorithms.glow import decoy_classes, greedy_actions
from theory_rl.coverage import coverability
from theory_rl.generators.coverability import coverability_family
from theory_rl.planning import occupancy


def _class(inst, bonus=0.4):
    classes = decoy_classes(inst.mdp, inst.targets, bonus)
    return classes, list(greedy_actions(classes.F))


@settings(max_examples=25, deadline=None)
@given(k=st.integers(2, 5), extra=st.integers(1, 3), p=st.floats(0.01, 1.0), horizon=st.integers(2, 4),
       data=st.data())
def test_class_coverability_closed_form_matches_enumeration(k, extra, p, horizon, data):
    A = k + extra
    n = data.draw(st.integers(1, k * (A - 1)))
    s = data.draw(st.integers(max(1, -(-n // (A - 1))), min(n, k)))  # s states hold n decoys: s (A - 1) >= n
    inst = coverability_family(k, A, p, horizon=horizon, gap=0.2, n_decoys=n, decoy_states=s)
    _, policies = _class(inst)
    assert inst.c_cov_class == pytest.approx(coverability(inst.mdp, policies).value, rel=1e-12, abs=1e-12)
    assert inst.c_cov == pytest.approx(coverability(inst.mdp).value, rel=1e-12)  # all policies: A (1 + (k-1) p)
    assert inst.targets.shape == (n, horizon, k, A) and inst.targets.sum() == n
    assert len({tuple(np.argwhere(t)[0]) for t in inst.targets}) == n  # n distinct last-layer pairs


def _reach(inst, policies):
    """Occupancy of each decoy's target under the decoy's own greedy policy (decoys come first in F)."""
    return [occupancy(inst.mdp, policies[j])[tuple(np.argwhere(t)[0])] for j, t in enumerate(inst.targets)]


@pytest.mark.parametrize("quick", [True, False])
def test_each_sweep_moves_only_its_factor(quick):
    cfgs = glow_coverability.configs(quick)
    for kind, by in (("cov_alone", "s"), ("class_alone", "n")):
        rows = []
        for c in (c for c in cfgs if c["kind"] == kind and c["rep"] == 0):
            inst = coverability_family(c["k"], c["A"], c["p"], gap=glow_coverability.ALONE_GAP, n_decoys=c["n"],
                                       decoy_states=c["s"])
            classes, policies = _class(inst, 2 * glow_coverability.ALONE_GAP)
            exact = coverability(inst.mdp, policies).value
            assert exact == pytest.approx(inst.c_cov_class, rel=1e-12)
            rows.append((c[by], len(classes.F), len(np.unique(np.stack(policies), axis=0)), exact, inst.c_cov,
                         _reach(inst, policies)))
        assert len(rows) >= 2
        sizes, n_pol, covs, all_covs = ({r[i] for r in rows} for i in (1, 2, 3, 4))
        reaches = np.concatenate([r[5] for r in rows])
        assert len(all_covs) == 1  # the all-policy coverability never moves
        np.testing.assert_allclose(reaches, reaches[0], rtol=1e-12)  # every decoy is reached equally often
        if kind == "cov_alone":
            assert len(sizes) == 1 and len(n_pol) == 1 and len(covs) == len(rows)  # only C_cov(Pi) moves
        else:
            assert len(covs) == 1 and len(sizes) == len(rows)  # only |F| (and |W| with it) moves


def test_layout_rejects_impossible_requests():
    with pytest.raises(ValueError, match="decoy_states is 3"):
        coverability_family(4, 5, 0.5, n_decoys=2, decoy_states=3)
    with pytest.raises(ValueError, match="n_decoys is 9"):
        coverability_family(4, 5, 0.5, n_decoys=9, decoy_states=2)
    with pytest.raises(ValueError, match="decoy_states needs n_decoys"):
        coverability_family(4, 5, 0.5, decoy_states=2)
    with pytest.raises(ValueError, match="n_decoys"):
        coverability_family(4, 5, 0.5, n_decoys=0)
    default = coverability_family(3, 4, 0.5)
    assert default.c_cov_class is None and default.targets.shape[0] == 9  # the default layout is unchanged
