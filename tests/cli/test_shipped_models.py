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
