"""GLOW, H2O / HyGLOW and Hy-Q on finite classes (Amortila, Foster, Jiang, Sekhari, Xie 2024, "Harnessing
Density Ratios for Online Reinforcement Learning", ICLR 2024, arXiv 2401.09681).

- :mod:`.classes`: finite value classes ``F`` and weight (density-ratio) classes ``W``;
- :mod:`.statistics`: the vectorised confidence-set evaluation on the shared counts record
  (:class:`theory_rl.data.CountDataset`; ``SufficientStatistics`` is a deprecated alias of
  :class:`theory_rl.data.CountsBuilder`);
- :mod:`.online`: GLOW (Algorithm 1) with exact diagnostics (potential, clipping loss, ``Q*`` in ``F_t``, regret);
- :mod:`.offline`: MABO.CR, FQI and model-based MLE plug-ins;
- :mod:`.hybrid`: H2O (Algorithm 2): HyGLOW (+ MABO.CR), Hy-Q (+ FQI), + MLE, and the pure-offline baseline.
"""

from theory_rl.algorithms.glow.classes import (
    FiniteClasses,
    decoy_classes,
    finite_classes,
    greedy_actions,
    hybrid_ratio_class,
    model_based_classes,
    optimal_q,
    ratio_class,
)
from theory_rl.algorithms.glow.hybrid import PLUGINS, H2OResult, OfflineOnlyResult, h2o, offline_only
from theory_rl.algorithms.glow.offline import FQIResult, fqi, mabo_cr, mabo_cr_objective, model_mle
from theory_rl.algorithms.glow.online import GlowResult, clipping_loss, glow, glow_constants, potential
from theory_rl.algorithms.glow.statistics import (
    SufficientStatistics,
    confidence_set,
    glow_violations,
    residual_sums,
    weighted_moments,
)

__all__ = [
    "PLUGINS", "FQIResult", "FiniteClasses", "GlowResult", "H2OResult", "OfflineOnlyResult",
    "SufficientStatistics", "clipping_loss",
    "confidence_set", "decoy_classes", "finite_classes", "fqi", "glow", "glow_constants", "glow_violations",
    "greedy_actions", "h2o", "hybrid_ratio_class", "mabo_cr", "mabo_cr_objective", "model_based_classes", "model_mle",
    "offline_only", "optimal_q", "potential", "ratio_class", "residual_sums", "weighted_moments",
]
