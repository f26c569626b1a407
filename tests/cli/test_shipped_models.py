"""The shipped models, where the real thing is the point: they load, generate and mostly parse."""
import chemgen
from chemgen.cli import main
from chemgen.model.estimator import DEFAULT_MODEL, shipped_models


def test_systematic_and_common_models_ship_and_load():
    assert {"systematic", "common"} <= set(shipped_models())
    assert chemgen.load("systematic").training_info_["n_train"] > 40_000
    assert chemgen.load("common").vocab_.chars != chemgen.load("systematic").vocab_.chars


def test_the_default_is_druglike_trained_on_the_full_corpus():
    assert DEFAULT_MODEL == "druglike" and "druglike" in shipped_models()
    default = chemgen.load()
    assert default.net_config_ == chemgen.load("druglike").net_config_
    assert default.training_info_["n_train"] >= 300_000
    assert (default.net_config_.hidden_size, default.net_config_.num_layers) == (512, 2)


def test_default_model_samples_valid_structures_at_temperature_one():
    """The model card gives 87.8% of 10,000 samples at T = 1.0; 200 are enough to catch a worse model."""
    names = [c.name for c in chemgen.load().sample(200, temperature=1.0, random_state=0)]
    results = chemgen.check(names, filters=["opsin", "rdkit"])
    assert sum(c.passed for c in results) / len(results) >= 0.8


def test_generate_with_no_model_argument(capsys):
    assert main(["generate", "-n", "5", "--seed", "0", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and all(",true," in line for line in lines[1:])


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))])


def test_readme_evaluates_each_model_against_its_own_corpus():
    """A `chemgen evaluate` example (README, docs) takes its --reference and --train from the corpus of the model it
    measures."""
    import re
    import shlex

    commands = [line.split("`")[0] for line in re.findall(r"chemgen evaluate [^\n]+", DOCS)]
    assert any('--reference datasets/' in c for c in commands)  # the docs do measure a shipped model
    for command in commands:
        words = shlex.split(command.replace("\\", " "))
        flag = {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("--")}
        corpus = flag.get("--model", DEFAULT_MODEL)
        if corpus not in shipped_models():
            continue  # a user's own model is measured against their own files
        for data in (flag.get("--reference"), flag.get("--train")):
            assert data is None or data.startswith(f"datasets/{corpus}/"), command


def test_readme_names_the_shipped_models_without_a_training_curve():
    import re

    sentence = re.search(r"older files, ([^.]*)show \"no curve recorded\"([^.]*)\.", DOCS.replace("\n", " "))
    without = set(re.findall(r"`(\w+)`", sentence.group(1)))
    with_curve = set(re.findall(r"`(\w+)`", sentence.group(2)))
    assert without == {name for name in shipped_models() if not chemgen.load(name).history_}
    assert with_curve == {name for name in shipped_models() if chemgen.load(name).history_}
