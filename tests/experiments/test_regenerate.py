"""The committed results stay current: the README's slope table is the one the committed summary gives, and
(slow) a paper-scale rerun of the main command reproduces the committed summary's slopes."""

import json

import pytest

from experiments import lcb_rates, regenerate

COMMITTED = regenerate.PAPER_FIGURES / "lcb_rates_summary.json"


def test_readme_table_equals_committed_summary():
    summary = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert not summary["quick"], "the committed summary must be the paper-scale run"
    readme = regenerate.README.read_text(encoding="utf-8")
    assert regenerate.readme_section(readme) == regenerate.readme_table(summary), (
        "README's slope table differs from paper_figures/lcb_rates_summary.json: run "
        "`python -m experiments.regenerate --only lcb_rates` (or fix the README by hand from the summary)"
    )


def test_readme_table_changes_with_the_summary(tmp_path):
    # the check above can fail: a summary with one slope changed gives a different table, and update_readme
    # rewrites only the marked section
    summary = json.loads(COMMITTED.read_text(encoding="utf-8"))
    summary["slopes"][0]["slope"] += 0.5
    assert regenerate.readme_table(summary) != regenerate.readme_table(json.loads(COMMITTED.read_text()))
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{regenerate.BEGIN}\nold\n{regenerate.END}\nafter\n", encoding="utf-8")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary), encoding="utf-8")
    assert regenerate.update_readme(path, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("after\n")
    assert regenerate.readme_section(text) == regenerate.readme_table(summary)
    assert not regenerate.update_readme(path, readme)  # idempotent


@pytest.mark.slow
def test_main_command_reproduces_committed_summary(tmp_path):
    # The main command at paper scale (seed 0, the committed summary's trials) gives the committed slopes and
    # intervals: deterministic seeds, so equal up to floating-point reassociation across machines.
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert lcb_rates.main(["--out", str(tmp_path), "--no-progress", "--workers", "2"]) == 0
    fresh = json.loads((tmp_path / "lcb_rates_summary.json").read_text(encoding="utf-8"))
    assert fresh["trials"] == committed["trials"] and fresh["seed"] == committed["seed"]
    for old, new in zip(committed["slopes"], fresh["slopes"], strict=True):
        assert {k: v for k, v in old.items() if k not in ("slope", "ci_low", "ci_high")} == {
            k: v for k, v in new.items() if k not in ("slope", "ci_low", "ci_high")}
        for key in ("slope", "ci_low", "ci_high"):
            if old[key] is None:
                assert new[key] is None, (old, new)
            else:
                assert new[key] == pytest.approx(old[key], abs=1e-6), (key, old, new)
    assert regenerate.readme_table(fresh) == regenerate.readme_section(regenerate.README.read_text())


def test_every_committed_figure_has_an_experiment_that_regenerates_it():
    # A figure in paper_figures/ that no experiment of regenerate.EXPERIMENTS draws would go stale silently.
    prefixes = {name: name for name in regenerate.EXPERIMENTS} | {"eor_": "edge_of_reach"}
    orphans = [p.name for p in sorted(regenerate.PAPER_FIGURES.glob("*.png"))
               if not any(p.stem.startswith(prefix) for prefix in prefixes)]
    assert not orphans, f"committed figures no experiment in experiments.regenerate.EXPERIMENTS redraws: {orphans}"
