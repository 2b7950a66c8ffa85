"""Tests of theory_rl.generators."""
