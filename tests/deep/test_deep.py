"""The PyTorch backend (optional extra ``deep``): determinism on CPU, the 2D environment's oracle, shapes."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_theory_rl_never_imports_torch():
    code = "import sys, theory_rl, theory_rl.algorithms.edge_of_reach; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_deep_without_torch_raises_a_clear_import_error():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "try:\n    import theory_rl.deep\nexcept ImportError as e:\n    print(e)\nelse:\n    raise SystemExit(1)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "pip install theory_rl[deep]" in out


torch = pytest.importorskip("torch", reason="the deep backend needs PyTorch: pip install theory_rl[deep]")

from theory_rl.deep import (  # noqa: E402
    SAC,
    GaussianDynamicsEnsemble,
    QEnsemble,
    SACConfig,
    Simple2DEnv,
    TrainConfig,
    mbpo_rollouts,
    train_2d,
)

TINY = TrainConfig(
    n_epochs=2,
    rollouts_per_epoch=4,
    updates_per_epoch=2,
    k=3,
    eval_episodes=4,
    sac=SACConfig(hidden=16, n_layers=1, batch_size=16),
)


@pytest.mark.parametrize("method", ["base", "oracle_patch", "ravl"])
def test_training_is_deterministic_on_cpu(method):
    a = train_2d(method, seed=3, config=TINY, device="cpu")
    b = train_2d(method, seed=3, config=TINY, device="cpu")
    assert a == b  # bit for bit: every float of every curve
    c = train_2d(method, seed=4, config=TINY, device="cpu")
    assert c["q_mean"] != a["q_mean"]


def test_final_policy_snapshot_is_the_deterministic_policy_on_the_reach_square():
    out = train_2d("base", seed=0, config=TINY, device="cpu")
    pts, act = torch.tensor(out["policy_grid"]["points"]), torch.tensor(out["policy_grid"]["actions"])
    assert pts.shape == act.shape == (169, 2)
    assert float(pts.abs().max()) == 2 + TINY.k  # the outer side of the edge-of-reach band
    assert float(act.abs().max()) <= 1.0
    assert len(out["penalty_edge"]) == 1024 and len(out["penalty_other"]) == TINY.rollouts_per_epoch * TINY.k * 2
    assert min(out["penalty_edge"] + out["penalty_other"]) >= 0.0  # stds over Base's two critics
    paths = torch.tensor(out["trajectories"])
    assert paths.shape == (TINY.eval_episodes, Simple2DEnv().horizon + 1, 2)
    assert float(paths[:, 0].abs().max()) <= 2.0  # they start in the initial square
    assert float((paths[:, 1:] - paths[:, :-1]).abs().max()) <= 1.0 + 1e-6  # steps of sup-norm <= 1


def test_deep_panels_plot_from_tiny_runs(tmp_path):
    from experiments import edge_of_reach
    from theory_rl.plotting import new_figure

    records = [
        {"config": {"panel": "deep", "method": m}, "seed_index": 0, "metrics": train_2d(m, seed=0, config=TINY)}
        for m in edge_of_reach.DEEP_METHODS
    ]
    fig = edge_of_reach.plot_deep(records, new_figure)["eor_deep_2d"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == [
        f"{edge_of_reach.DEEP_LABELS[m]}: return {r['metrics']['final_return']:.1f}"
        for m, r in zip(edge_of_reach.DEEP_METHODS, records, strict=True)
    ]
    assert len(fig.axes[3].get_lines()) == 4  # three return curves and the optimal level
    fig.savefig(tmp_path / "deep.png")
    assert (tmp_path / "deep.png").stat().st_size > 0


def test_env_oracle_matches_brute_force_rollout():
    env = Simple2DEnv()
    s = torch.tensor([[0.0, 0.0], [4.0, 8.0], [-1.5, 2.5]])
    v = env.optimal_value(s)
    # the greedy mover, simulated for 2000 steps, against the closed-form tail
    x, total, disc = s.clone(), torch.zeros(3, dtype=torch.float64), 1.0
    for _ in range(2000):
        total += disc * env.reward(x).double()
        x, _ = env.step(x, (env.goal - x).clamp(-1, 1))
        disc *= env.gamma
    torch.testing.assert_close(v.double(), total, rtol=1e-5, atol=1e-4)
    assert float(v[1]) == pytest.approx(1 / (1 - 0.99), rel=1e-5)
    band = env.sample_edge_of_reach(500, 10, generator=torch.Generator().manual_seed(0))
    r = band.abs().max(dim=1).values
    assert band.shape == (500, 2) and bool(((r > 11) & (r <= 12)).all())
    # edge of reach for k = 10 from [-2, 2]^2: the band 11 < |s|_inf <= 12
    pts = torch.tensor([[11.0, 0.0], [11.5, 3.0], [-12.0, 12.0], [12.5, 0.0]])
    assert env.is_edge_of_reach(pts, 10).tolist() == [False, True, True, False]


def test_edac_ensemble_and_dynamics_shapes():
    g = torch.Generator().manual_seed(0)
    q = QEnsemble(2, 2, 5, hidden=8, n_layers=2, generator=g)
    assert q(torch.zeros(7, 2), torch.zeros(7, 2)).shape == (5, 7)
    assert q(torch.zeros(7, 2), torch.zeros(5, 7, 2)).shape == (5, 7)
    agent = SAC(2, 2, SACConfig(hidden=8, n_layers=1, n_critics=4, eta=1.0, batch_size=8), generator=g, device="cpu")
    obs, act = torch.randn(8, 2, generator=g), torch.rand(8, 2, generator=g)
    es = agent._diversity(obs, act).detach()
    # oracle: each critic's action-gradient separately, sample by sample, pairs summed and divided by N - 1
    expected = 0.0
    for b in range(8):
        grads = []
        for i in range(4):
            a = act[b : b + 1].clone().requires_grad_(True)
            (gi,) = torch.autograd.grad(agent.critic(obs[b : b + 1], a)[i].sum(), a)
            grads.append(gi[0] / gi[0].norm())
        expected += sum(float(grads[i] @ grads[j]) for i in range(4) for j in range(4) if i != j) / 3 / 8
    assert es.item() == pytest.approx(expected, abs=1e-5)
    env = Simple2DEnv()
    roll = mbpo_rollouts(agent.act, env.step, env.sample_init(6, generator=g), 3)
    assert roll["obs"].shape == (18, 2) and roll["step"].max() == 2
    model = GaussianDynamicsEnsemble(2, 2, n=3, hidden=16, n_layers=2, generator=g)
    loss0 = model.fit(roll["obs"], roll["act"], roll["next_obs"], roll["rew"], n_steps=1, batch_size=8, generator=g)
    loss = model.fit(roll["obs"], roll["act"], roll["next_obs"], roll["rew"], n_steps=150, batch_size=8, generator=g)
    assert loss < loss0
    nxt, rew, dis = model.sample(roll["obs"], roll["act"], generator=g)
    assert nxt.shape == (18, 2) and rew.shape == (18,) and dis.shape == (18,)


def test_bad_inputs():
    with pytest.raises(ValueError, match="method is 'sac'"):
        train_2d("sac", seed=0, config=TINY)
    with pytest.raises(ValueError, match="n_critics"):
        SACConfig(n_critics=1, eta=1.0)
    with pytest.raises(ValueError, match="gamma"):
        Simple2DEnv(gamma=1.0)
    with pytest.raises(ValueError, match="TrainConfig.k is 0, expected an integer >= 1"):
        TrainConfig(k=0)
    with pytest.raises(ValueError, match="TrainConfig.n_epochs is float \\(2.5\\), expected an integer"):
        TrainConfig(n_epochs=2.5)
