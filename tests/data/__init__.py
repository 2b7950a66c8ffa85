"""Tests of theory_rl.data."""
