"""theory_rl: a theory-first toolkit for offline, online and hybrid RL on tabular and linear MDPs."""

__version__ = "0.1.0"
