"""Tests of theory_rl.runner."""
