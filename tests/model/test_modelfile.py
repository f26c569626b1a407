import json
import pickle

import numpy as np
import pytest

import chemgen
from chemgen import CharRNN
from chemgen.errors import ModelFileError


def test_save_load_round_trip(tiny_model, tmp_path):
    path = tmp_path / "m.npz"
    tiny_model.save(path)
    loaded = chemgen.load(path)
    names = ["2-methylbutanol", "ethane"]
    np.testing.assert_array_equal(loaded.score(names), tiny_model.score(names))
    assert loaded.vocab_.chars == tiny_model.vocab_.chars
    assert loaded.net_config_ == tiny_model.net_config_
    np.testing.assert_array_equal(loaded.fingerprint_, tiny_model.fingerprint_)
    assert [c.name for c in loaded.sample(5, random_state=0)] == [c.name for c in tiny_model.sample(5, random_state=0)]


def test_file_is_plain_arrays_with_json_meta(tiny_model_path):
    with np.load(tiny_model_path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        assert all(archive[k].dtype != object for k in archive.files)
    assert meta["format"] == "chemgen-charrnn" and meta["format_version"] == 1
    assert meta["config"]["cell"] == "gru" and meta["vocab"]


def test_write_is_atomic_no_temp_left(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "a.npz")
    tiny_model.save(tmp_path / "a.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def _rewrite(src, dst, change):
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    change(arrays)
    np.savez(dst, **arrays)


def test_refuses_pickled_truncated_foreign_and_inconsistent_files(tiny_model_path, tmp_path):
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.array([{"x": 1}], dtype=object))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(tiny_model_path.read_bytes()[:2000])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    raw_pickle = tmp_path / "raw.npz"
    raw_pickle.write_bytes(pickle.dumps({"a": 1}))
    bad_shape = tmp_path / "shape.npz"
    _rewrite(tiny_model_path, bad_shape, lambda a: a.update({"param/Wya": np.zeros((3, 3), np.float32)}))
    bad_dtype = tmp_path / "dtype.npz"
    _rewrite(tiny_model_path, bad_dtype, lambda a: a.update({"param/by": a["param/by"].astype(np.int64)}))
    future = tmp_path / "future.npz"

    def bump(arrays):
        meta = json.loads(str(arrays["meta"]))
        meta["format_version"] = 99
        arrays["meta"] = np.array(json.dumps(meta))

    _rewrite(tiny_model_path, future, bump)
    expectations = {pickled: "pickled", truncated: "truncated|not an .npz", foreign: "not a chemgen model",
                    raw_pickle: "not an .npz", bad_shape: "shape", bad_dtype: "dtype", future: "version 99",
                    tmp_path / "missing.npz": "does not exist"}
    for path, message in expectations.items():
        with pytest.raises(ModelFileError, match=message):
            CharRNN.load(path)


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(ModelFileError, match="shipped models"):
        chemgen.load("no-such-model")


def test_unfitted_model_says_so():
    with pytest.raises(chemgen.ConfigError, match="not fitted"):
        CharRNN().sample(3)
