"""The HTML pages as files: self-contained, with the run's settings, pass rates and the training curve."""
import re
import sys

import pytest

from chemgen import CharRNN
from chemgen.cli import main
from chemgen.errors import ConfigError
from chemgen.output import writers
from chemgen.model import modelfile

from test_frames import results  # noqa: E402  (same folder)

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)|url\(\s*["']?\s*(?:https?:|//)|@import""", re.I)


def assert_self_contained(text):
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert not EXTERNAL.search(text), EXTERNAL.search(text).group(0)
    assert "<link" not in text


def test_html_writer_page(tmp_path):
    res = results(5)
    res[0].properties["scaffold"] = "c1ccccc1"
    path = tmp_path / "hits.html"
    assert writers.write(res, path) == len(res)  # the format from the extension
    text = path.read_text()
    assert_self_contained(text)
    assert text.count("<tbody>") >= 1 and 'id="candidates"' in text
    for header in ("rank", "name", "canonical name", "log p", "MW", "cLogP", "QED", "scaffold", "novelty"):
        assert f">{header}</th>" in text, header
    assert "phenol" in text and "tiny.npz" in text and "opsin,rdkit" in text
    assert "6 of 50 passed (12.0%)" in text  # opsin's pass rate
    assert text.count("<svg") >= 5 and "<script>" in text and 'data-sort="num"' in text
    with pytest.raises(ConfigError, match="file path"):
        writers.write(res, __import__("io").StringIO(), "html")


def test_generate_html_page(html_pages):
    text = html_pages["hits"].read_text()
    assert_self_contained(text)
    assert "Run settings" in text and "Filter pass rates" in text and "opsin" in text
    assert text.count("<svg") >= 1 and ">seed</th><td>0<" in text


def test_generate_html_needs_output(capsys, tiny_model_path):
    assert main(["generate", "--model", str(tiny_model_path), "-n", "1", "--format", "html"]) == 2
    assert "--output" in capsys.readouterr().err


def test_evaluate_report(html_pages):
    text = html_pages["report"].read_text()
    assert_self_contained(text)
    assert text.count('src="data:image/png;base64,') == 8  # seven distributions and the training curve
    assert "held-out NLL" in text and ">reference</th>" in text
    assert "Sampled structures" in text and "<svg" in text
    assert "no curve recorded" not in text


def test_report_without_matplotlib_fails_before_work(monkeypatch, tmp_path, capsys, tiny_model_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "r.html"
    assert main(["evaluate", "--model", str(tiny_model_path), "--samples", "5", "--report", str(out)]) == 2
    assert "chemgen[notebook]" in capsys.readouterr().err and not out.exists()


def test_model_file_keeps_the_training_curve(tiny_model, tmp_path):
    path = tmp_path / "m.npz"
    tiny_model.save(path)
    loaded = CharRNN.load(path)
    assert [row["step"] for row in loaded.history_] == [row["step"] for row in tiny_model.history_]
    assert loaded.history_[-1]["valid_loss"] == pytest.approx(float(tiny_model.history_[-1]["valid_loss"]))
    assert "history" not in loaded.training_info_
    loaded.save(tmp_path / "again.npz")  # the curve survives a load and save
    assert CharRNN.load(tmp_path / "again.npz").history_ == loaded.history_


def test_files_written_while_training_carry_the_curve(corpus, tmp_path):
    best = tmp_path / "best.npz"
    CharRNN(hidden_size=8, steps=20, batch_size=8, eval_every=10, n_print=0, valid_fraction=0.0,
            random_state=0).fit(corpus[:50], best_path=best)
    history = CharRNN.load(best).history_
    assert [row["step"] for row in history] == [10, 20]
    assert all(row["valid_loss"] is None for row in history)  # NaN (no validation names) stored as null


def test_model_report(tiny_model_path, tmp_path):
    out = tmp_path / "card.html"
    assert main(["report", str(tiny_model_path), "--output", str(out)]) == 0
    text = out.read_text()
    assert_self_contained(text)
    assert "GRU" in text and text.count("data:image/png;base64,") == 1


def test_report_without_a_model_is_the_shipped_defaults_page(tmp_path, capsys):
    from chemgen.model.config import DEFAULT_MODEL
    from chemgen.model.estimator import resolve_model

    default, named = tmp_path / "default.html", tmp_path / "named.html"
    assert main(["report", "--output", str(default)]) == 0
    assert f"wrote the model report to {default}" in capsys.readouterr().err
    text = default.read_text()
    assert_self_contained(text)
    assert f"<h1>chemgen model: {DEFAULT_MODEL}.npz</h1>" in text and str(resolve_model()) in text
    assert main(["report", DEFAULT_MODEL, "--output", str(named)]) == 0
    assert named.read_text() == text


def test_model_report_of_an_old_file_says_no_curve(tiny_model, tmp_path):
    old = tmp_path / "old.npz"
    modelfile.write_model(old, tiny_model.learned_, tiny_model.get_params(), dict(tiny_model.training_info_))
    assert CharRNN.load(old).history_ == []
    out = tmp_path / "card.html"
    assert main(["report", str(old), "-o", str(out)]) == 0
    assert "no curve recorded" in out.read_text()


def test_an_html_output_name_asks_for_the_page(tiny_model_path, tmp_path):
    out = tmp_path / "picked.html"
    assert main(["generate", "--model", str(tiny_model_path), "-n", "2", "--seed", "0", "--filters", "none",
                 "--output", str(out)]) == 0
    text = out.read_text()
    assert_self_contained(text)
    assert "no structure" in text  # raw names: drawn where a structure is known only
