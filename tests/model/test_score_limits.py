"""Scoring keeps memory bounded by the batch whatever the line lengths: a name over MAX_NAME_CHARS is an
error for that name only, and a batch holds no more names than SCORE_BYTES of activations allow."""
import time
import tracemalloc

import numpy as np
import pytest

from chemgen.cli import main
from chemgen.errors import ChemgenError
from chemgen.model import score
from chemgen.model.score import MAX_NAME_CHARS, score_names

HUGE = "methyl" * 200_000  # one line of 1.2 million characters, every one in the tiny model's vocabulary


def _traced_peak(work):
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_name_over_the_limit_is_an_error_for_that_name_only(tiny_model):
    at_limit, over = "e" * MAX_NAME_CHARS, "e" * (MAX_NAME_CHARS + 1)
    records = list(score_names(tiny_model.learned_, ["ethane", over, "methane", at_limit], chunk=3))
    assert [r.error for r in records] == ["", "name longer than 1,000 characters", "", ""]
    assert records[1].logp is None and records[1].n_chars == 1001
    np.testing.assert_allclose([records[0].logp, records[2].logp, records[3].logp],
                               tiny_model.score(["ethane", "methane", at_limit]), rtol=1e-5)


def test_the_api_refuses_a_name_over_the_limit_in_one_line(tiny_model):
    with pytest.raises(ChemgenError, match="name 2 is 1,200,000 characters long: the model scores names of at "
                                           "most 1,000"):
        tiny_model.score(["ethane", HUGE])


def test_a_line_of_1_2_million_characters_does_not_grow_memory(tiny_model):
    start = time.perf_counter()
    records, peak = _traced_peak(lambda: list(score_names(tiny_model.learned_, iter(["ethane", HUGE, "propane"]))))
    assert [r.error for r in records] == ["", "name longer than 1,000 characters", ""]
    assert records[1].n_chars == 1_200_000 and records[0].logp < 0 and records[2].logp < 0
    assert peak < 2_000_000  # far below the line itself (1.2 MB as text, gigabytes as activations)
    assert time.perf_counter() - start < 5


def test_cli_score_gives_the_long_line_its_row(capsys, tiny_model_path, tmp_path):
    path = tmp_path / "names.txt"
    path.write_text(f"ethane\n{HUGE}\npropane\n")
    code, peak = _traced_peak(lambda: main(["score", "--model", str(tiny_model_path), str(path)]))
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(rows) == 4
    assert rows[2][0].startswith("methylmethyl") and rows[2][1:] == ["", "", "1200000",
                                                                     "name longer than 1,000 characters"]
    assert float(rows[1][1]) < 0 and float(rows[3][1]) < 0
    assert peak < 64_000_000  # the line and its printed form, never its activations


def test_batches_stay_within_the_activation_budget(tiny_model, monkeypatch):
    assert score.batch_rows(tiny_model.learned_.config, 50) == score.SCORE_BATCH  # short names: full batches
    monkeypatch.setattr(score, "SCORE_BYTES", 8 << 20)
    config = tiny_model.learned_.config
    rows = score.batch_rows(config, MAX_NAME_CHARS)
    assert 1 <= rows < 100 and rows * (MAX_NAME_CHARS + 1) * score.bytes_per_char(config) <= 8 << 20
    names = [("methyl" * 200)[: MAX_NAME_CHARS - k] for k in range(100)]
    logps, peak = _traced_peak(lambda: tiny_model.score(names))
    assert peak < 12 << 20  # 100 names of ~1,000 characters in one batch would hold ~150 MB
    np.testing.assert_allclose(logps[:3], [tiny_model.score([n])[0] for n in names[:3]], rtol=1e-5)
