"""Optimizers (the seed's gradient descent, and Adam) and gradient clipping."""
from __future__ import annotations

import numpy as np

from chemgen.errors import ConfigError
from chemgen.io.names import quoted
from chemgen.model.cells import Params


def clip(gradients: Params, max_value: float) -> Params:
    """The seed's clip: every gradient entry into [-max_value, max_value], in place."""
    for grad in gradients.values():
        np.clip(grad, -max_value, max_value, out=grad)
    return gradients


def clip_global_norm(gradients: Params, max_norm: float) -> float:
    """Scale all gradients together so their joint L2 norm is at most max_norm; returns the norm before."""
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in gradients.values())))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for grad in gradients.values():
            grad *= scale
    return norm


class SGD:
    """Plain gradient descent, the seed's update: ``p -= lr * dp``."""

    name = "sgd"

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate
        self.t = 0

    def update(self, params: Params, grads: Params) -> None:
        self.t += 1
        for key, grad in grads.items():
            params[key] -= self.learning_rate * grad

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def load_state(self, state: dict[str, np.ndarray], t: int) -> None:
        self.t = t


class Adam:
    """Adam (Kingma & Ba) with bias correction; moments kept per parameter."""

    name = "adam"

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.t = 0
        self.m: Params = {}
        self.v: Params = {}
        self.scratch: Params = {}  # per parameter, reused every step

    def update(self, params: Params, grads: Params) -> None:
        """One step, in place: the moments, then the parameters, through one kept scratch array per parameter."""
        self.t += 1
        lr_t = float(self.learning_rate * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t))
        for key, grad in grads.items():
            m = self.m.setdefault(key, np.zeros_like(grad))
            v = self.v.setdefault(key, np.zeros_like(grad))
            scratch = self.scratch.setdefault(key, np.empty_like(grad))
            m *= self.beta1
            m += np.multiply(grad, 1 - self.beta1, out=scratch)
            v *= self.beta2
            scratch = np.multiply(grad, 1 - self.beta2, out=scratch)
            scratch *= grad
            v += scratch
            step = np.sqrt(v, out=scratch)  # lr_t * m / (sqrt(v) + eps)
            step += self.eps
            np.divide(m, step, out=step)
            step *= lr_t
            params[key] -= step

    def state(self) -> dict[str, np.ndarray]:
        """Moments as flat arrays named m/<param>, v/<param> (for checkpoints)."""
        out = {f"m/{k}": a for k, a in self.m.items()}
        out.update({f"v/{k}": a for k, a in self.v.items()})
        return out

    def load_state(self, state: dict[str, np.ndarray], t: int) -> None:
        self.t = t
        self.m = {k[2:]: np.array(a) for k, a in state.items() if k.startswith("m/")}
        self.v = {k[2:]: np.array(a) for k, a in state.items() if k.startswith("v/")}


OPTIMIZERS = {"adam": Adam, "sgd": SGD}
CLIPPERS = {"norm": clip_global_norm, "value": clip}  # clip kinds: global L2 norm, or the seed's elementwise clip


def make_optimizer(name: str, learning_rate: float):
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {quoted(name)}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](learning_rate)
