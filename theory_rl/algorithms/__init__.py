"""The algorithms of the papers, one module (or small package) per paper family.

- :mod:`.lcb` -- Rashidinejad, Zhu, Ma, Jiao & Russell (2021): ``lcb_bandit`` (Alg. 1), ``lcb_contextual``
  (Alg. 2), ``vi_lcb`` (Alg. 3, discounted, data splitting), ``vi_lcb_episodic`` (finite horizon); Li, Shi, Chen,
  Chi & Wei (2024): ``bernstein_vi_lcb`` (Algs. 1-2); the baselines ``empirical_best`` (greedy), ``empirical_vi``
  and ``most_played`` (behaviour cloning).
- :mod:`.two_arm_exact` -- ``exact_suboptimality``: the exact expected sub-optimality of the bandit rules on two
  arms (Rashidinejad et al. 2021, Prop. 2 and Thm 1).
- :mod:`.linear` -- ``pevi`` (Jin, Yang & Wang 2021, Alg. 2) and ``lsvi_ucb`` (Jin, Yang, Wang & Jordan 2020,
  Alg. 1) on linear MDPs.
- :mod:`.linear_samples` -- the same two on samples with lazy Q (``pevi_samples``, ``lsvi_ucb_samples``): cost and
  memory independent of S, for factored linear MDPs of millions of states (issue 15).
- :mod:`.design` -- ``g_optimal_design`` (Kiefer & Wolfowitz 1960; Fedorov-Wynn Frank-Wolfe) and
  ``reachable_design`` (OptCov of Wagenmaker & Jamieson 2022 / Wagenmaker & Pacchiano 2023).
- :mod:`.ftpedel` -- ``pedel`` (Wagenmaker & Jamieson 2022, Alg. 1) and ``ftpedel`` (Wagenmaker & Pacchiano 2023).
- :mod:`.glow` -- Amortila, Foster, Jiang, Sekhari & Xie (2024): ``glow`` (Alg. 1), ``h2o`` (Alg. 2, the
  hybrid-to-offline reduction: HyGLOW, Hy-Q), the offline plug-ins ``mabo_cr``, ``fqi`` and ``model_mle``.
- :mod:`.edge_of_reach` -- Sims, Lu, Foerster & Teh (2024): ``reach_sets`` (Definition 1), ``truncated_fqi``
  (Base, OraclePatch, the RAVL analogue), ``boundary_value_q`` (Proposition 1), ``linear_fqi``.
- :mod:`.robust_offline` -- tabular IQL (Kostrikov, Nair & Levine 2022) and RIQL (Yang et al. 2023): ``iql``,
  ``riql`` and their exact per-pair operators ``expectile``, ``huber_location``, ``ensemble_quantile``.
- :mod:`.model_uncertainty` -- Lu et al. (2022): ``uncertainty_heuristics`` (max aleatoric, pairwise, ensemble
  std/var, MOPO, LOO-KL), ``model_errors`` (exact TV / KL / value-aware), ``weighted_spearman``,
  ``rollout_distribution``.
- :mod:`.guided_augmentation` -- Corrado et al. (2024): ``augment`` (random or progress-guided translations on
  the torus gridworld), ``expert_fraction``, ``data_concentrability``.
- :mod:`.constrained_mdp` -- ``constrained_optimum``: the exact optimum of a discounted constrained MDP by the
  occupancy-measure LP (Altman 1999), the realism benchmark's reference on its safety-constrained tasks.
- :mod:`.preference` -- Kang et al. (2023, OPPO), tabular: ``trajectory_features``, ``bradley_terry_reward``,
  ``preference_conditioned_imitation`` (OPPO-lite).
- :mod:`.sim2real` -- Niu, Sharma, Qiu, Li, Zhou, Hu & Zhan (2022): ``dynamics_aware_h2o`` (H2O, "When to
  Trust Your Simulator"; not the ``glow.h2o`` reduction of Amortila et al.), the baselines ``sim_only``,
  ``naive_mixing`` and ``darc`` (Eysenbach et al. 2021) on one Bellman core, the exact gap measures, and
  ``h2o_onpolicy_sim`` (the sim buffer filled on-policy).
- :mod:`.hybrid_pg` -- Zhou, Sekhari, Song & Sun (2023): ``hac`` (HAC / HNPG, Alg. 1, and on-policy NPG), ``hpe``
  (hybrid policy evaluation, Alg. 2), ``softmax_npg_update``, ``hnpg`` (Alg. 3, log-linear actor); ``hy_q``
  (Song et al. 2023; tabular or linear class) and its ``count_fqi``.
- :mod:`.reptile` -- Chaudhary, Mondal & Behera (2025), MOORL: ``reptile`` (the meta update over offline and online
  buffers) on quadratic losses and its closed form ``reptile_fixed_point``.
- :mod:`.o2o` -- offline-to-online fine-tuning: ``finetune`` (the harness: offline phase, WSRL's warm-up, online
  Q-learning with offline fraction / UTD / target rate; Zhou et al. 2025), WSRL's linear-TD stability oracle,
  FamO2O's state-adaptive balance (Wang et al. 2023), Uni-O4's clipped LP step and bounds (Lei et al. 2024), RO2O's
  ensemble LCB (Wen et al. 2023).

Every learner returns a :class:`theory_rl.results.Result` (policy, V, Q, method, constants) and every iterative
one an :class:`theory_rl.results.IterativeResult` with its certificate. Submodules are imported on first use, so
``import theory_rl.algorithms`` stays cheap.
"""

from __future__ import annotations

import importlib

#: The algorithm modules, each with the papers it implements (see the table above).
MODULES = {
    "lcb": "Rashidinejad et al. (2021); Li et al. (2024)",
    "two_arm_exact": "Rashidinejad et al. (2021), Prop. 2 and Thm 1 (exact two-arm computation)",
    "linear": "Jin, Yang & Wang (2021); Jin, Yang, Wang & Jordan (2020)",
    "linear_samples": "Jin, Yang & Wang (2021); Jin, Yang, Wang & Jordan (2020) (sample level, S-free; issue 15)",
    "design": "Kiefer & Wolfowitz (1960); Wagenmaker & Jamieson (2022); Wagenmaker & Pacchiano (2023)",
    "ftpedel": "Wagenmaker & Jamieson (2022); Wagenmaker & Pacchiano (2023)",
    "glow": "Amortila, Foster, Jiang, Sekhari & Xie (2024)",
    "edge_of_reach": "Sims, Lu, Foerster & Teh (2024)",
    "robust_offline": "Kostrikov, Nair & Levine (2022); Yang et al. (2023) (IQL / RIQL, tabular)",
    "model_uncertainty": "Lu, Ball, Parker-Holder, Osborne & Roberts (2022) (heuristics vs the exact model error)",
    "guided_augmentation": "Corrado, Qu, Balis, Labiosa & Hanna (2024) (GuDA, tabular)",
    "constrained_mdp": "Altman (1999) (the occupancy LP of a constrained MDP: issue 18's safety reference)",
    "preference": "Kang, Shi, Liu, He & Wang (2023) (OPPO's question: Bradley-Terry reward vs conditioned imitation)",
    "sim2real": "Niu, Sharma, Qiu, Li, Zhou, Hu & Zhan (2022); Eysenbach et al. (2021)",
    "hybrid_pg": "Zhou, Sekhari, Song & Sun (2023); Song et al. (2023)",
    "reptile": "Chaudhary, Mondal & Behera (2025), MOORL",
    "o2o": "Zhou et al. (2025, WSRL); Wang et al. (2023, FamO2O); Lei et al. (2024, Uni-O4); Wen et al. (RO2O); "
           "analogues of Lu et al. (2025, UI-S1) and Guan et al. (2025, RED)",
}

__all__ = list(MODULES)


def __getattr__(name: str):
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
