"""Unit tests of the generic checks appended to theory_rl._validation (flags, callables, mappings, strings, sizes)."""

from pathlib import Path

import numpy as np
import pytest

from theory_rl._validation import (
    MEMORY_BYTES,
    Boolean,
    Callable,
    InvalidParameterError,
    Mapping,
    String,
    check_bool,
    check_callable,
    check_mapping,
    check_str,
    check_table,
    validate_params,
)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_accepts_bools(value):
    assert check_bool(value, "flag") is bool(value)


@pytest.mark.parametrize("value", [1, 0, 1.0, "yes", None, float("nan"), object()])
def test_check_bool_refuses_everything_else(value):
    with pytest.raises(InvalidParameterError, match=r"^flag is .* expected a bool"):
        check_bool(value, "flag")


def test_check_callable_and_mapping():
    assert check_callable(len, "fn") is len
    with pytest.raises(TypeError, match="fn is str .* expected a callable"):
        check_callable("len", "fn")
    cfg = {"x": 1}
    assert check_mapping(cfg, "config") is cfg
    with pytest.raises(TypeError, match="config is list .* expected a dict"):
        check_mapping([("x", 1)], "config")


def test_check_str_and_paths():
    assert check_str("label", "name") == "label"
    with pytest.raises(ValueError, match="name is float"):
        check_str(float("nan"), "name")
    with pytest.raises(TypeError, match="out_dir is PosixPath|out_dir is WindowsPath"):
        check_str(Path("x"), "out_dir")  # a path only where path=True
    assert check_str(Path("x"), "out_dir", path=True) == Path("x")


def test_check_table_refuses_absurd_sizes_naming_them():
    check_table("P", (4, 2, 4), ("S", "A", "S"))  # small: passes
    with pytest.raises(ValueError, match=r"P of shape \(S, A, S\) = \(4, 1000000000000, 4\) needs"):
        check_table("P", (4, 10**12, 4), ("S", "A", "S"))
    n = MEMORY_BYTES // 8 + 1
    with pytest.raises(ValueError, match="more than this machine's"):
        check_table("x", (n,), ("n",))
    check_table("x", (n,), ("n",), itemsize=1)  # fits as bytes


def test_specs_in_validate_params():
    @validate_params(fn=Callable(), config=Mapping(optional=True), label=String(), flag=Boolean())
    def f(fn, config=None, label="a", flag=False):
        return flag

    assert f(len, None, "b", np.bool_(True)) is True  # normalised to a Python bool
    assert set(f.__validated__) == {"fn", "config", "label", "flag"}
    with pytest.raises(TypeError, match="flag is str"):
        f(len, flag="bogus")
    with pytest.raises(TypeError, match="label is int"):
        f(len, label=3)
    with pytest.raises(TypeError, match="config is tuple"):
        f(len, config=())
    with pytest.raises(TypeError, match="fn is NoneType"):
        f(None)


def test_check_cell_accepts_cells_inside_the_grid_and_names_the_parameter():
    from theory_rl._validation import check_cell

    assert check_cell((1, 2), "goal", 3, 4) == (1, 2)
    assert check_cell(np.array([0, 3]), "goal", 3, 4) == (0, 3)
    with pytest.raises(ValueError, match=r"goal \(3, 0\) is outside the 3x4 grid"):
        check_cell((3, 0), "goal", 3, 4)
    for bad in ("ab", (1,), (1.0, 2), (True, 1), 7):
        with pytest.raises(ValueError, match="goal"):
            check_cell(bad, "goal", 3, 4)
