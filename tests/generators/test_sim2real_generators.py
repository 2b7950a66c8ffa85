"""The sim-to-real instance families (theory_rl.generators.sim2real): layout, gap and the optimal routes."""

from __future__ import annotations

import numpy as np
import pytest

from theory_rl import planning
from theory_rl.generators import garnet
from theory_rl.generators.sim2real import bridge_pairs, global_gap, sim_gap_gridworld


@pytest.mark.parametrize("region", [0, 1, 4])
def test_simulator_is_wrong_only_on_the_region(region):
    inst = sim_gap_gridworld(0.15, region=region)
    diff = np.abs(inst.real.P - inst.sim.P).sum(axis=(1, 2))
    assert set(np.flatnonzero(diff > 0)) == set(inst.region.tolist())
    assert len(inst.region) == region
    # On the wrong cells the trap probability is p_trap in reality and p_trap - gap in the simulator.
    for s in inst.region:
        np.testing.assert_allclose(inst.real.P[s, :, inst.trap], 0.2)
        np.testing.assert_allclose(inst.sim.P[s, :, inst.trap], 0.05)
    np.testing.assert_array_equal(inst.real.R, inst.sim.R)
    assert bridge_pairs(inst).sum() == 4 * len(inst.bridge)


def test_the_safe_route_is_optimal_in_reality_and_the_bridge_in_a_wrong_simulator():
    # Defaults: safe route 0.9^7 / 0.1 = 4.78 from the start against 0.9^5 0.8^4 / 0.1 = 2.42 for the bridge;
    # the simulator's bridge wins once (0.8 + gap)^4 > 0.81, i.e. gap > 0.1487.
    for gap, sim_takes_bridge in ((0.0, False), (0.1, False), (0.148, False), (0.15, True), (0.2, True)):
        inst = sim_gap_gridworld(gap)
        assert planning.optimal_return(inst.real) == pytest.approx(0.9**7 / 0.1)
        J_sim = planning.expected_return(inst.real, planning.solve(inst.sim).policy)
        assert (J_sim < planning.optimal_return(inst.real) - 1e-9) == sim_takes_bridge
        if sim_takes_bridge:
            assert J_sim == pytest.approx(0.9**5 * 0.8**4 / 0.1)


def test_global_gap_interpolates_and_refuses_bad_input():
    mdp = garnet(S=5, A=2, branching=2, gamma=0.9, seed=0)
    np.testing.assert_allclose(global_gap(mdp, 0.0, seed=1).P, mdp.P)
    a, b = global_gap(mdp, 0.3, seed=1), global_gap(mdp, 0.6, seed=1)
    np.testing.assert_allclose(b.P - mdp.P, 2 * (a.P - mdp.P), atol=1e-12)  # nested in lam for one seed
    with pytest.raises(ValueError, match="lam"):
        global_gap(mdp, 1.5, seed=1)
    with pytest.raises(ValueError, match="gap"):
        sim_gap_gridworld(0.3)  # gap > p_trap
    with pytest.raises(ValueError, match="region"):
        sim_gap_gridworld(0.1, region=5)
