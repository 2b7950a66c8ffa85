"""Tests of the experiments (experiments/) and the notebooks (notebooks/)."""
