"""Hostile model files: declared sizes are checked against the archive and a ceiling before anything is
allocated, and members are read with a size cap (a zip bomb is refused, not inflated)."""
import io
import json
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from chemgen import CharRNN
from chemgen.errors import ModelFileError
from chemgen.model import modelfile
from chemgen.model.network import NetConfig, expected_shapes

PEAK = 20 << 20  # bytes a refusal may allocate, at most (the tiny model file itself is under 1 MB)


def _with_config(src, dst, **changes):
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    meta["config"].update(changes)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(dst, **arrays)
    return dst


def _refused(path, match):
    """Load path expecting a one-line ModelFileError; the peak of memory traced while refusing."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as info:
            CharRNN.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value)
    return peak


@pytest.mark.parametrize("field, value", [("hidden_size", 10**9), ("num_layers", 10**9), ("embed", 10**9),
                                          ("vocab_size", 10**9), ("hidden_size", 2.5), ("hidden_size", -1)])
def test_absurd_declared_sizes_are_one_line_errors(tiny_model_path, tmp_path, field, value):
    path = _with_config(tiny_model_path, tmp_path / "absurd.npz", **{field: value})
    assert _refused(path, "layers|ceiling|inconsistent|do not match") < PEAK


def test_declared_size_is_checked_against_the_archive_before_allocating(tiny_model_path, tmp_path):
    # the tiny model's hidden_size is 48: 5000 would be about 300 MB of float32 parameters (below the ceiling)
    path = _with_config(tiny_model_path, tmp_path / "h5000.npz", hidden_size=5000)
    assert path.stat().st_size < 1_000_000
    assert _refused(path, r"parameter l0\.\w+ has shape \(\d+, \d+\), expected \(15000, \w+\)") < PEAK


def _zip(path, members):
    """A zip archive of (name, data as stored, crc, uncompressed size, method) members, written by hand so
    that the sizes it declares are whatever the test says."""
    body, directory = bytearray(), bytearray()
    for name, data, crc, size, method in members:
        offset, raw = len(body), name.encode()
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(raw), 0)
        body += raw + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                                 len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path


def _stored_members(src):
    with zipfile.ZipFile(src) as archive:
        return [(i.filename, archive.read(i), i.CRC, i.file_size, zipfile.ZIP_STORED) for i in archive.infolist()]


def _npy_header(shape, dtype="<f4"):
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue()


def test_zip_bomb_is_refused_quickly_without_inflating(tiny_model_path, tmp_path):
    chunk, chunks = 1 << 20, 3900  # 3.9 GiB of zeros behind about 4 MB of deflate blocks
    header = _npy_header((chunk * chunks // 4,))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(bytes(chunk)) + deflate.flush(zlib.Z_FULL_FLUSH)  # the same bytes after each full flush
    data = head + block * chunks + deflate.flush(zlib.Z_FINISH)
    members = [m for m in _stored_members(tiny_model_path) if m[0] != "param/by.npy"]
    bomb = ("param/by.npy", data, 0, len(header) + chunk * chunks, zipfile.ZIP_DEFLATED)
    path = _zip(tmp_path / "bomb.npz", members + [bomb])
    assert path.stat().st_size < 5_000_000
    assert zipfile.ZipFile(path).getinfo("param/by.npy").file_size > 4_000_000_000
    start = time.perf_counter()
    assert _refused(path, "inflate to [\\d,]+ bytes, above the ceiling") < PEAK
    assert time.perf_counter() - start < 2.0


def test_member_holding_less_than_its_header_declares_is_refused(tiny_model_path, tmp_path):
    members = _stored_members(tiny_model_path)
    name, data, _, _, method = next(m for m in members if m[0] == "param/by.npy")
    lying = _npy_header((10**9,)) + data[-64:]  # says 4 GB, holds 64 bytes
    members = [m for m in members if m[0] != name] + [(name, lying, zlib.crc32(lying), len(lying), method)]
    path = _zip(tmp_path / "lying.npz", members)
    assert _refused(path, r"declares shape \(1000000000,\) but holds 64 bytes") < PEAK


def test_a_chemgen_file_with_a_lying_header_cannot_pass_as_smaller(tiny_model_path, tmp_path):
    # the zip directory and the .npy header agree on a size above the ceiling: refused before reading
    members = [m for m in _stored_members(tiny_model_path) if m[0] != "param/by.npy"]
    header = _npy_header((modelfile.MAX_MODEL_BYTES // 4 + 1,))
    big = ("param/by.npy", header, 0, len(header) + modelfile.MAX_MODEL_BYTES + 4, zipfile.ZIP_STORED)
    path = _zip(tmp_path / "big.npz", members + [big])
    assert _refused(path, "above the ceiling") < PEAK


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("embed", [0, 5])
@pytest.mark.parametrize("layers", [1, 3])
def test_declared_shapes_are_the_networks_shapes(cell, embed, layers):
    config = NetConfig(cell=cell, hidden_size=17, num_layers=layers, vocab_size=9, embed=embed)
    assert modelfile.declared_shapes(config) == expected_shapes(config)
    big = NetConfig(cell=cell, hidden_size=10**6, num_layers=layers, vocab_size=10**5, embed=embed and 10**4)
    shapes = modelfile.declared_shapes(big)  # nothing of this size is allocated
    assert shapes["Wya"] == (10**5, 10**6) and max(max(s) for s in shapes.values()) <= 4 * 10**6


def test_well_formed_files_still_load(tiny_model, tiny_model_path):
    loaded = CharRNN.load(tiny_model_path)
    np.testing.assert_array_equal(loaded.score(["ethane"]), tiny_model.score(["ethane"]))
