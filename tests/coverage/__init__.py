"""Tests of theory_rl.coverage."""
