"""Tests of theory_rl.deep."""
