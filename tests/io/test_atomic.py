"""Output paths: devices, FIFOs and symlinks survive; errors name the user's path; checks come before work."""
import os
import threading

import pytest

from chemgen.errors import ChemgenError, ConfigError
from chemgen.io.atomic import atomic_text, check_writable


def test_dev_null_is_written_in_place():
    with atomic_text("/dev/null") as out:
        out.write("nothing\n")
    assert not os.path.isfile("/dev/null") and os.path.exists("/dev/null")


def test_a_fifo_is_written_in_place_for_its_reader(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo).read()))
    reader.start()
    with atomic_text(fifo) as out:
        out.write("ethanol\n")
    reader.join(timeout=10)
    assert received == ["ethanol\n"] and not fifo.is_file() and fifo.exists()


def test_a_symlink_keeps_pointing_at_its_rewritten_target(tmp_path):
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_text("old\n")
    link.symlink_to(target)
    with atomic_text(link) as out:
        out.write("new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("kept\n")
    with pytest.raises(RuntimeError):
        with atomic_text(path) as out:
            out.write("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "kept\n" and os.listdir(tmp_path) == ["out.csv"]


def test_a_missing_directory_is_refused_and_never_created(tmp_path):
    path = tmp_path / "missing" / "out.csv"
    with pytest.raises(ConfigError, match=f"cannot write --output {path}: no such directory"):
        check_writable(path, "--output")
    with pytest.raises(ChemgenError, match="no such directory"):
        with atomic_text(path) as out:
            out.write("x")
    assert not path.parent.exists()


def test_errors_name_the_users_path_not_a_temporary_file(tmp_path):
    with pytest.raises(ChemgenError) as info:
        with atomic_text("/dev/full") as out:
            out.write("x" * 100_000)
    assert "/dev/full" in str(info.value) and ".tmp" not in str(info.value)
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


def test_a_directory_is_not_an_output_file(tmp_path):
    with pytest.raises(ConfigError, match="it is a directory"):
        check_writable(tmp_path, "--output")


def test_a_full_disk_while_saving_a_model_keeps_the_previous_file(tiny_model, tmp_path, monkeypatch):
    import errno

    import chemgen.model.modelfile as modelfile

    path = tmp_path / "m.npz"
    tiny_model.save(path)
    before = path.read_bytes()

    def full_disk(handle, **arrays):
        handle.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(modelfile.np, "savez", full_disk)
    with pytest.raises(ChemgenError) as info:
        tiny_model.save(path)
    assert str(info.value) == f"cannot write {path}: No space left on device"
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.npz"]


def test_a_process_substitution_path_is_written_in_place():
    read_end, write_end = os.pipe()  # what >(cmd) hands over as /dev/fd/N
    try:
        with atomic_text(f"/dev/fd/{write_end}") as out:
            out.write("ethanol\n")
    finally:
        os.close(write_end)
    assert os.read(read_end, 100) == b"ethanol\n"
    os.close(read_end)


def test_check_distinct_follows_symlinks_and_hard_links(tmp_path):
    from chemgen.io.atomic import check_distinct

    model = tmp_path / "m.npz"
    model.write_bytes(b"model")
    (tmp_path / "link.csv").symlink_to(model)
    os.link(model, tmp_path / "hard.csv")
    for output in (model, tmp_path / "link.csv", tmp_path / "hard.csv", tmp_path / "sub" / ".." / "m.npz"):
        with pytest.raises(ConfigError, match=r"^--output .* is the same file as --model .*m\.npz \(an input\)"):
            check_distinct({"--model": model}, {"--output": output})
    with pytest.raises(ConfigError, match=r"^--image .*x\.png is the same file as --output .*x\.png \(another"):
        check_distinct({}, {"--output": tmp_path / "x.png", "--image": tmp_path / "." / "x.png"})
    check_distinct({"--model": model, "names": "-"}, {"--output": tmp_path / "out.csv", "--json": "-",
                                                      "--image": None})
    check_distinct({"--model": "/dev/null"}, {"--output": "/dev/null"})  # a device is shared, never replaced
