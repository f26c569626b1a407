import numpy as np

from chemgen.model.optim import SGD, Adam, clip, clip_global_norm


def test_clip_by_value_is_the_seeds_elementwise_clip():
    grads = {"a": np.array([-10.0, 0.5, 7.0])}
    clip(grads, 5.0)
    assert grads["a"].tolist() == [-5.0, 0.5, 5.0]


def test_clip_by_global_norm_scales_all_together():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}
    norm = clip_global_norm(grads, 1.0)
    assert norm == 5.0
    joint = np.sqrt(sum((g**2).sum() for g in grads.values()))
    assert abs(joint - 1.0) < 1e-5 and abs(grads["a"][0] / grads["b"][1] - 0.75) < 1e-9


def test_sgd_and_adam_minimise_a_quadratic():
    for optimizer in (SGD(0.1), Adam(0.1)):
        params = {"x": np.array([3.0, -2.0])}
        for _ in range(300):
            optimizer.update(params, {"x": 2 * params["x"]})
        assert np.abs(params["x"]).max() < 1e-2, optimizer.name


def test_adam_state_round_trip():
    adam = Adam(0.01)
    params = {"x": np.ones(3)}
    adam.update(params, {"x": np.ones(3)})
    other = Adam(0.01)
    other.load_state(adam.state(), adam.t)
    assert other.t == 1 and np.array_equal(other.m["x"], adam.m["x"]) and np.array_equal(other.v["x"], adam.v["x"])


def test_adam_takes_the_textbook_step():
    """Kingma & Ba's update in their efficient form (bias correction folded into the step size), three steps."""
    rng = np.random.default_rng(0)
    adam, params = Adam(0.01), {"x": rng.standard_normal(4)}
    x, m, v = params["x"].copy(), np.zeros(4), np.zeros(4)
    for t in range(1, 4):
        g = rng.standard_normal(4)
        adam.update(params, {"x": g.copy()})
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        x = x - 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(params["x"], x, rtol=1e-10)
