"""Mutation testing of theory_rl's core modules with mutmut 3 (issue 14): one documented command, outside the tests.

    python -m benchmarks.mutation --module bounds            # one module (minutes)
    python -m benchmarks.mutation --module all --jobs 4      # every core module (tens of minutes or more)

For each module the repository is copied to a scratch folder, its ``[tool.mutmut]`` section is narrowed to that
module (``only_mutate``) and to the tests that exercise it (``pytest_add_cli_args_test_selection``; mutmut then runs,
for each mutant, only the tests that call the mutated function), ``mutmut run`` is run there, and the verdicts are
read back with ``mutmut results --all true``. Mutants listed in ``tests/mutation_equivalent.md`` (by name, with the
reason) are equivalent: they are left out of the score's denominator. The score is killed / (total - equivalent),
where "killed" includes timeouts and segfaults (the suite noticed), and "not checked" / "no tests" count as survived.

A summary JSON per module is written to ``--out`` (``results/mutation`` by default) and printed; the exit status is 1
when a module scores below ``--min-score`` (90 by default).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DATA_TESTS = ["tests/data", "tests/test_kernels.py", "tests/test_speed_paths.py", "tests/linear/test_linear.py",
              "tests/algorithms/test_lcb.py", "tests/test_invalid_input.py"]
#: module -> (files mutated, as mutmut globs; the tests run against them)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "bounds": (["theory_rl/bounds.py", "theory_rl/divergences.py"],
               ["tests/test_bounds.py", "tests/test_bounds_mutation.py"]),
    "coverage": (["theory_rl/coverage/*"],
                 ["tests/coverage", "tests/algorithms/test_glow.py", "tests/test_feasibility.py",
                  "tests/test_invalid_input.py"]),
    # the planning layer: exact solvers, the scalable ones, their sparse forms and the backups they share
    "planning": (["theory_rl/planning.py", "theory_rl/solvers.py", "theory_rl/sparse_planning.py",
                  "theory_rl/backups.py"],
                 ["tests/test_planning.py", "tests/test_planning_mutation.py", "tests/test_solvers.py",
                  "tests/test_sparse_mdp.py", "tests/test_speed_paths.py", "tests/coverage/test_coverage.py",
                  "tests/test_invalid_input.py"]),
    # theory_rl/data/ in two parts (3,679 mutants in all: too many for one run on two shared cores); `--module data`
    # runs both (GROUPS). Tests: tests/data and the unit tests that also call data (kernels' sampling laws, the
    # batched counts, linear MDPs' counts, LCB); the experiments are left out
    "data-io": ([f"theory_rl/data/{m}.py" for m in ("counts", "builder", "samples", "files", "io", "corruption")],
                DATA_TESTS),
    "data-sampling": ([f"theory_rl/data/{m}.py" for m in ("sampling", "rollouts", "tables", "behaviour", "noise")],
                      DATA_TESTS),
    # the unit tests only: the experiments' quick runs (16 s) would be rerun for every surviving mutant
    "lcb": (["theory_rl/algorithms/lcb.py"],
            ["tests/algorithms/test_lcb.py", "tests/algorithms/test_lcb_mutation.py",
             "tests/algorithms/test_lcb_mutation2.py", "tests/algorithms/test_lcb_feasible.py",
             "tests/test_invalid_input.py"]),
    "linear": (["theory_rl/algorithms/linear.py"],
               ["tests/algorithms/test_algorithms_linear.py", "tests/algorithms/test_linear_mutation.py",
                "tests/linear", "tests/test_invalid_input.py"]),
    "glow": (["theory_rl/algorithms/glow/*"],
             ["tests/algorithms/test_glow.py", "tests/algorithms/test_glow_mutation.py",
              "tests/algorithms/test_glow_mutation2.py", "tests/algorithms/test_glow_mutation3.py",
              "tests/algorithms/test_glow_mutation4.py", "tests/test_invalid_input.py"]),
}
#: a name for several MODULES entries run one after the other
GROUPS: dict[str, list[str]] = {"data": ["data-io", "data-sampling"]}
EQUIVALENT_FILE = ROOT / "tests" / "mutation_equivalent.md"
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def mutmut_environment() -> dict[str, str]:
    """The environment for ``mutmut``: ours, with numba's fork-safe ``workqueue`` threading layer.

    mutmut 3 runs each mutant in a child forked from one server process. Once a ``parallel=True`` kernel (the
    batched samplers of ``theory_rl._kernels``) has run in that server under numba's default OpenMP layer, GNU
    OpenMP makes every forked child raise SIGTERM at once ("fork() called from a process already using GNU OpenMP,
    this is unsafe"), which mutmut reports as ``suspicious``, killed or not. The workqueue layer survives a fork.
    """
    return {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}


def equivalent_mutants(path: Path = EQUIVALENT_FILE) -> set[str]:
    """Names of the mutants declared equivalent: the first column (in backticks) of the table rows of ``path``."""
    if not path.exists():
        return set()
    return {m.group(1) for line in path.read_text().splitlines() if (m := _ROW.match(line))}


def expose_validated(code: str) -> str:
    """``code`` with each top-level ``@validate_params(...)`` decorator moved below its function, as an assignment.

    mutmut 3 does not mutate decorated functions (it could not rebuild the decorator around its trampoline), and
    every public function of theory_rl is decorated with ``validate_params``: left alone, the bodies that matter
    most would never be mutated. ``@validate_params(specs)\ndef f(...)`` becomes ``def f(...)`` followed by
    ``f = validate_params(specs)(f)``: the same function at import (the wrapper then wraps mutmut's trampoline,
    whose signature is the original's), now visible to mutmut.
    """
    import libcst as cst

    module = cst.parse_module(code)
    body = []
    for stmt in module.body:
        decorators = getattr(stmt, "decorators", ())
        if (isinstance(stmt, cst.FunctionDef) and len(decorators) == 1
                and isinstance(call := decorators[0].decorator, cst.Call)
                and isinstance(call.func, cst.Name) and call.func.value == "validate_params"):
            name = stmt.name.value
            body.append(stmt.with_changes(decorators=[]))
            body.append(cst.parse_statement(f"{name} = {module.code_for_node(call)}({name})"))
        else:
            body.append(stmt)
    return module.with_changes(body=body).code


def _scratch_copy(module: str, dest: Path) -> None:
    """The repository's code and tests in ``dest``, with ``[tool.mutmut]`` narrowed to ``module``."""
    for name in ("theory_rl", "tests", "experiments", "benchmarks"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    text = (ROOT / "pyproject.toml").read_text()
    head, sep, _ = text.partition("[tool.mutmut]")
    if not sep:
        raise SystemExit("pyproject.toml has no [tool.mutmut] section")
    base = tomllib.loads(text)["tool"]["mutmut"]
    files, tests = MODULES[module]
    for pattern in files:  # the mutated files: their validated functions made visible to mutmut
        for path in dest.glob(pattern):
            if path.suffix == ".py":
                path.write_text(expose_validated(path.read_text()))
    lines = ["[tool.mutmut]", 'source_paths = ["theory_rl"]', f"only_mutate = {json.dumps(files)}",
             f"also_copy = {json.dumps(base.get('also_copy', []))}",
             f"pytest_add_cli_args = {json.dumps(base.get('pytest_add_cli_args', []))}",
             f"pytest_add_cli_args_test_selection = {json.dumps(tests)}"]
    (dest / "pyproject.toml").write_text(head + "\n".join(lines) + "\n")


def _results(workdir: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=workdir,
                         capture_output=True, text=True, check=True, env=mutmut_environment()).stdout
    verdicts = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            verdicts[name] = status.strip()
    return verdicts


def run_module(module: str, jobs: int, workdir: Path | None = None) -> dict:
    """Run mutmut on one module; the summary (counts, score, survivors)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"mutation-{module}-")) if workdir is None else workdir
    _scratch_copy(module, scratch)
    proc = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)], cwd=scratch,
                          capture_output=True, text=True, env=mutmut_environment())
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"mutmut run failed for {module} (exit {proc.returncode}); scratch copy in {scratch}")
    verdicts = _results(scratch)
    equivalent = equivalent_mutants() & set(verdicts)
    counted = {n: v for n, v in verdicts.items() if n not in equivalent}
    killed = sum(v in KILLED for v in counted.values())
    survivors = sorted(n for n, v in counted.items() if v not in KILLED)
    score = 100.0 * killed / len(counted) if counted else float("nan")
    summary = {"module": module, "files": MODULES[module][0], "tests": MODULES[module][1], "mutants": len(verdicts),
               "equivalent": len(equivalent), "killed": killed, "survived": len(survivors),
               "score_percent": round(score, 1), "survivors": {n: counted[n] for n in survivors},
               "scratch": str(scratch)}
    if workdir is None:
        shutil.rmtree(scratch, ignore_errors=True)
        summary["scratch"] = None
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="bounds", choices=[*MODULES, *GROUPS, "all"])
    parser.add_argument("--jobs", type=int, default=1, help="mutmut's --max-children (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mutation")
    parser.add_argument("--keep", type=Path, default=None, help="scratch folder to keep (one module only)")
    parser.add_argument("--min-score", type=float, default=90.0)
    args = parser.parse_args(argv)
    modules = list(MODULES) if args.module == "all" else GROUPS.get(args.module, [args.module])
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for module in modules:
        summary = run_module(module, args.jobs, args.keep if len(modules) == 1 else None)
        (args.out / f"{module}.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"{module}: {summary['killed']} killed / {summary['mutants'] - summary['equivalent']} counted "
              f"({summary['equivalent']} equivalent) = {summary['score_percent']}%")
        for name, verdict in summary["survivors"].items():
            print(f"  survived: {name} ({verdict})")
        status |= summary["score_percent"] < args.min_score
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
