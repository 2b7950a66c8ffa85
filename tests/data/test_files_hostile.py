"""Issue 13 [hardening]: dataset files under hostile manifests, corrupt arrays and interrupted saves.

``load`` either returns exactly the dataset that was saved or raises one ValueError naming the file; ``save`` writes
both files or neither, and a pair from two different saves is refused.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theory_rl import data, generators

FIELDS = ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob")


def _datasets():
    disc = generators.garnet(S=4, A=2, branching=2, gamma=0.9, seed=0)
    epi = generators.garnet(S=3, A=2, branching=2, horizon=3, seed=0)
    samples = data.sample_iid(disc, np.full((4, 2), 1 / 8), 20, seed=1)
    episodic = data.sample_trajectories(epi, np.zeros((3, 3), int), 4, seed=2)
    return {"samples": samples, "counts": samples.to_counts(), "episodic": episodic,
            "episodic_counts": episodic.to_counts()}


DATASETS = _datasets()


def _fields(d):
    return FIELDS if isinstance(d, data.OfflineDataset) else ("counts", "transition_counts", "reward_sums")


def _same(a, b) -> bool:
    if type(a) is not type(b) or (a.S, a.A, a.gamma, a.horizon) != (b.S, b.A, b.gamma, b.horizon):
        return False
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in _fields(a))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
KEYS = ("format", "kind", "S", "A", "gamma", "horizon", "n", "meta", "save_id", "extra")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(DATASETS)),
       edits=st.lists(st.tuples(st.sampled_from(KEYS), st.none() | JSON_VALUES, st.booleans()), max_size=3))
def test_hostile_manifest_loads_the_saved_dataset_or_is_refused_naming_the_file(tmp_path_factory, which, edits):
    folder = tmp_path_factory.mktemp("hostile")
    original = DATASETS[which]
    original.save(folder / "d")
    manifest = json.loads((folder / "d.json").read_text())
    for key, value, delete in edits:
        if delete:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    (folder / "d.json").write_text(json.dumps(manifest))
    try:
        back = data.load(folder / "d")
    except ValueError as err:
        assert str(folder / "d") in str(err), err  # one ValueError naming the file
    else:  # what the files say, never a coercion: the saved arrays, and gamma / horizon as the manifest states them
        assert (back.gamma, back.horizon) == (manifest["gamma"], manifest["horizon"])
        assert type(back.gamma) is type(manifest["gamma"]) and type(back.horizon) is type(manifest["horizon"])
        as_saved = type(original)(**{f: getattr(original, f) for f in _fields(original)}, S=original.S,
                                  A=original.A, gamma=back.gamma, horizon=back.horizon, meta={})
        assert _same(back, as_saved), f"loaded a different dataset from manifest {manifest}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(DATASETS)), cut=st.integers(0, 4000), flip=st.integers(0, 4000),
       byte=st.integers(0, 255))
def test_corrupt_npz_loads_the_saved_dataset_or_is_refused_naming_the_file(tmp_path_factory, which, cut, flip, byte):
    folder = tmp_path_factory.mktemp("corrupt")
    original = DATASETS[which]
    original.save(folder / "d")
    blob = bytearray((folder / "d.npz").read_bytes())
    if flip < len(blob):
        blob[flip] = byte
    (folder / "d.npz").write_bytes(bytes(blob[: max(cut, len(blob) // 2)]))
    try:
        back = data.load(folder / "d")
    except ValueError as err:
        assert str(folder / "d") in str(err), err
    else:  # a flipped byte inside an array's data is not detectable without a checksum: then it must still be valid
        assert type(back) is type(original)


def test_each_corruption_class_is_one_clear_error(tmp_path):
    ds = DATASETS["samples"]
    stem = tmp_path / "d"

    def fresh():
        ds.save(stem)
        return json.loads((tmp_path / "d.json").read_text())

    def manifest_case(edit, match):
        m = fresh()
        edit(m)
        (tmp_path / "d.json").write_text(json.dumps(m))
        with pytest.raises(ValueError, match=match) as info:
            data.load(stem)
        assert str(stem) in str(info.value)

    manifest_case(lambda m: m.update(n=999), "manifest says n = 999, but the arrays hold 20")
    manifest_case(lambda m: m.update(gamma=1.5), r"gamma is 1.5, expected a discount factor in \[0, 1\)")
    manifest_case(lambda m: m.update(gamma=-3), "gamma is -3")
    manifest_case(lambda m: m.update(horizon=3), "not both")
    manifest_case(lambda m: m.update(kind="weird"), "kind 'weird'")
    manifest_case(lambda m: m.update(S=10**30), "more than this machine")
    manifest_case(lambda m: m.pop("S"), "lacks the entries")
    for text, match in (('{"format": "theory_rl.dataset/1", "ki', "not valid JSON"),
                        ("[" * 100_000 + "]" * 100_000, "not valid JSON: RecursionError"),
                        ("\xff\xfe", "not valid JSON")):
        fresh()
        (tmp_path / "d.json").write_bytes(text.encode("latin-1"))
        with pytest.raises(ValueError, match=match):
            data.load(stem)

    def npz_case(blob, match):
        fresh()
        (tmp_path / "d.npz").write_bytes(blob)
        with pytest.raises(ValueError, match=match) as info:
            data.load(stem)
        assert str(stem) in str(info.value)

    good = (fresh(), (tmp_path / "d.npz").read_bytes())[1]
    npz_case(good[:100], "not a valid .npz.*BadZipFile")
    npz_case(b"", "not a valid .npz")
    npy = io.BytesIO()
    np.save(npy, np.zeros(3))
    npz_case(npy.getvalue(), "not a valid .npz")
    # a header that declares 10**11 entries (745 GiB) in 80 bytes: refused before numpy allocates
    lying = io.BytesIO()
    np.lib.format.write_array_header_1_0(lying, {"descr": "<i8", "fortran_order": False, "shape": (10**11,)})
    lying.write(b"\0" * 80)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("state.npy", lying.getvalue())
    npz_case(z.getvalue(), r"declares shape \(100000000000,\)")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        buf = io.BytesIO()
        np.save(buf, np.array([{}, 1], dtype=object), allow_pickle=True)
        zf.writestr("state.npy", buf.getvalue())
    npz_case(z.getvalue(), "pickled objects")


def test_save_is_both_or_neither(tmp_path, monkeypatch):
    ds = DATASETS["samples"]
    # a meta value JSON cannot hold: refused before anything is written
    bad = data.OfflineDataset(*(getattr(ds, f) for f in FIELDS), ds.S, ds.A, ds.gamma, ds.horizon, {"x": object()})
    with pytest.raises(ValueError, match="meta cannot be saved as JSON"):
        bad.save(tmp_path / "bad")
    assert os.listdir(tmp_path) == []
    # a save interrupted between its two renames: the new .npz beside the old manifest is refused, not loaded
    ds.save(tmp_path / "d")
    other = DATASETS["samples"].subset(np.arange(10))
    real_replace = os.replace
    calls = []

    def crash_on_manifest(src, dst):
        calls.append(dst)
        if str(dst).endswith(".json"):
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(OSError, match="simulated"):
        other.save(tmp_path / "d")
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(os.listdir(tmp_path)) == ["d.json", "d.npz"]  # no temporaries left behind
    with pytest.raises(ValueError, match="from two different saves"):
        data.load(tmp_path / "d")
    ds.save(tmp_path / "d")
    assert _same(data.load(tmp_path / "d"), ds)


def test_a_compressed_array_too_big_for_memory_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    # a zip bomb: a small compressed member that inflates beyond memory (here: memory shrunk to 1000 bytes)
    import theory_rl._validation as validation

    ds = DATASETS["samples"]
    ds.save(tmp_path / "d")
    with np.load(tmp_path / "d.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["state"] = np.zeros(10_000, dtype=np.int64)
    np.savez_compressed(tmp_path / "d.npz", **arrays)
    monkeypatch.setattr(validation, "MEMORY_BYTES", 1000)
    with pytest.raises(ValueError, match=r"d.npz: array 'state' asks for 1e\+04 entries"):
        data.load(tmp_path / "d")
