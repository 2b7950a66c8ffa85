"""theory_rl: a theory-first toolkit for offline, online and hybrid RL on tabular and linear MDPs.

The package itself exports only its version; the API lives in the subpackages (``theory_rl.mdp``,
``theory_rl.planning``, ``theory_rl.data``, ``theory_rl.algorithms``, ...), imported explicitly.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
