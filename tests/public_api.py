"""The public API, enumerated, and one valid example call of every public callable.

Used by the common invalid-input test (test_invalid_input.py), in the style of scikit-learn's common tests: every
public function and class is found from its module's ``__all__`` (so a new one is covered as soon as it is
exported), and its parameters are filled by name from :data:`VALID`, with :data:`EXAMPLES` for calls that need
more than names can say. A callable with neither is reported by the completeness test.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import pkgutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

import theory_rl

#: Subpackages the common test does not enumerate: the optional PyTorch backend (its own tests) and the
#: Gymnasium wrapper (an optional extra; tested in test_envs).
SKIPPED_PACKAGES = ("theory_rl.deep", "theory_rl.envs", "theory_rl.__main__")


def _is_deprecated_module(mod) -> bool:
    """A module kept only as a deprecated alias of a renamed one: ``__deprecated_module__ = True``, or a docstring
    whose first line says so ("Deprecated ..." or a ``.. deprecated::`` directive)."""
    if getattr(mod, "__deprecated_module__", False):
        return True
    doc = (mod.__doc__ or "").strip()
    first = doc.splitlines()[0].lower() if doc else ""
    return first.startswith("deprecated") or ".. deprecated::" in doc


def public_modules() -> list:
    """Every public module of theory_rl (no component starting with an underscore, not deprecated), imported."""
    mods = [theory_rl]
    for info in pkgutil.walk_packages(theory_rl.__path__, "theory_rl."):
        name = info.name
        if name.startswith(SKIPPED_PACKAGES) or any(p.startswith("_") for p in name.split(".")[1:]):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            mod = importlib.import_module(name)
        if not _is_deprecated_module(mod) and all(mod is not m for m in mods):  # an alias in sys.modules: once
            mods.append(mod)
    return mods


def _is_deprecated_alias(obj) -> bool:
    return bool(getattr(obj, "__deprecated_alias__", False))


def public_names(mod) -> list[str]:
    """``mod.__all__``; a module without one contributes the public callables it defines itself (so a missing
    ``__all__`` hides nothing; test_every_public_module_has_all reports it)."""
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    return [n for n, o in vars(mod).items()
            if not n.startswith("_") and callable(o) and getattr(o, "__module__", "") == mod.__name__]


def _lookup(mod, name):
    """``getattr(mod, name)``, or None when the name is a deprecated alias (its access warns) or missing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        obj = getattr(mod, name, None)
    if any(issubclass(w.category, DeprecationWarning) for w in caught) or _is_deprecated_alias(obj):
        return None
    return obj


@functools.cache
def public_callables() -> dict[str, object]:
    """``{qualified name: callable}``, each object once (under the module that defines it when exported there)."""
    found: dict[int, tuple[str, object]] = {}
    for mod in public_modules():
        for name in public_names(mod):
            obj = _lookup(mod, name)
            if obj is None or not callable(obj) or inspect.ismodule(obj):
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue  # exception classes take a message, nothing to validate
            qual = f"{mod.__name__}.{name}"
            home = getattr(obj, "__module__", "")
            if id(obj) not in found or home == mod.__name__:
                found[id(obj)] = (qual, obj)
    return dict(sorted(found.values()))


# ---------------------------------------------------------------------- small instances, built once
def _tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="theory_rl_public_api_"))


def cell(config: dict, seed: int) -> dict:
    """A trivial sweep cell (module level, so that worker processes can unpickle it)."""
    return {"value": float(config.get("x", 0)) + seed % 7}


@functools.cache
def _fixtures() -> dict:
    from theory_rl import data, generators, planning
    from theory_rl.algorithms import glow

    disc = generators.garnet(S=4, A=2, branching=2, gamma=0.9, seed=0)
    epi = generators.garnet(S=4, A=2, branching=2, horizon=3, seed=0)
    bandit = generators.random_bandit(3, seed=0)
    cb = generators.random_contextual_bandit(3, 2, seed=0)
    lmdp = generators.linear.random_linear_mdp(4, 2, 3, 2, seed=0)
    mu = np.full((4, 2), 1 / 8)
    iid = data.sample_iid(disc, mu, 20, seed=1)
    lin_counts = data.sample_generative(lmdp, np.full((2, 4, 2), 2.0), 0)
    # 2 steps, 3 states, 2 actions: few policies, so o2o's programs are small
    o2o_lmdp = generators.linear.hybrid_family(0.3)
    o2o_counts = data.sample_generative(o2o_lmdp, np.full((2, 3, 2), 2.0), 0)
    decoy = generators.coverability.coverability_family(2, 2, 0.5, horizon=2)
    gmdp = decoy.mdp
    classes = glow.decoy_classes(gmdp, decoy.targets, 0.8)
    builder = data.CountsBuilder(gmdp.S, gmdp.A, horizon=gmdp.horizon)  # the glow criteria take a CountDataset
    builder.add_episode(np.zeros(gmdp.horizon + 1, dtype=int), np.zeros(gmdp.horizon, dtype=int),
                        np.zeros(gmdp.horizon))
    stats = builder.to_counts()
    shape = (gmdp.horizon, gmdp.S, gmdp.A)
    occ = np.stack([planning.occupancy(gmdp, np.zeros((gmdp.horizon, gmdp.S), dtype=int))] * 2)
    tmp = _tmpdir()
    iid.save(tmp / "iid")
    return {
        "disc": disc, "epi": epi, "bandit": bandit, "cb": cb, "lmdp": lmdp, "mu": mu, "iid": iid,
        "counts": iid.to_counts(), "pi": planning.solve(disc).policy,
        "bandit_counts": data.sample_iid_counts(bandit, np.full((1, 3), 1 / 3), 20, seed=0),
        "cb_counts": data.sample_iid_counts(cb, np.full((3, 2), 1 / 6), 20, seed=0),
        "epi_counts": data.sample_generative(epi, 2, seed=0),
        "lin_counts": lin_counts, "o2o_lmdp": o2o_lmdp, "o2o_counts": o2o_counts,
        "decoy": decoy, "gmdp": gmdp, "classes": classes, "stats": stats,
        "nu": np.full(shape, 1 / (gmdp.S * gmdp.A)), "occ": occ, "tmp": tmp, "saved": tmp / "iid.npz",
        "X": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
    }


def _f(key):
    return lambda: _fixtures()[key]


@functools.cache
def _lock():
    """issue 17 [hybrid]: a 3-step lock with 3 actions and the distractor, offline counts, rollouts of it."""
    from theory_rl import data, generators

    mdp = generators.combination_lock(3, 3, seed=0, anti_reward=0.05)
    return (mdp, data.sample_policy_counts(mdp, np.zeros((3, 2), dtype=int), 5, seed=0),
            data.sample_rollouts(mdp, np.zeros((3, 2), dtype=int), 4, seed=0))


@functools.cache
def _sim():
    """issue 17 [hybrid]: a bridge instance and a simulator of the discounted garnet (global gap 0.3)."""
    from theory_rl.generators import sim2real

    return sim2real.sim_gap_gridworld(0.1), sim2real.global_gap(_fixtures()["disc"], 0.3, seed=0)


def _record(factory, **changes):
    """Keyword construction of a dataclass record from the init fields of a real instance (``factory()``)."""
    def build():
        rec = factory()
        if hasattr(rec, "_asdict"):  # a NamedTuple record
            return (), {**rec._asdict(), **changes}
        kwargs = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec) if f.init}
        kwargs.update(changes)
        return (), kwargs
    return build


def _call(name: str, *args, **kwargs):
    """A lazy ``theory_rl.<name>(*args, **kwargs)``; args that are zero-argument lambdas are evaluated first."""
    def run():
        obj = _resolve(name)
        a = [x() if callable(x) and getattr(x, "__name__", "") == "<lambda>" else x for x in args]
        k = {n: (v() if callable(v) and getattr(v, "__name__", "") == "<lambda>" else v) for n, v in kwargs.items()}
        return obj(*a, **k)
    return run


def _resolve(name: str):
    """``theory_rl.<module path>.<attr>``, importing the module part."""
    mod_name, _, attr = f"theory_rl.{name}".rpartition(".")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(importlib.import_module(mod_name), attr)


def _ex(*args, **kwargs):
    """An example ``(args, kwargs)``; zero-argument lambdas among them are fixture look-ups, evaluated lazily."""
    def build():
        def ev(x):
            return x() if callable(x) and getattr(x, "__name__", "") == "<lambda>" else x
        return tuple(ev(a) for a in args), {k: ev(v) for k, v in kwargs.items()}
    return build


D = _f  # short alias used in EXAMPLES: D("disc") is the discounted garnet, etc.


# ---------------------------------------------------------------------- valid values by parameter name
#: A valid value for a parameter, by its name (a zero-argument factory).
VALID = {
    "mdp": _f("disc"),
    "lmdp": _f("lmdp"),
    "policy": lambda: np.zeros(4, dtype=int),
    "mu": _f("mu"),
    "seed": lambda: 0,
    "n": lambda: 5,
    "n_episodes": lambda: 3,
    "n_per_pair": lambda: 2,
    "n_trials": lambda: 2,
    "S": lambda: 4,
    "A": lambda: 2,
    "d": lambda: 3,
    "H": lambda: 2,
    "horizon": lambda: 3,
    "gamma": lambda: 0.9,
    "delta": lambda: 0.1,
    "eps": lambda: 0.1,
    "c_star": lambda: 1.5,
    "gap": lambda: 0.1,
    "branching": lambda: 2,
    "data": _f("counts"),
    "V": lambda: np.zeros(4),
    "Q": lambda: np.zeros((4, 2)),
    "probs": lambda: np.eye(2)[[0, 1, 0, 1]],
    "weight": lambda: 0.5,
    "epsilon": lambda: 0.1,
    "log_term": lambda: 2.0,
    "classes": _f("classes"),
    "stats": _f("stats"),
    "X": _f("X"),
    "P": lambda: _fixtures()["disc"].P,
    "starts": lambda: [0],
    "occupancies": _f("occ"),
    "config": lambda: {"x": 1},
}

#: Result records: outputs of a routine, not inputs a user builds, so their per-parameter invalid cases are not
#: generated (their values are validated where they are computed). Each still has an example call below: a
#: keyword round trip of a real instance, which proves the record is constructible by keyword (kw_only records).
RECORDS = {
    "Result": "the shared base record of every solver's output (results.py)",
    "IterativeResult": "the shared base record of every iterative solver's output (results.py)",
    "PlanningResult": "returned by planning.solve / value_iteration / policy_iteration / backward_induction",
    "OfflineResult": "returned by the offline learners of algorithms.lcb",
    "PEVIResult": "returned by algorithms.linear.pevi",
    "LSVIUCBResult": "returned by algorithms.linear.lsvi_ucb",
    "FTPedelResult": "returned by algorithms.ftpedel.ftpedel / pedel",
    "DesignResult": "returned by the design routines of algorithms.design",
    "EdgeOfReachResult": "returned by edge_of_reach.truncated_fqi",
    "ReachSets": "returned by edge_of_reach.reach_sets",
    "GlowResult": "returned by glow.glow",
    "H2OResult": "returned by glow.h2o",
    "OfflineOnlyResult": "returned by glow.offline_only",
    "FQIResult": "returned by glow.fqi",
    "Coverability": "returned by coverage.coverability",
    "ControlledCoverage": "returned by data.controlled_coverage",
    "Rollouts": "returned by data.sample_rollouts / RolloutSampler (a NamedTuple of arrays)",
    "EmpiricalModel": "returned by CountDataset/OfflineDataset.empirical_model",
    "DecoyInstance": "returned by the coverability-family generators",
    "IncompleteInstance": "returned by generators.coverability.incomplete_fqi_instance",
    "SweepSummary": "returned by runner.run_sweep",
    "Cell": "returned by runner.make_cells",
    "Bound": "an entry of the bounds registry (bounds.get / bounds.for_setting), built only by the registry",
    "Corrupted": "returned by data.corruption.corrupt (issue 18; a NamedTuple of the dataset and the mask)",
    "RealismInstance": "returned by generators.realism.realism_instance (issue 18)",
    "Sim2RealResult": "returned by the variants of algorithms.sim2real (issue 17)",
    "SimGapInstance": "returned by generators.sim2real.sim_gap_gridworld (issue 17)",
    "HACResult": "returned by algorithms.hybrid_pg.hac / hy_q (issue 17)",
    "MisspecInstance": "returned by generators.completeness.misspecified_linear_mdp (issue 17)",
    "ReptileResult": "returned by algorithms.reptile.reptile (issue 17)",
    "FinetuneResult": "returned by algorithms.o2o.finetune",  # issue 19
    "BalanceResult": "returned by algorithms.o2o.state_adaptive_balance",  # issue 19
    "ImprovementResult": "returned by algorithms.o2o.multi_step_improvement",  # issue 19
    "RecallExtendResult": "returned by algorithms.o2o.recall_extend",  # issue 19
    "PEVISamplesResult": "returned by algorithms.linear_samples.pevi_samples",  # issue 15 (factored linear)
    "LSVIUCBSamplesResult": "returned by algorithms.linear_samples.lsvi_ucb_samples",  # issue 15 (factored linear)
}

#: Public callables with no example call at all, with the reason. Keep this short.
NO_EXAMPLE = {
    "run_dask": "needs a running Dask cluster (seconds to start); test_runner covers it with a LocalCluster",
}


def _lsvi():
    from theory_rl.algorithms.linear import lsvi_ucb
    return lsvi_ucb(_fixtures()["lmdp"], 3, seed=0)


def _pevi():
    from theory_rl.algorithms.linear import pevi
    return pevi(_fixtures()["lmdp"].phi, _fixtures()["lin_counts"])


#: Valid calls ``(args, kwargs)`` that parameter names alone cannot build, by the callable's own name (so that a
#: function that moves to another module keeps its example); a qualified ``module.name`` key wins over the bare
#: name where two public callables share a name.
EXAMPLES: dict[str, object] = {
    # data
    "sample_trajectories": _ex(D("epi"), np.zeros((3, 4), int), 2, 0),
    "sample_trajectories_batch": _ex(D("epi"), np.zeros((3, 4), int), 2, 0, 2),
    "sample_transitions": _ex(D("disc"), np.array([0, 1]), np.array([1, 0]), 0),
    "sample_rollouts": _ex(D("epi"), np.zeros((3, 4), int), 2, 0),
    "RolloutSampler": _ex(D("epi")),
    "Rollouts": _record(_call("data.sample_rollouts", D("epi"), np.zeros((3, 4), int), 2, 0)),
    "sample_rewards": _ex(lambda: np.random.default_rng(0), np.array([0.2, 0.5]), "bernoulli"),
    "concatenate": _ex(lambda: [_fixtures()["iid"], _fixtures()["iid"]]),
    "load": _ex(D("saved")),
    "CountDataset": _record(D("counts")),
    "OfflineDataset": _record(D("iid")),
    "ControlledCoverage": _record(_call("data.controlled_coverage", D("disc"), 1.5)),
    "EmpiricalModel": _record(lambda: _fixtures()["counts"].empirical_model()),
    # tabular MDPs and bandits
    "TabularMDP": _ex(lambda: _fixtures()["disc"].P, lambda: _fixtures()["disc"].R, np.full(4, 0.25), gamma=0.9),
    "MultiArmedBandit": _ex([0.2, 0.5, 0.7]),
    "ContextualBandit": _ex([[0.1, 0.9], [0.5, 0.2]], [0.5, 0.5]),
    # penalties, policies, results, planning, coverage
    "bernstein": _ex(np.array([3.0, 0.0]), np.array([0.1, 0.2]), 2.0, c_b=1.0, value_range=10.0),
    "elliptical": _ex(np.ones((2, 3)), np.eye(3), beta=2.0),
    "hoeffding": _ex(np.array([3.0, 0.0, 5.0]), 2.0),
    "mixture": _ex(np.zeros(4, int), np.ones(4, int), 0.5, 4, 2),
    "stop_at_max_iter": _ex("warn", "value_iteration", 10),
    "renamed_field": _ex("old", "new"),
    "Result": _ex(policy=np.zeros(4, int)),
    "IterativeResult": _ex(policy=np.zeros(4, int), iterations=3, residual=0.0, error_bound=0.0),
    "bellman_expectation": _ex(D("disc"), D("pi"), np.zeros(4)),
    "backward_induction": _ex(D("epi")),
    "PlanningResult": _record(_call("planning.solve", D("disc"))),
    "max_ratio": _ex(D("mu"), D("mu")),  # d is an occupancy here, not the feature dimension of VALID["d"]
    "occupancy_ratio": _ex(D("mu"), D("mu")),
    "clipped_concentrability": _ex(D("gmdp"), lambda: np.zeros((2, _fixtures()["gmdp"].S), int), D("nu"), 2.0),
    "Coverability": _record(_call("coverage.coverability", D("gmdp"))),
    # generators
    "gridworld": _ex(2, 2),
    "rare_context_bandit": _ex(3, 0.1),
    "rare_state_mdp": _ex(4, 0.1),
    "prop1_bandit": _ex(10),
    "coverability_family": _ex(2, 2, 0.5, horizon=2),
    "block_mdp": _ex(2, 2, 0.5, 2, horizon=2),
    "DecoyInstance": _record(D("decoy")),
    "IncompleteInstance": _record(_call("generators.coverability.incomplete_fqi_instance")),
    # offline learners (Rashidinejad et al. 2021)
    "bandit_scores": _ex(np.array([3.0, 0.0, 5.0]), np.array([2.0, 0.0, 4.0]), 8, 3, algorithm="lcb"),
    "lcb_bandit": _ex(D("bandit_counts")),
    "lcb_contextual": _ex(D("cb_counts")),
    "vi_lcb": _ex(D("iid"), seed=0),
    "vi_lcb_episodic": _ex(D("epi_counts")),
    "OfflineResult": _record(_call("algorithms.lcb.most_played", D("counts"))),
    "exact_suboptimality": _ex((0.4, 0.6), (0.5, 0.5), 10),
    # linear MDPs, PEVI, LSVI-UCB, FTPedel, design, o2o
    "LinearMDP": _ex(lambda: _fixtures()["lmdp"].phi, lambda: _fixtures()["lmdp"].mu,
                     lambda: _fixtures()["lmdp"].theta, lambda: _fixtures()["lmdp"].init),
    "feature_covariance": _ex(lambda: _fixtures()["lin_counts"].counts, lambda: _fixtures()["lmdp"].phi),
    "coverage_family": _ex([0.5, 1.0]),
    "sample_policy_counts": _ex(D("lmdp"), np.zeros((2, 4), int), 3, 0),
    "best_response": _ex(D("lmdp"), 1, np.ones((4, 2))),
    "occupancy_polytope": _ex(D("lmdp"), 1),
    "pevi": _ex(lambda: _fixtures()["lmdp"].phi, D("lin_counts")),
    "pevi_beta": _ex(3, 2, 10, 0.1),
    "lsvi_ucb_beta": _ex(3, 2, 10, 0.1),
    "pevi_good_event": _ex(D("lmdp"), lambda: _pevi()),
    "PEVIResult": _record(_pevi),
    "LSVIUCBResult": _record(_lsvi),
    "ridge": _ex(np.eye(3), np.ones(3)),
    "sherman_morrison": _ex(np.eye(3), np.ones(3)),
    "ftpedel": _ex(D("o2o_lmdp"), 0.1, 0.1, seed=0, offline=D("o2o_counts")),
    "pedel": _ex(D("o2o_lmdp"), 0.5, 0.5, seed=0),
    "FTPedelResult": _record(_call("algorithms.ftpedel.ftpedel", D("o2o_lmdp"), 0.5, 0.5, seed=0)),
    "offline_covariance": _ex(D("lmdp"), D("lin_counts")),
    "o2o_coefficient": _ex(D("o2o_lmdp"), D("o2o_counts"), 0.5, 10.0, h=1),
    "minimal_online_episodes": _ex(D("o2o_lmdp"), D("o2o_counts"), 0.5, h=1, T_max=1e3, rtol=0.5),
    "design_objective": _ex(np.eye(2), D("X"), eta=3.0),
    "g_optimal_design": _ex(D("X")),
    "g_optimal_design_cvxpy": _ex(D("X")),
    "reachable_design": _ex(D("lmdp"), 1, lambda: np.eye(3), max_iter=20),
    "reachable_design_cvxpy": _ex(D("lmdp"), 1, lambda: np.eye(3)),
    "DesignResult": _record(_call("algorithms.design.g_optimal_design", D("X"))),
    # GLOW / H2O (Amortila et al. 2024)
    "FiniteClasses": _record(D("classes")),
    "finite_classes": _ex(lambda: _fixtures()["classes"].F, lambda: _fixtures()["classes"].W),
    "MixtureRatios": _ex(lambda: _call("algorithms.glow.model_based_classes",
                                       lambda: [_fixtures()["gmdp"], _fixtures()["gmdp"]])()),
    "decoy_classes": _ex(D("gmdp"), lambda: _fixtures()["decoy"].targets, 0.8),
    "model_based_classes": _ex(lambda: [_fixtures()["gmdp"], _fixtures()["gmdp"]]),
    "ratio_class": _ex(D("gmdp"), lambda: np.zeros((2, 2, _fixtures()["gmdp"].S), int)),
    "hybrid_ratio_class": _ex(D("gmdp"), lambda: np.zeros((2, 2, _fixtures()["gmdp"].S), int), D("nu")),
    "greedy_actions": _ex(lambda: _fixtures()["classes"].F),
    "optimal_q": _ex(lambda: _fixtures()["gmdp"].stage_P, lambda: _fixtures()["gmdp"].stage_R),
    "h2o": _ex(D("gmdp"), D("classes"), D("nu"), 3, seed=0),
    "offline_only": _ex(D("gmdp"), D("classes"), D("nu"), 5, seed=0),
    "H2OResult": _record(_call("algorithms.glow.h2o", D("gmdp"), D("classes"), D("nu"), 3, seed=0)),
    "OfflineOnlyResult": _record(_call("algorithms.glow.offline_only", D("gmdp"), D("classes"), D("nu"), 5, seed=0)),
    "glow": _ex(D("gmdp"), D("classes"), 3, seed=0),
    "GlowResult": _record(_call("algorithms.glow.glow", D("gmdp"), D("classes"), 3, seed=0)),
    "ClassEvaluator": _ex(D("gmdp"), D("classes")),
    "check_problem": _ex(D("gmdp"), D("classes")),  # a finite-horizon mdp: VALID["mdp"] is discounted
    "glow_constants": _ex(4, 3, 10, 2, 0.1, 2.0),
    "clipping_loss": _ex(D("occ"), np.array([1.0, 2.0])),
    "fqi": _ex(D("classes"), D("stats")),
    "FQIResult": _record(_call("algorithms.glow.fqi", D("classes"), D("stats"))),
    "mabo_cr": _ex(D("classes"), D("stats"), 2.0),
    "mabo_cr_objective": _ex(D("classes"), D("stats"), 2.0),
    "mle_log_likelihood": _ex(D("classes"), D("stats")),
    "model_mle": _ex(lambda: _call("algorithms.glow.model_based_classes",
                                   lambda: [_fixtures()["gmdp"], _fixtures()["gmdp"]])(), D("stats")),
    "confidence_set": _ex(lambda: _fixtures()["classes"].F, lambda: _fixtures()["classes"].W, D("stats"),
                          2.0, 4.0, 1.0),
    "glow_violations": _ex(lambda: _fixtures()["classes"].F, lambda: _fixtures()["classes"].W, D("stats"),
                           2.0, 4.0),
    "residual_sums": _ex(lambda: _fixtures()["classes"].F, D("stats")),
    "weighted_moments": _ex(lambda: _fixtures()["classes"].F, lambda: _fixtures()["classes"].W, D("stats"), 2.0),
    # edge of reach (tabular truncated FQI)
    "stay_gridworld": _ex(2, 3, goal=(1, 2), gamma=0.5),
    "shortest_path_states": _ex((0, 0), (1, 2), 3),
    "reach_sets": _ex(lambda: _fixtures()["disc"].P, [0], 1),
    "reach_distances": _ex(lambda: _fixtures()["disc"].P, [0]),
    "reach_diameter": _ex(lambda: _fixtures()["disc"].P, [0]),
    "ReachSets": _record(_call("algorithms.edge_of_reach.reach_sets", lambda: _fixtures()["disc"].P, [0], 1)),
    "truncated_fqi": _ex(D("disc"), [0], 1, n_members=2, n_iterations=5, n_rollouts=2, seed=0),
    "EdgeOfReachResult": _record(_call("algorithms.edge_of_reach.truncated_fqi", D("disc"), [0], 1, n_members=2,
                                       n_iterations=5, n_rollouts=2, seed=0)),
    "boundary_value_q": _ex(D("disc"), np.array([True, True, False, False]), np.zeros(4)),
    "count_model": _ex(D("disc"), 3, seed=0, n_members=2),
    "void_values": _ex(4, 2, scale=1.0, seed=0),
    "disagreement_penalty": _ex(lambda: np.stack([_fixtures()["disc"].P, _fixtures()["disc"].P])),
    "interpolate_models": _ex(lambda: _fixtures()["disc"].P, lambda: _fixtures()["disc"].P, 0.5),
    "linear_fqi": _ex(np.eye(3)[[0]], [0.0], np.eye(3)[None, [1, 2]], 0.9, w0=[1.0, 5.0, -5.0], n_iterations=5),
    # bounds registry
    "bernoulli_kl": _ex(0.3, 0.5),
    "kl_half_vs_inverse": _ex(2.0),
    "get": _ex(lambda: _resolve("bounds.for_setting")(_first_setting())[0].name),
    "for_setting": _ex(lambda: _first_setting()),
    "Bound": _record(lambda: _resolve("bounds.for_setting")(_first_setting())[0]),
    # experiments runner, plotting
    "Cell": _record(lambda: _resolve("runner.cells.make_cells")([{"x": 1}], 1, 0)[0]),
    "cell_seed": _ex(0, '{"x":1}', 0),
    "config_key": _ex({"x": 1}),
    "make_cells": _ex([{"x": 1}, {"x": 2}], 2, 0),
    "execute_cell": _ex(cell, {"x": 1}, 3),
    "run_inline": _ex(cell, [({"x": 1}, 3)]),
    "run_processes": _ex(cell, [({"x": 1}, 3)], 1),
    "ResultStore": _ex(lambda: _tmpdir() / "store.sqlite", "public_api"),
    "run_sweep": _ex(cell, [{"x": 1}], experiment="public_api", db_path=lambda: _tmpdir() / "sweep.sqlite",
                     progress=False),
    "SweepSummary": _record(lambda: _resolve("runner.sweep.run_sweep")(
        cell, [{"x": 1}], experiment="public_api", db_path=_tmpdir() / "s.sqlite", progress=False)),
    "save_figure": _ex(lambda: _resolve("plotting.new_figure")()[0], "public_api", lambda: _tmpdir()),
    "slip_kernel": _ex(np.array([[0, 1], [1, 0]]), 0.1, absorbing=1),
    # issue 18 [robust]: corruption (RIQL), tabular IQL / RIQL
    "corrupt": _ex(D("iid"), "reward", seed=0),
    "Corrupted": _record(_call("data.corruption.corrupt", D("iid"), "reward", seed=0)),
    "expectile": _ex(np.array([0.0, 1.0, 2.0]), 0.7, weights=np.array([1.0, 2.0, 1.0])),
    "huber_location": _ex(np.array([0.0, 1.0, 5.0]), 1.0, weights=np.array([1.0, 2.0, 1.0])),
    "ensemble_quantile": _ex(np.zeros((3, 4, 2)), 0.25),
    "iql": _ex(D("iid")),
    "riql": _ex(D("iid"), seed=0, n_critics=2),
    "uncertainty_heuristics": _ex(lambda: np.stack([_fixtures()["disc"].P, np.full((4, 2, 4), 0.25)])),
    "model_errors": _ex(lambda: _fixtures()["disc"].P, np.full((4, 2, 4), 0.25), np.ones(4), gamma=0.9),
    "weighted_spearman": _ex(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0, 2.0])),
    "rollout_distribution": _ex(lambda: _fixtures()["disc"].P, np.zeros(4, int), [0, 1], 3),
    "torus_gridworld": _ex(3, goal=(1, 1)),
    "realism_instance": _ex(4, delay=1, targets=(1,)),
    "trajectory_features": _ex(np.array([[0, 1]]), np.array([[1, 0]]), 2, 2, gamma=0.9),
    "bradley_terry_reward": _ex(np.eye(3), np.array([[0, 1], [1, 2]]), np.array([1.0, 0.0])),
    "preference_conditioned_imitation": _ex(np.array([[0, 1], [1, 0]]), np.array([[1, 0], [0, 0]]), 2, 2,
                                            np.array([[0, 1]]), np.array([1.0])),
    "RealismInstance": _record(_call("generators.realism.realism_instance", 4, targets=(1,))),
    # issue 18 (second pass): the constrained-MDP LP
    "constrained_optimum": _ex(lambda: _fixtures()["disc"], np.zeros((4, 2)), 0.5),
    "torus_translate": _ex(np.array([0, 4]), np.array([1, 2]), 3),
    "torus_distance": _ex(np.array([0, 4]), (1, 1), 3),
    "augment": _ex(lambda: _torus_data(), 3, (1, 1), seed=0, copies=2),
    "expert_fraction": _ex(lambda: _torus_data(), np.zeros((9, 5))),
    "data_concentrability": _ex(lambda: _resolve("generators.symmetric.torus_gridworld")(3, goal=(1, 1)),
                                np.zeros(9, int), lambda: _torus_data()),
    # issue 17 [hybrid]: H2O of Niu et al. 2022 (algorithms.sim2real) and its instance families
    "kl_gap": _ex(lambda: _sim()[1].P, lambda: _fixtures()["disc"].P),
    "tv_gap": _ex(lambda: _fixtures()["disc"].P, lambda: _sim()[1].P),
    "overlap_kernel": _ex(lambda: _fixtures()["disc"].P, lambda: _sim()[1].P),
    "darc_correction": _ex(lambda: _fixtures()["disc"].P, lambda: _sim()[1].P),
    "dynamics_aware_h2o": _ex(D("counts"), lambda: _sim()[1]),
    "naive_mixing": _ex(D("counts"), lambda: _sim()[1]),
    "darc": _ex(D("counts"), lambda: _sim()[1]),
    "sim_only": _ex(lambda: _sim()[1]),
    "Sim2RealResult": _record(lambda: _resolve("algorithms.sim2real.sim_only")(_sim()[1])),
    "global_gap": _ex(D("disc"), 0.3, seed=0),
    "bridge_pairs": _ex(lambda: _sim()[0]),
    "SimGapInstance": _record(lambda: _sim()[0]),
    # issue 17 [hybrid]: HAC / HNPG of Zhou et al. 2023 (algorithms.hybrid_pg)
    "hac_step_size": _ex(100, 4, 3),
    "softmax_npg_update": _ex(lambda: np.full((3, 2, 2), 0.5), lambda: np.zeros((3, 2, 2)), 1.0),
    "mc_statistics": _ex(lambda: _lock()[2], 2, 3),
    "hpe": _ex(lambda: np.full((3, 2, 3), 1 / 3), lambda: _lock()[1], lambda: np.ones((3, 2, 3)),
               lambda: np.ones((3, 2, 3))),
    "hac": _ex(lambda: _lock()[0], lambda: _lock()[1], 3, seed=0),
    "hy_q": _ex(lambda: _lock()[0], lambda: _lock()[1], 2, seed=0),
    "HACResult": _record(lambda: _resolve("algorithms.hybrid_pg.hac")(_lock()[0], _lock()[1], 2, seed=0)),
    "count_fqi": _ex(lambda: _lock()[1], lambda: np.ones((2, 3, 1))),
    # issue 17 [hybrid2]: HNPG's log-linear actor (Zhou et al. 2023, Alg. 3)
    "h2o_onpolicy_sim": _ex(D("counts"), lambda: _sim()[1], seed=0, rounds=2, episodes=2, n_steps=3),
    "loglinear_policy": _ex(lambda: np.zeros((3, 2)), lambda: np.ones((2, 3, 2))),
    "hnpg_direction": _ex(lambda: np.full((3, 2, 3), 1 / 3), lambda: np.ones((3, 2, 3)),
                          lambda: np.ones((2, 3, 2)), lambda: np.ones((3, 2, 3)), lambda: np.ones((3, 2, 3))),
    "hnpg": _ex(lambda: _lock()[0], lambda: _lock()[1], 2, features=lambda: np.ones((2, 3, 2)), seed=0),
    "misspecified_linear_mdp": _ex(0.5, seed=0),
    "MisspecInstance": _record(lambda: _resolve("generators.completeness.misspecified_linear_mdp")(0.5, seed=0)),
    # issue 17 [hybrid]: MOORL's Reptile update (algorithms.reptile)
    "quadratic_loss": _ex(lambda: np.eye(3)[:, :2], lambda: np.ones(3), lambda: np.arange(3.0)),
    "inner_steps": _ex(lambda: np.zeros(2), lambda: np.eye(2), lambda: np.ones(2), 3, 0.5),
    "reptile_fixed_point": _ex(lambda: np.eye(2), lambda: np.ones(2), lambda: np.diag([2.0, 1.0]),
                               lambda: np.zeros(2), K=3, alpha=0.3),
    "reptile": _ex(lambda: np.eye(2), lambda: np.ones(2), lambda: np.diag([2.0, 1.0]), lambda: np.zeros(2), K=3,
                   alpha=0.3, beta=0.1, n_meta=5, seed=0),
    "ReptileResult": _record(lambda: _resolve("algorithms.reptile.reptile")(
        np.eye(2), np.ones(2), np.eye(2), np.zeros(2), K=2, alpha=0.3, beta=0.1, n_meta=3, seed=0)),
    # offline-to-online fine-tuning (issue 19)
    "finetune": _ex(D("disc"), D("counts"), seed=0, online_steps=40, n_steps=10, warmup_steps=20),
    "FinetuneResult": _record(_call("algorithms.o2o.finetune", D("disc"), D("counts"), seed=0, online_steps=20,
                                    n_steps=10)),
    "initial_dip": _ex(1.0, [0.9, 0.4, 1.2], window=2),
    "steps_to_threshold": _ex([0, 10, 20], [0.1, 0.5, 0.9], 0.5),
    "awr_family": _ex(np.full((4, 2), 0.5), np.array([[0.0, 1.0]] * 4), [1.0, 3.0]),
    "balance_mdp": _ex(D("disc"), lambda: _famo2o_family()),
    "balance_policy": _ex(D("disc"), lambda: _famo2o_family(), np.array([0, 1, 0, 1])),
    "state_adaptive_balance": _ex(D("disc"), lambda: _famo2o_family()),
    "fixed_balance_returns": _ex(D("disc"), lambda: _famo2o_family()),
    "greedy_balance": _ex(lambda: _famo2o_family(), lambda: np.ones((4, 2))),
    "BalanceResult": _record(lambda: _resolve("algorithms.o2o.state_adaptive_balance")(_fixtures()["disc"],
                                                                                        _famo2o_family())),
    "expected_td": _ex(D("disc"), np.arange(24.0).reshape(4, 2, 3) % 5, np.zeros(4, int), D("mu")),
    "td_stability": _ex(np.array([[1.0, 0.5], [0.0, 2.0]]), np.eye(2)),
    "td_fixed_point": _ex(np.array([[1.0, 0.5], [0.0, 2.0]]), np.ones(2)),
    "clipped_surrogate": _ex(np.array([[0.6, 0.4]]), np.array([[0.5, 0.5]]), np.array([[1.0, -1.0]]), eps=0.25),
    "ppo_clip_step": _ex(np.array([[0.5, 0.5]]), np.array([[1.0, -1.0]]), eps=0.25),
    "multi_step_improvement": _ex(D("disc"), np.full((4, 2), 0.5), n_steps=3),
    "performance_difference": _ex(D("disc"), np.full((4, 2), 0.5), np.zeros(4, int)),
    "cpi_lower_bound": _ex(D("disc"), np.full((4, 2), 0.5), np.zeros(4, int), state_dist=np.full(4, 0.25)),
    "ImprovementResult": _record(_call("algorithms.o2o.multi_step_improvement", D("disc"), np.full((4, 2), 0.5),
                                       n_steps=2)),
    "bootstrap_models": _ex(D("counts"), 3, seed=0),
    "ensemble_lcb": _ex(D("counts"), seed=0, n_members=3),
    "expected_min_coefficient": _ex(10),
    # issue 19, second pass: the UI-S1 and RED analogues
    "expert_path": _ex(np.array([[1, 0], [2, 1], [2, 2]]), np.zeros(3, int), 0, 2),
    "semi_online_performance": _ex(np.array([[1, 0], [2, 1], [2, 2]]), np.full((3, 2), 0.5), np.array([0, 1, 2]),
                                   np.zeros(2, int), budget=1),
    "online_success": _ex(np.array([[1, 0], [2, 1], [2, 2]]), np.full((3, 2), 0.5), 0, 2, 3),
    "softmax": _ex(np.zeros((2, 3))),
    "bandit_metrics": _ex(np.zeros((2, 3)), np.eye(2, 3), np.full(2, 0.5), k=4),
    "rl_gradient": _ex(np.zeros((2, 3)), np.eye(2, 3), np.full(2, 0.5)),
    "sft_gradient": _ex(np.zeros((2, 3)), np.eye(2, 3), np.full(2, 0.5)),
    "recall_extend": _ex(np.zeros((2, 3)), np.eye(2, 3), np.eye(2, 3), np.full(2, 0.5), mode="switch", n_steps=3),
    "RecallExtendResult": _record(_call("algorithms.o2o.recall_extend", np.zeros((2, 3)), np.eye(2, 3),
                                        np.eye(2, 3), np.full(2, 0.5), n_steps=2)),
    # issue 15 [scale]: scalable planning (solvers, sparse_planning, backups)
    "sparse_backward_induction": _ex(D("epi")),
    "default_max_iter": _ex(0.9, 1e-8, 10.0),
    "policy_values": _ex(np.eye(3)[[1, 2, 0]], np.full(3, 0.5), 0.9),
}

# issue 15 [scale], item 4: factored linear MDPs (scale-linear)
@functools.cache
def _factored():
    """A small factored linear MDP (S = 4, A = 2, d = 3, H = 2) and latent-sampler data of it."""
    from theory_rl.algorithms.linear_samples import latent_dataset
    from theory_rl.generators.linear import random_factored_linear_mdp

    F = random_factored_linear_mdp(4, 2, 3, 2, seed=0)
    return F, latent_dataset(F, np.full((4, 2), 0.5), 5, 0)


def _fm():
    return _factored()[0]


EXAMPLES.update({
    "FactoredLinearMDP": _ex(lambda: _fm().phi, lambda: _fm().mu, lambda: _fm().theta, lambda: _fm().init),
    "LatentSampler": _ex(lambda: _fm()),
    "linear_backward_induction": _ex(lambda: _fm()),
    "linear_evaluate": _ex(lambda: _fm(), np.zeros((2, 4), int)),
    "linear_weights": _ex(lambda: _fm(), np.zeros((2, 4))),
    "LinearGreedyPolicy": _ex(lambda: _fm().features, np.zeros((2, 3)), np.stack([np.eye(3)] * 2), 1.0, 1,
                              np.full(2, 2.0)),
    "pevi_samples": _ex(lambda: _fm(), lambda: _factored()[1]),
    "lsvi_ucb_samples": _ex(lambda: _fm(), 3, seed=0),
    "latent_dataset": _ex(lambda: _fm(), np.zeros(4, int), 3, 0),
    "PEVISamplesResult": _record(_call("algorithms.linear_samples.pevi_samples", lambda: _fm(),
                                       lambda: _factored()[1])),
    "LSVIUCBSamplesResult": _record(_call("algorithms.linear_samples.lsvi_ucb_samples", lambda: _fm(), 2, seed=0)),
})


@functools.cache
def _torus_data():
    """i.i.d. data on the 3 x 3 torus gridworld (issue 18's GuDA examples)."""
    from theory_rl import data
    from theory_rl.generators.symmetric import torus_gridworld

    return data.sample_iid(torus_gridworld(3, goal=(1, 1)), np.full((9, 5), 1 / 45), 40, seed=0)


# ---------------------------------------------------------------------- issue 21 [interop]
# The exporters and importers need their optional library (extras minari, d3rlpy): where it is installed they get
# example calls like every other public callable; where it is not, they are exempt (NO_EXAMPLE), and
# tests/interop covers them in the venv that has it (the README's separate d3rlpy command).
_MINARI_IDS = iter(range(10**9))


@functools.cache
def _minari_home() -> Path:
    """Minari writes to $MINARI_DATASETS_PATH: a temporary folder, set once for this test process."""
    import os

    path = _tmpdir() / "minari"
    os.environ["MINARI_DATASETS_PATH"] = str(path)
    return path


def _minari_id() -> str:
    _minari_home()
    return f"public_api/example-{next(_MINARI_IDS)}-v0"


@functools.cache
def _minari_dataset():
    return _resolve("interop.to_minari")(_fixtures()["iid"], _minari_id())


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


if _has("minari"):
    EXAMPLES["to_minari"] = _ex(D("iid"), lambda: _minari_id())
    EXAMPLES["from_minari"] = _ex(lambda: _minari_dataset())
else:
    NO_EXAMPLE["to_minari"] = NO_EXAMPLE["from_minari"] = "needs the optional extra 'minari' (not installed here)"
if _has("d3rlpy"):
    EXAMPLES["to_d3rlpy"] = _ex(D("iid"))
    EXAMPLES["from_d3rlpy"] = _ex(lambda: _resolve("interop.to_d3rlpy")(_fixtures()["iid"]), S=4, gamma=0.9)
else:
    NO_EXAMPLE["to_d3rlpy"] = NO_EXAMPLE["from_d3rlpy"] = "needs the optional extra 'd3rlpy' (not installed here)"


# ---------------------------------------------------------------------- issue 15 [scale-edges]: imported models
RECORDS["ImportedMDP"] = "returned by interop.from_toy_text / from_discrete_dp / from_mdptoolbox (issue 15)"
_DP = (np.array([[-1.0, 2.0], [0.5, 0.0], [1.0, -0.5]]),  # R (S, A) = (3, 2) on [-1, 2]: a non-trivial map
       np.full((3, 2, 3), 1 / 3))  # Q (S, A, S)
EXAMPLES["from_discrete_dp"] = _ex(_DP[0], _DP[1], 0.9)
EXAMPLES["from_mdptoolbox"] = _ex(_DP[1].transpose(1, 0, 2), _DP[0], 0.9)
EXAMPLES["RewardMap"] = _ex(-1.0, 2.0)
EXAMPLES["use_sparse"] = _ex(4 * 10**6, 10**4)
EXAMPLES["ImportedMDP"] = _record(_call("interop.from_discrete_dp", _DP[0], _DP[1], 0.9))
if _has("gymnasium"):
    EXAMPLES["from_toy_text"] = _ex("FrozenLake-v1", gamma=0.9)
else:
    NO_EXAMPLE["from_toy_text"] = "needs the optional extra 'gym' (not installed here)"


def _famo2o_family():
    """Two AWR policies on the discounted garnet's 4 states and 2 actions (issue 19)."""
    return _resolve("algorithms.o2o.awr_family")(np.full((4, 2), 0.5), np.array([[0.0, 1.0]] * 4), [0.0, 2.0])


def _first_setting() -> str:
    """A setting of the bounds registry that has at least one bound (multi-armed bandits)."""
    return "mab"


def short_name(qualname: str) -> str:
    return qualname.rpartition(".")[2]


def has_example(qualname: str, obj) -> bool:
    """Whether :func:`example_call` can build a call (without building it: collection stays fast)."""
    if qualname in EXAMPLES or short_name(qualname) in EXAMPLES:
        return True
    if short_name(qualname) in NO_EXAMPLE:
        return False
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    return all(p.name in VALID for p in sig.parameters.values()
               if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is p.empty)


def is_record(qualname: str) -> bool:
    """A result record of :data:`RECORDS` (example call only, no per-parameter invalid cases)."""
    return short_name(qualname) in RECORDS


def example_call(qualname: str, obj) -> tuple[tuple, dict] | None:
    """A valid call of ``obj`` as ``(args, kwargs)``, or None when neither EXAMPLES nor VALID can build one."""
    for key in (qualname, short_name(qualname)):
        if key in EXAMPLES:
            return EXAMPLES[key]()
    if short_name(qualname) in NO_EXAMPLE:
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    args, kwargs = [], {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name not in VALID:
            return None
        value = VALID[p.name]()
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return tuple(args), kwargs


# ---------------------------------------------------------------------- issue 16 [speed]
EXAMPLES["sample_iid_counts_batch"] = _ex(D("disc"), D("mu"), 20, [0, 1])


# ---------------------------------------------------------------------- issue 15 [scale] item 5: infeasible actions
_MASK = np.array([[True, False], [True, True], [False, True], [True, True]])
EXAMPLES["as_feasible_mask"] = _ex(_MASK, 4, 2)
EXAMPLES["mask_infeasible"] = _ex(D("disc"), np.zeros((4, 2)))
EXAMPLES["check_feasible_pairs"] = _ex(D("disc"), np.array([0, 1]), np.array([1, 0]))
EXAMPLES["refuse_masked"] = _ex(D("disc"), "this algorithm")


# ---------------------------------------------------------------------- issue 15, item 5 [scale-ranges]
@functools.cache
def _ranged():
    """A 2-state MDP with rewards on [-1, 2] (Gaussian), discounted 0.9 over a horizon of 3, and its i.i.d. counts."""
    from theory_rl import data
    from theory_rl.mdp import TabularMDP

    mdp = TabularMDP(np.full((2, 2, 2), 0.5), [[-1.0, 2.0], [0.5, 0.0]], [1.0, 0.0], gamma=0.9, horizon=3,
                     reward_range=(-1, 2), reward_noise="gaussian")  # fmt: skip
    undiscounted = mdp.replace(gamma=None)
    return mdp, data.sample_iid_counts(undiscounted, np.full((3, 2, 2), 0.25), 20, seed=0)


EXAMPLES["unit_rewards"] = _ex(lambda: _ranged()[0])
EXAMPLES["undiscounted_stages"] = _ex(lambda: _ranged()[0])
EXAMPLES["unit_dataset"] = _ex(lambda: _ranged()[1])
EXAMPLES["on_unit_rewards"] = _ex(lambda: _resolve("algorithms.lcb.vi_lcb_episodic"), lambda: _ranged()[1])
