"""The switches toward the official RAVL code (issue 22 item 1): each checked against a hand computation."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch", reason="the deep backend needs PyTorch: pip install theory_rl[deep]")

from theory_rl.deep import SAC, SACConfig, TrainConfig, train_2d  # noqa: E402
from theory_rl.deep import train as train_module  # noqa: E402

TINY_SAC = dict(hidden=8, n_layers=1, batch_size=6)
TINY = TrainConfig(
    n_epochs=2, rollouts_per_epoch=4, updates_per_epoch=2, k=3, eval_episodes=4, sac=SACConfig(**TINY_SAC)
)


class QuadraticCritics(torch.nn.Module):
    """Two critics ``Q_i(s, a) = 0.5 ||a - c_i||^2 + s_0``: ``grad_a Q_i = a - c_i``, known by hand."""

    def __init__(self):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor([[0.5, -0.2], [-0.3, 0.4]]))
        self.n = 2

    def forward(self, obs, act):
        if act.dim() == 2:
            act = act.unsqueeze(0).expand(2, -1, -1)
        return 0.5 * ((act - self.c[:, None, :]) ** 2).sum(-1) + obs[..., 0]


def _agent(seed=0, **cfg):
    kw = {**TINY_SAC, **cfg}
    return SAC(2, 2, SACConfig(**kw), generator=torch.Generator().manual_seed(seed), device="cpu")


def _hand_cosines(act, c):
    """cos(a - c_1, a - c_2) per row, in plain Python floats."""
    out = []
    for a in act.tolist():
        g1 = [a[0] - float(c[0, 0]), a[1] - float(c[0, 1])]
        g2 = [a[0] - float(c[1, 0]), a[1] - float(c[1, 1])]
        dot = g1[0] * g2[0] + g1[1] * g2[1]
        out.append(dot / (math.hypot(*g1) * math.hypot(*g2)))
    return out


@pytest.mark.parametrize("norm, denom", [("n_minus_1", 1), ("pairs", 2)])
def test_edac_term_matches_a_hand_computation_on_two_critics(norm, denom):
    agent = _agent(n_critics=2, eta=1.0, edac_norm=norm)
    agent.critic = QuadraticCritics()
    obs = torch.tensor([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]])
    act = torch.tensor([[0.9, 0.1], [-0.7, 0.8], [0.2, -0.9]])
    cos = _hand_cosines(act, agent.critic.c.detach())
    # N = 2: the off-diagonal sum is 2 cos; EDAC divides it by N - 1 = 1, "pairs" by N (N - 1) = 2
    expected = sum(2 * c / denom for c in cos) / len(cos)
    assert agent._diversity(obs, act).item() == pytest.approx(expected, abs=1e-6)


def test_edac_term_on_policy_actions_uses_a_fresh_policy_sample():
    agent = _agent(n_critics=2, eta=1.0, edac_actions="policy", lr=1e-9)
    agent.critic = QuadraticCritics()
    agent.critic_opt = torch.optim.SGD(agent.critic.parameters(), lr=0.0)
    obs = torch.tensor([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]])
    batch_act = torch.tensor([[0.9, 0.1], [-0.7, 0.8], [0.2, -0.9]])
    y = torch.zeros(3)
    state = agent.generator.get_state()
    loss, q = agent._critic_step(obs, batch_act, y)
    agent.generator.set_state(state)
    pol_act = agent.act(obs)
    td = float(((q - y) ** 2).mean(dim=1).sum())
    c = agent.critic.c.detach()
    on_policy = sum(2 * x for x in _hand_cosines(pol_act, c)) / 3
    on_batch = sum(2 * x for x in _hand_cosines(batch_act, c)) / 3
    assert loss.item() == pytest.approx(td + on_policy, abs=1e-5)
    assert abs(on_policy - on_batch) > 1e-3  # the two inputs give different terms here


@pytest.mark.parametrize("entropy", [True, False])
def test_critic_target_with_and_without_entropy(entropy):
    agent = _agent(n_critics=3, gamma=0.9, entropy_in_target=entropy)
    g = torch.Generator().manual_seed(5)
    rew, next_obs = torch.rand(6, generator=g), torch.randn(6, 2, generator=g)
    alpha = torch.tensor(0.7)
    state = agent.generator.get_state()
    y = agent.critic_target(rew, next_obs, alpha)
    agent.generator.set_state(state)
    with torch.no_grad():
        a2, logp = agent.actor(next_obs, generator=agent.generator)
        qs = agent.target(next_obs, a2)
    for b in range(6):
        v = min(float(qs[i, b]) for i in range(3)) - (0.7 * float(logp[b]) if entropy else 0.0)
        assert float(y[b]) == pytest.approx(float(rew[b]) + 0.9 * v, abs=1e-5)
    assert float(logp.abs().min()) > 1e-3  # the entropy term is not zero here, so the two cases differ


def test_critic_target_min_over_a_random_subset_of_target_critics():
    agent = _agent(n_critics=6, target_critics=2)
    next_obs, rew = torch.randn(64, 2, generator=torch.Generator().manual_seed(1)), torch.zeros(64)
    state = agent.generator.get_state()
    y = agent.critic_target(rew, next_obs, torch.tensor(0.0))
    agent.generator.set_state(state)
    with torch.no_grad():
        a2, _ = agent.actor(next_obs, generator=agent.generator)
        qs = agent.target(next_obs, a2)
    pick = torch.randperm(6, generator=agent.generator)[:2]
    torch.testing.assert_close(y, agent.config.gamma * qs[pick].min(dim=0).values)
    assert bool((y >= agent.config.gamma * qs.min(dim=0).values - 1e-6).all())
    assert bool((y > agent.config.gamma * qs.min(dim=0).values + 1e-6).any())  # weaker than the min over all


def _one_update(order, act, rew, next_obs):
    agent = _agent(seed=7, n_critics=2, update_order=order)
    # plain SGD on the actor: Adam's first step moves each weight by +-lr whatever the gradient's size
    agent.actor_opt = torch.optim.SGD(agent.actor.parameters(), lr=0.1)
    obs = torch.randn(6, 2, generator=torch.Generator().manual_seed(2))
    alpha0 = agent.log_alpha.exp().item()
    out = agent.update(obs, act, rew, next_obs)
    return agent, out, alpha0


def test_official_order_updates_the_actor_on_the_critic_before_its_step():
    g = torch.Generator().manual_seed(3)
    batches = [(torch.rand(6, 2, generator=g), torch.rand(6, generator=g), torch.randn(6, 2, generator=g))]
    batches.append((-batches[0][0], 5 + batches[0][1], 3 * batches[0][2]))  # same states, other transitions
    for order, same in (("alpha_actor_critic", True), ("critic_actor_alpha", False)):
        agents = [_one_update(order, *b) for b in batches]
        actor_params = [torch.cat([p.flatten() for p in a.actor.parameters()]) for a, _, _ in agents]
        # officially the actor sees only the states and the pre-step critic; ours sees the updated critic
        assert torch.equal(actor_params[0], actor_params[1]) == same
        agent, out, alpha0 = agents[0]
        # the reported alpha is the one used by actor and critic: updated first officially, the old one in ours
        assert (out["alpha"] != alpha0) == same
        assert out["alpha"] == pytest.approx(agent.log_alpha.exp().item() if same else alpha0)


def test_fixed_alpha_and_separate_learning_rates():
    agent = _agent(auto_alpha=False, init_log_alpha=math.log(0.2), actor_lr=1e-3, critic_lr=2e-3, alpha_lr=5e-4)
    assert [agent.actor_opt.param_groups[0]["lr"], agent.critic_opt.param_groups[0]["lr"]] == [1e-3, 2e-3]
    assert agent.alpha_opt.param_groups[0]["lr"] == 5e-4
    g = torch.Generator().manual_seed(0)
    batch = torch.randn(6, 2, generator=g), torch.rand(6, 2, generator=g), torch.rand(6, generator=g)
    for _ in range(3):
        out = agent.update(batch[0], batch[1], batch[2], batch[0])
    assert out["alpha"] == pytest.approx(0.2) and agent.log_alpha.item() == pytest.approx(math.log(0.2))
    learned = _agent(init_log_alpha=math.log(0.2))
    learned.update(batch[0], batch[1], batch[2], batch[0])
    assert learned.log_alpha.item() != pytest.approx(math.log(0.2))


def test_edac_initialisation():
    edac, default = _agent(init="edac", n_critics=3, hidden=16), _agent(init="default", n_critics=3, hidden=16)
    for agent, small in ((edac, True), (default, False)):
        linears = [m for m in agent.critic.mlp.net if hasattr(m, "weight")]
        assert (float(linears[-1].weight.detach().abs().max()) <= 3e-3) == small
        assert bool((linears[0].bias == 0.1).all()) == small
        heads = [m for m in agent.actor.mlp.net if hasattr(m, "weight")][-1]
        head_max = max(float(heads.weight.detach().abs().max()), float(heads.bias.detach().abs().max()))
        assert (head_max <= 1e-3) == small
    obs = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    q = edac.q_values(obs, edac.act(obs))
    assert float(q.abs().max()) < 0.05  # about 0 at the start: output weights 3e-3 on 16 units of O(1)


def test_real_fraction_and_dataset_rollout_starts(monkeypatch):
    batches, starts = [], []
    update, rollouts = SAC.update, train_module.mbpo_rollouts

    def recording_update(self, obs, act, rew, next_obs, **kw):
        batches.append((obs.clone(), act.clone(), next_obs.clone(), self.config))
        return update(self, obs, act, rew, next_obs, **kw)

    def recording_rollouts(policy_fn, step_fn, start_obs, k):
        starts.append(start_obs.clone())
        return rollouts(policy_fn, step_fn, start_obs, k)

    monkeypatch.setattr(SAC, "update", recording_update)
    monkeypatch.setattr(train_module, "mbpo_rollouts", recording_rollouts)
    cfg = replace(TINY, real_fraction=0.5, n_real=3, rollout_start="dataset", ravl_critics=3, ravl_eta=0.5)
    train_2d("ravl", seed=0, config=cfg, device="cpu")
    obs, act, next_obs, sac_cfg = batches[0]
    assert (sac_cfg.n_critics, sac_cfg.eta) == (3, 0.5)
    real = slice(0, 3)  # round(0.5 * 6) real rows first
    assert float(obs[real].abs().max()) <= 2.0 and float(act[real].abs().max()) <= 1.0
    torch.testing.assert_close(next_obs[real], obs[real] + act[real])
    assert len(torch.unique(torch.cat(starts), dim=0)) <= 3  # every rollout starts at one of the 3 dataset states
    starts.clear()
    train_2d("ravl", seed=0, config=TINY, device="cpu")
    assert len(torch.unique(torch.cat(starts), dim=0)) == 2 * TINY.rollouts_per_epoch  # fresh initial draws


def test_diagnostics_and_bad_switches():
    out = train_2d("base", seed=1, config=TINY, device="cpu")
    assert out["leaves_start"] == (out["final_distance"] > 3.0)
    assert out["buffer_reward_mean"] >= 0 and len(out["alpha"]) == TINY.n_epochs
    for bad in (
        dict(update_order="official"),
        dict(edac_norm="mean"),
        dict(edac_actions="random"),
        dict(init="xavier"),
        dict(target_critics=1),
        dict(target_critics=3),
        dict(actor_lr=0.0),
        dict(auto_alpha=1),
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SACConfig(**bad)
    for bad in (dict(real_fraction=1.0), dict(rollout_start="uniform"), dict(ravl_critics=1)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig(**bad)


def test_grid_cells_rows_table_and_figure():
    from experiments import edge_of_reach as eor
    from theory_rl.plotting import new_figure  # noqa: F401  (matplotlib present)

    configs = eor.grid_configs(quick=True)
    assert all(c["panel"] == "grid" and c["_seeds"] == 1 for c in configs)
    full = eor.grid_configs(quick=False)
    assert len({c["cell"] for c in full}) == len(full) and all(c["_seeds"] == 3 for c in full)
    # each one-switch cell changes exactly one thing from "ravl today", except the combined official cell
    for c in full:
        if c["factor"] == "one switch" and c["cell"] != "all official switches":
            assert len(c["sac"]) + len(c["train"]) == 1
    records = [{"config": c, "seed_index": 0, "metrics": eor.cell(c, 11)} for c in configs[:2]] + [
        {"config": configs[1], "seed_index": 1, "metrics": eor.cell(configs[1], 12)}
    ]
    rows = eor.grid_rows(records)
    assert [r["cell"] for r in rows] == [configs[0]["cell"], configs[1]["cell"]]
    two = [r["metrics"]["final_return"] for r in records[1:]]
    assert rows[1]["seeds"] == 2 and rows[1]["return_mean"] == pytest.approx(sum(two) / 2)
    assert rows[1]["return_min"] == min(two) and rows[1]["return_max"] == max(two)
    assert rows[1]["leaves_start"] == sum(r["metrics"]["leaves_start"] for r in records[1:])
    assert rows[1]["penalty_edge_mean"] > 0  # ten critics disagree at the edge
    table = eor.grid_table(rows).splitlines()
    assert len(table) == 4 and table[3].startswith(f"| {configs[1]['cell']} | ")
    fitted = eor.summarize_grid(records)
    assert fitted[f"{configs[1]['cell']}.leaves_start"] == f"{rows[1]['leaves_start']}/2"
    fig = eor.plot_grid(records, fitted)["eor_ravl_grid"]
    assert len(fig.axes[0].patches) == 2


# --- the GPU scale study's hooks: a per-epoch callback and the per-epoch rollout reward --------------------------


def test_callback_sees_every_epoch_and_can_stop_training(monkeypatch):
    cfg = replace(TINY, n_epochs=4)
    plain = train_2d("ravl", seed=2, config=cfg, device="cpu")
    seen = []
    watched = train_2d("ravl", seed=2, config=cfg, device="cpu",
                       callback=lambda e, c: seen.append((e, len(c["returns"]), len(c["rollout_reward"]))))
    assert watched == plain  # a callback that never stops draws nothing: bit for bit the same run
    assert seen == [(e, e + 1, e + 1) for e in range(4)]
    short = train_2d("ravl", seed=2, config=cfg, device="cpu", callback=lambda e, c: e == 1)
    assert len(short["returns"]) == len(short["alpha"]) == 2  # stopped after the second epoch
    assert short["returns"] == plain["returns"][:2] and short["q_mean"] == plain["q_mean"][:2]
    with pytest.raises(ValueError, match="callback is 3, expected None or a callable"):  # at once, not after an epoch
        train_2d("ravl", seed=2, config=cfg, device="cpu", callback=3)


def test_rollout_reward_is_the_mean_reward_of_each_epochs_new_rollouts(monkeypatch):
    rollouts, means = train_module.mbpo_rollouts, []

    def recording_rollouts(policy_fn, step_fn, start_obs, k):
        roll = rollouts(policy_fn, step_fn, start_obs, k)
        means.append(float(roll["rew"].double().mean()))
        return roll

    monkeypatch.setattr(train_module, "mbpo_rollouts", recording_rollouts)
    out = train_2d("base", seed=5, config=TINY, device="cpu")
    assert len(out["rollout_reward"]) == TINY.n_epochs
    assert out["rollout_reward"] == pytest.approx(means, rel=1e-5, abs=0)
    assert min(means) > 0  # rewards exp(-d^2/2) are positive everywhere: a zero curve would be a defect
