"""The mutation-testing command's configuration (issue 14, item 3): its decorator rewrite keeps behaviour, its test
selections exist, and the equivalent-mutant table is well formed."""

from pathlib import Path

from benchmarks.mutation import GROUPS, MODULES, equivalent_mutants, expose_validated

ROOT = Path(__file__).resolve().parents[1]


def test_expose_validated_moves_the_decorator_below_the_function():
    code = (
        "from theory_rl._validation import Integer, validate_params\n\n\n"
        "@validate_params(n=Integer(1),\n                 k=Integer(0))  # fmt: skip\n"
        "def f(n, k=0):\n    return n + k\n\n\n"
        "def g(x):\n    return x\n"
    )
    out = expose_validated(code)
    assert "@validate_params" not in out
    assert "f = validate_params(n=Integer(1),\n                 k=Integer(0))(f)" in out
    namespace = {}
    exec(compile(out, "<rewritten>", "exec"), namespace)
    assert namespace["f"](2, k=3) == 5 and namespace["f"].__validated__.keys() == {"n", "k"}
    try:
        namespace["f"](0)
    except ValueError as err:
        assert "n is 0" in str(err)
    else:
        raise AssertionError("the rewritten function lost its validation")
    assert expose_validated("def g(x):\n    return x\n") == "def g(x):\n    return x\n"


def test_every_selection_exists_and_equivalents_name_configured_modules():
    for files, tests in MODULES.values():
        for pattern in files:
            assert list(ROOT.glob(pattern)), pattern
        for test in tests:
            assert (ROOT / test).exists(), test
    prefixes = tuple(
        p.replace("/", ".").removesuffix(".py").removesuffix("*").rstrip(".") + "." for ps, _ in MODULES.values()
        for p in ps
    )
    names = equivalent_mutants()
    assert names and all(name.startswith(prefixes) for name in names), sorted(
        n for n in names if not n.startswith(prefixes))


def test_the_data_parts_cover_every_data_module_once():
    assert all(part in MODULES for parts in GROUPS.values() for part in parts)
    files = [f for part in GROUPS["data"] for f in MODULES[part][0]]
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "theory_rl" / "data").glob("*.py"))
    assert sorted(files) == [m for m in modules if not m.endswith("__init__.py")]


def test_mutmut_children_survive_a_fork_after_a_parallel_kernel():
    # mutmut forks each mutant's test process from one server: under numba's OpenMP layer a fork after a
    # prange kernel raises SIGTERM in the child (mutmut's "suspicious"); the environment given to mutmut avoids it
    import subprocess
    import sys

    from benchmarks.mutation import mutmut_environment

    script = (
        "import os\nfrom numba import njit, prange\n"
        "@njit(parallel=True)\ndef f(n):\n    s = 0.0\n    for i in prange(n):\n        s += i\n    return s\n"
        "f(10)\npid = os.fork()\n"
        "if pid == 0:\n    f(10)\n    os._exit(0)\n"
        "print(os.waitpid(pid, 0)[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=mutmut_environment(), capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["0"], out.stdout + out.stderr
