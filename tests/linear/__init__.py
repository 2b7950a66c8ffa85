"""Tests of theory_rl.linear."""
