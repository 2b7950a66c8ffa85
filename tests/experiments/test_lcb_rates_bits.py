"""Issue 16's speed-ups leave the main experiment's numbers unchanged, bit for bit: four lcb_rates cells (exact
two-arm, contextual bandit, MDP at C* = 1 and C* = 2) equal the values the code before issue 16 (commit 7355c1b)
computed, stored as float.hex() in lcb_rates_cells_7355c1b.json. A change of any last bit fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import lcb_rates

CASES = json.loads((Path(__file__).with_name("lcb_rates_cells_7355c1b.json")).read_text())


@pytest.mark.parametrize(("config", "expected"), CASES, ids=[c[0]["setting"] for c in CASES])
def test_cells_are_bit_identical_to_the_code_before_issue_16(config, expected):
    got = lcb_rates.cell(config, 11)
    assert {k: v.hex() for k, v in got.items()} == expected
