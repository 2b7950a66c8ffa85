"""The one result vocabulary and the one on_max_iter rule."""

import warnings

import numpy as np
import pytest

from theory_rl.results import ConvergenceError, ConvergenceWarning, IterativeResult, Result, stop_at_max_iter


def test_stop_at_max_iter_raises_by_rule_or_warns():
    with pytest.raises(ConvergenceError, match=r"vi did not converge in 7 iterations \(change 1e-3\)"):
        stop_at_max_iter("raise", "vi", 7, "change 1e-3")
    with pytest.warns(ConvergenceWarning, match="vi did not converge in 7 iterations"):
        stop_at_max_iter("warn", "vi", 7)
    with pytest.raises(ValueError, match="on_max_iter"):
        stop_at_max_iter("ignore", "vi", 7)
    assert issubclass(ConvergenceError, RuntimeError)


def test_records_are_keyword_only_frozen_and_share_names():
    r = IterativeResult(policy=np.zeros(3, int), V=np.ones(3), method="m", iterations=4, residual=1e-9,
                        error_bound=2e-9, converged=True)
    assert isinstance(r, Result)
    with pytest.raises(TypeError):
        IterativeResult(np.zeros(3))  # positional construction is refused: names only
    with pytest.raises(AttributeError):
        r.V = None
    assert r.certificate() == "m: converged after 4 iteration(s); residual 1.000e-09; |V - V*| <= 2.000e-09"
    assert "NOT converged" in IterativeResult(policy=np.zeros(1), converged=False).certificate()
    assert "array(3,)" in repr(r) and "m:" in repr(r)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Result(policy=np.zeros(2)).constants == {}


def test_renamed_field_warns_and_reads_the_new_home():
    from dataclasses import dataclass

    from theory_rl.results import renamed_field

    @dataclass(frozen=True, kw_only=True)
    class Record(Result):
        extra: float = 2.0
        old = renamed_field("old", "extra")
        beta = renamed_field("beta", 'constants["beta"]', read=lambda r: r.constants["beta"])

    r = Record(policy=np.zeros(1), constants={"beta": 7.0})
    with pytest.warns(DeprecationWarning, match=r"Record\.old is deprecated; use \.extra"):
        assert r.old == 2.0
    with pytest.warns(DeprecationWarning, match="beta is deprecated"):
        assert r.beta == 7.0
    assert "old" not in Record.__dataclass_fields__  # a property, not a field
