"""chemgen generate's sampling and output flags, each checked against what it must do; the API's pass-through;
chemgen filters and --version."""
import csv
import io

import numpy as np
import pytest

import chemgen
from chemgen.cli import main


def generate(capsys, model_path, *flags):
    """(stdout, stderr) of a successful in-process `chemgen generate --seed 0 ...`."""
    code = main(["generate", "--model", str(model_path), "--seed", "0", *map(str, flags)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def names_of(capsys, model_path, *flags):
    return generate(capsys, model_path, "--format", "names", *flags)[0].splitlines()


def api_names(model, **settings):
    return [c.name for c in chemgen.generate(model=model, seed=0, **settings)]


def balanced(name):
    depth = 0
    for char in name:
        depth += (char == "(") - (char == ")")
        if depth < 0:
            return False
    return depth == 0


@pytest.fixture(scope="module")
def bracket_model_path(corpus, tmp_path_factory):
    """A barely trained model of names with brackets: left to itself, it often leaves one open or closes none."""
    names = [f"2-({name})" for name in corpus[:300]] + corpus[300:600]
    path = tmp_path_factory.mktemp("models") / "brackets.npz"
    chemgen.CharRNN(cell="gru", hidden_size=16, steps=40, batch_size=16, eval_every=40, n_print=0,
                    random_state=0).fit(names).save(path)
    return path


# ---------------------------------------------------------------- sampling flags


def test_top_k_1_gives_the_greedy_name_and_keep_duplicates_keeps_every_copy(tiny_model, tiny_model_path, capsys):
    greedy = tiny_model.sample(1, top_k=1, random_state=0)[0].name
    assert names_of(capsys, tiny_model_path, "-n", 4, "--top-k", 1, "--filters", "none",
                    "--keep-duplicates") == [greedy] * 4
    out, err = generate(capsys, tiny_model_path, "-n", 4, "--top-k", 1, "--filters", "none", "--max-tries", 100,
                        "--format", "names")
    assert out.splitlines() == [greedy]
    assert "tried 100, kept 1 (duplicates dropped 99)" in err and "only 1 of 4 candidates passed" in err


def test_prefix_starts_every_name(tiny_model, tiny_model_path, capsys):
    names = names_of(capsys, tiny_model_path, "-n", 10, "--prefix", "2-chloro", "--filters", "none")
    assert len(names) == 10 and all(name.startswith("2-chloro") for name in names)
    assert names == api_names(tiny_model, n=10, filters="none", prefix="2-chloro")
    assert not all(name.startswith("2-chloro") for name in names_of(capsys, tiny_model_path, "-n", 10,
                                                                       "--filters", "none"))


def test_rank_by_logp_per_char_orders_the_rows_by_it(tiny_model, tiny_model_path, capsys):
    rows = list(csv.DictReader(io.StringIO(generate(capsys, tiny_model_path, "-n", 15, "--filters", "none",
                                                    "--rank-by", "logp-per-char", "--format", "csv")[0])))
    per_char = [float(row["logp_per_char"]) for row in rows]
    assert len(rows) == 15 and per_char == sorted(per_char, reverse=True)
    assert [row["name"] for row in rows] == api_names(tiny_model, n=15, filters="none", rank_by="logp-per-char")
    logps = [float(row["logp"]) for row in rows]
    assert logps != sorted(logps, reverse=True)  # another order than the default key's
    by_logp = names_of(capsys, tiny_model_path, "-n", 15, "--filters", "none")
    assert by_logp == api_names(tiny_model, n=15, filters="none") != [row["name"] for row in rows]


def test_no_grammar_samples_the_model_as_it_is(bracket_model_path, capsys):
    flags = ("-n", 50, "--filters", "none", "--keep-duplicates", "--max-length", 60)
    with_grammar = names_of(capsys, bracket_model_path, *flags)
    without = names_of(capsys, bracket_model_path, *flags, "--no-grammar")
    assert len(with_grammar) == len(without) == 50
    assert all(balanced(name) for name in with_grammar)
    assert sum(not balanced(name) for name in without) >= 10
    model = chemgen.load(str(bracket_model_path))
    assert without == api_names(model, n=50, filters="none", dedupe=False, max_length=60, grammar=False)


def test_the_api_passes_temperature_top_k_and_prefix_to_the_sampler(tiny_model):
    def run(**settings):
        return chemgen.generate(20, model=tiny_model, filters="none", seed=0, dedupe=False, **settings)

    base, cold = run(), run(temperature=0.5)
    assert [c.name for c in run()] == [c.name for c in base]  # the same settings draw the same names
    assert [c.name for c in cold] != [c.name for c in base] and cold.settings["temperature"] == 0.5
    for results in (base, cold):  # logp is the model's, whatever the temperature
        assert [c.logp for c in results] == pytest.approx(list(tiny_model.score([c.name for c in results])), rel=1e-5)
    assert np.mean([c.logp for c in cold]) > np.mean([c.logp for c in base])  # a colder draw: likelier names
    greedy = tiny_model.sample(1, top_k=1, random_state=0)[0].name
    assert [c.name for c in run(top_k=1)] == [greedy] * 20
    prefixed = run(prefix="3-methyl")
    assert all(c.name.startswith("3-methyl") for c in prefixed) and prefixed.settings["prefix"] == "3-methyl"


# ---------------------------------------------------------------- structures out: SDF and the image


def test_sdf_and_png_of_real_structures(tiny_model, tiny_model_path, tmp_path, capsys):
    from PIL import Image
    from rdkit import Chem

    from chemgen.chem.opsin import OpsinProcess

    sdf, png = tmp_path / "hits.sdf", tmp_path / "grid.png"
    _, err = generate(capsys, tiny_model_path, "-n", 3, "--filters", "opsin,rdkit", "--format", "sdf", "--output",
                      sdf, "--image", png)
    assert f"wrote 3 structures to {sdf}" in err and f"drew 3 structures to {png}" in err
    mols = list(Chem.SDMolSupplier(str(sdf)))
    assert len(mols) == 3 and all(mol is not None for mol in mols)
    names = [mol.GetProp("_Name") for mol in mols]
    assert [mol.GetProp("rank") for mol in mols] == ["1", "2", "3"]
    assert [float(mol.GetProp("logp")) for mol in mols] == pytest.approx(list(tiny_model.score(names)), abs=1e-4)
    with OpsinProcess() as opsin:
        parsed = [Chem.MolToSmiles(Chem.MolFromSmiles(r.smiles)) for r in opsin.parse(names)]
    assert [Chem.MolToSmiles(mol) for mol in mols] == parsed  # each record is its name's structure
    assert png.stat().st_size > 0
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (3 * 300, 300)  # one row of three 300 px cells
        image.load()


# ---------------------------------------------------------------- chemgen filters, --version


def test_filters_lists_every_installed_filter_with_its_source_and_status(capsys):
    from chemgen.filters import Verdict, discover_filters, inject_filter, remove_injected

    class Fine:
        name = "fine"

        def check(self, candidates):
            return [Verdict(True) for _ in candidates]

    def broken():
        raise RuntimeError("no licence")

    inject_filter("fine", Fine)
    inject_filter("broken", broken)
    try:
        assert main(["filters"]) == 0
        installed = sorted(discover_filters())
    finally:
        remove_injected("fine")
        remove_injected("broken")
    rows = [line.split(None, 2) for line in capsys.readouterr().out.splitlines()]
    assert [row[0] for row in rows] == installed
    builtins = {"canonical", "novel", "opsin", "pubchem", "rdkit", "similar", "substructure", "suffix"}
    assert builtins <= set(installed)
    by_name = {row[0]: row for row in rows}
    assert all(by_name[name][1] == f"chemgen[{name}]" for name in builtins)
    assert by_name["suffix"][2] == by_name["rdkit"][2] == "ready"
    assert by_name["fine"][1:] == ["injected", "ready"]
    assert by_name["broken"][1] == "injected" and "no licence" in by_name["broken"][2]


def test_version_is_the_packages(capsys):
    from chemgen.version import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"chemgen {__version__}\n"
