"""The shipped models, where the real thing is the point: they load, generate and mostly parse."""
import chemgen
from chemgen.cli import main
from chemgen.model.estimator import DEFAULT_MODEL, shipped_models


def test_systematic_and_common_models_ship_and_load():
    assert {"systematic", "common"} <= set(shipped_models())
    default = chemgen.load()
    assert default.training_info_["n_train"] > 40_000
    assert chemgen.load(DEFAULT_MODEL).net_config_ == default.net_config_
    assert chemgen.load("common").vocab_.chars != default.vocab_.chars


def test_default_model_samples_mostly_valid_structures():
    results = chemgen.check([c.name for c in chemgen.load().sample(200, random_state=0)], filters=["opsin", "rdkit"])
    assert sum(c.passed for c in results) / len(results) > 0.5


def test_generate_with_no_model_argument(capsys):
    assert main(["generate", "-n", "5", "--seed", "0", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and all(",true," in line for line in lines[1:])
