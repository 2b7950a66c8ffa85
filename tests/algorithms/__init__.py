"""Tests of theory_rl.algorithms."""
