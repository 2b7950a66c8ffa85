"""Offline-to-online fine-tuning on tabular MDPs: one harness, FamO2O's balance family (digest WP-C).

- :mod:`.harness` -- :func:`finetune`: offline phase (any offline algorithm of the toolkit), optional warm-up of
  the frozen offline policy (Zhou et al. 2025, WSRL), online tabular Q-learning (greedy, optimistic or pessimistic
  target) with the buffer's offline fraction, the update-to-data ratio and the target-update rate as knobs;
  exact per-round metrics; with ``features=phi`` a linear critic (expected semi-gradient TD, one-hot = tabular).
- :mod:`.metrics` -- :func:`td_error`, :func:`initial_dip`, :func:`steps_to_threshold`.
- :mod:`.linear_td` -- WSRL's stability oracle: the expected linear TD matrix on a buffer distribution, its
  spectrum and the on-policy margin ``1 - sqrt(gamma)`` (:func:`expected_td`, :func:`td_stability`,
  :func:`td_fixed_point`).
- :mod:`.uni_o4` -- Lei et al. (ICLR 2024), Uni-O4: the clipped on-policy step as an LP per state, one-step
  (BPPO) / multi-step / OPE-gated multi-step improvement, the performance-difference lemma and TRPO's bound.
- :mod:`.ro2o` -- Wen et al. (2023), RO2O's uncertainty half: a bootstrap ensemble LCB (mean - 4 std), used
  offline and online by the harness (``offline="ensemble_lcb"``, ``online="ensemble_lcb"``); the smoothness half
  has no tabular analogue.
- :mod:`.famo2o` -- Wang et al. (NeurIPS 2023), FamO2O: the advantage-weighted policy family in closed form,
  the state-adaptive balance by exact value iteration over the balance choice, and FamO2O's greedy balance rule.
- :mod:`.ui_s1` -- ANALOGUE of Lu et al. (2025), UI-S1: expert-patched (semi-online) rollouts in a deterministic
  MDP; the SOP proxy and the true online success, exactly.
- :mod:`.red` -- ANALOGUE of Guan et al. (2025), RED: a softmax contextual bandit; exact RL (recall) and SFT
  (extend) gradient steps, their mixture and an accuracy-based switch.
"""

from theory_rl.algorithms.o2o.famo2o import (
    PAPER_BETAS,
    BalanceResult,
    awr_family,
    balance_mdp,
    balance_policy,
    behaviour_policy,
    fixed_balance_returns,
    greedy_balance,
    state_adaptive_balance,
)
from theory_rl.algorithms.o2o.harness import OFFLINE, ONLINE, FinetuneResult, finetune, offline_phase
from theory_rl.algorithms.o2o.linear_td import expected_td, td_fixed_point, td_stability
from theory_rl.algorithms.o2o.metrics import initial_dip, steps_to_threshold, td_error
from theory_rl.algorithms.o2o.red import (
    MODES,
    RecallExtendResult,
    bandit_metrics,
    recall_extend,
    rl_gradient,
    sft_gradient,
    softmax,
)
from theory_rl.algorithms.o2o.ro2o import (
    RO2O_K,
    RO2O_MEMBERS,
    bootstrap_models,
    ensemble_lcb,
    expected_min_coefficient,
)
from theory_rl.algorithms.o2o.ui_s1 import expert_path, online_success, semi_online_performance
from theory_rl.algorithms.o2o.uni_o4 import (
    OFFLINE_CLIP,
    ONLINE_CLIP,
    VARIANTS,
    ImprovementResult,
    clipped_surrogate,
    cpi_lower_bound,
    multi_step_improvement,
    performance_difference,
    ppo_clip_step,
)

__all__ = [
    "OFFLINE",
    "ONLINE",
    "FinetuneResult",
    "finetune",
    "offline_phase",
    "initial_dip",
    "steps_to_threshold",
    "td_error",
    "PAPER_BETAS",
    "BalanceResult",
    "awr_family",
    "balance_mdp",
    "balance_policy",
    "behaviour_policy",
    "fixed_balance_returns",
    "greedy_balance",
    "state_adaptive_balance",
    "expected_td",
    "td_fixed_point",
    "td_stability",
    "OFFLINE_CLIP",
    "ONLINE_CLIP",
    "VARIANTS",
    "ImprovementResult",
    "clipped_surrogate",
    "cpi_lower_bound",
    "multi_step_improvement",
    "performance_difference",
    "ppo_clip_step",
    "RO2O_K",
    "RO2O_MEMBERS",
    "bootstrap_models",
    "ensemble_lcb",
    "expected_min_coefficient",
    "expert_path",
    "semi_online_performance",
    "online_success",
    "MODES",
    "RecallExtendResult",
    "softmax",
    "bandit_metrics",
    "rl_gradient",
    "sft_gradient",
    "recall_extend",
]
