"""Recurrent cells (vanilla RNN, GRU, LSTM), each with its forward and backward pass.

Every cell works time-major over a whole padded batch. The input projection
for all time steps is one matrix product (or, for the first layer, a row
lookup: ``Wax @ one_hot(x)`` is column ``x`` of ``Wax``), so the Python loop
over time holds only the recurrent product and the elementwise gate maths.
Weights are stored (out, in) like the seed's ``Wax``/``Waa``; hidden states
are rows: ``h (B, H) = tanh(x @ Wax.T + h_prev @ Waa.T + ba)``.

A cell has ``init_params``, ``forward(params, X, state0) -> (H, state, cache)``
and ``backward(params, dH, cache) -> (grads, dX)``; ``step`` is the single-step
forward used by sampling. ``X`` is either float inputs (T, B, D) or int token
indices (T, B) for the first layer.
"""
from __future__ import annotations

from typing import Any

import numpy as np

Params = dict[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, computed through tanh so it never overflows."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def sigmoid_(x: np.ndarray) -> np.ndarray:
    """In-place logistic function (no temporaries)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def input_projection(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``X @ W.T + b`` for every time step; a row lookup when X holds token indices."""
    if X.dtype.kind in "iu":  # (T, B) tokens: embedding lookup == one-hot product
        return (W.T + b)[X]  # (T, B, G) rows of the biased table
    steps, batch, _ = X.shape
    return (X.reshape(steps * batch, -1) @ W.T).reshape(steps, batch, -1) + b  # (T, B, G)


def input_backward(W: np.ndarray, X: np.ndarray, dG: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradients of ``input_projection``: dW (G, D) and dX (T, B, D), or None for tokens."""
    steps, batch, gates = dG.shape
    dG2 = dG.reshape(steps * batch, gates)  # (T*B, G)
    if X.dtype.kind in "iu":  # scatter-add of rows, done as a one-hot product (far faster than np.add.at)
        one_hot = np.zeros((W.shape[1], steps * batch), dtype=dG.dtype)  # (V, T*B)
        one_hot[X.reshape(-1), np.arange(steps * batch)] = 1.0
        return (one_hot @ dG2).T, None
    X2 = X.reshape(steps * batch, -1)  # (T*B, D)
    return dG2.T @ X2, (dG2 @ W).reshape(steps, batch, -1)


def recurrent_grad(dG: np.ndarray, Hs: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """dWh (G, H) = sum over t of dG[t].T @ h_prev[t], with h_prev = [h0, Hs[:-1]]: no shifted copy."""
    steps, batch, gates = dG.shape
    H = Hs.shape[2]
    dW = dG[1:].reshape(-1, gates).T @ Hs[:-1].reshape(-1, H)  # (G, H)
    dW += dG[0].T @ h0
    return dW


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], hidden: int, dtype) -> np.ndarray:
    bound = 1.0 / np.sqrt(hidden)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


# ---------------------------------------------------------------- vanilla RNN (the seed's cell)


class RNNCell:
    """The seed's cell: ``a = tanh(Wax x + Waa a_prev + ba)``."""

    name = "rnn"
    input_keys = ("Wax", "ba")  # weights and bias of the input projection

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype) -> Params:
        """Seed's initialize_parameters for one layer (uniform ±1/sqrt(n_a), zero bias)."""
        return {
            "Wax": _uniform(rng, (n_a, n_x), n_a, dtype),
            "Waa": _uniform(rng, (n_a, n_a), n_a, dtype),
            "ba": np.zeros(n_a, dtype=dtype),
        }

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype),)

    @staticmethod
    def step(p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        """One step from an already projected input x_proj (B, H)."""
        a = np.tanh(x_proj + state[0] @ p["Waa"].T)  # (B, H)
        return a, (a,)

    @staticmethod
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple, Any]:
        """rnn_forward over all steps: A (T, B, H)."""
        Z = input_projection(p["Wax"], p["ba"], X)  # (T, B, H)
        A = np.empty_like(Z)  # (T, B, H)
        a, WaaT = state0[0], p["Waa"].T
        for t in range(Z.shape[0]):
            np.matmul(a, WaaT, out=A[t])  # (B, H)
            A[t] += Z[t]
            a = np.tanh(A[t], out=A[t])
        return A, (a,), (X, A, state0[0])

    @staticmethod
    def backward(p: Params, dA: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        """rnn_backward: BPTT through every step, weight gradients as one product each."""
        X, A, a0 = cache
        dZ = 1.0 - A * A  # (T, B, H) tanh derivative, turned in place into the gradient at the tanh input
        da_next = np.zeros_like(a0)  # (B, H)
        Waa = p["Waa"]
        for t in reversed(range(A.shape[0])):
            rnn_cell_backward(dA[t] + da_next, dZ[t], Waa, out=da_next)
        dWax, dX = input_backward(p["Wax"], X, dZ)
        grads = {
            "Wax": dWax,
            "Waa": recurrent_grad(dZ, A, a0),  # (H, H)
            "ba": dZ.sum(axis=(0, 1)),
        }
        return grads, dX


def rnn_cell_backward(da: np.ndarray, dz: np.ndarray, Waa: np.ndarray, out: np.ndarray) -> None:
    """One step of the seed's backward, in place: dz (B, H) holds 1 - a**2 and becomes da * (1 - a**2);
    out (B, H) receives da_prev = dz @ Waa."""
    dz *= da
    np.matmul(dz, Waa, out=out)


# ---------------------------------------------------------------- GRU


class GRUCell:
    """GRU as in PyTorch: gates [r, z, n]; ``n = tanh(Wxn x + bxn + r * (Whn h + bhn))``."""

    name = "gru"
    input_keys = ("Wx", "bx")

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype) -> Params:
        return {
            "Wx": _uniform(rng, (3 * n_a, n_x), n_a, dtype),
            "Wh": _uniform(rng, (3 * n_a, n_a), n_a, dtype),
            "bx": np.zeros(3 * n_a, dtype=dtype),
            "bh": np.zeros(3 * n_a, dtype=dtype),
        }

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype),)

    @classmethod
    def step(cls, p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        h = state[0]
        H = h.shape[1]
        gh = h @ p["Wh"].T + p["bh"]  # (B, 3H)
        rz = sigmoid_(x_proj[:, : 2 * H] + gh[:, : 2 * H])  # (B, 2H)
        n = np.tanh(x_proj[:, 2 * H :] + rz[:, :H] * gh[:, 2 * H :])  # (B, H)
        h = n + rz[:, H:] * (h - n)  # (B, H) == (1 - z) * n + z * h
        return h, (h,)

    @staticmethod
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple, Any]:
        GX = input_projection(p["Wx"], p["bx"], X)  # (T, B, 3H)
        steps, batch, G = GX.shape
        H = G // 3
        GH = np.empty_like(GX)  # (T, B, 3H) recurrent projections, kept for backward
        RZ = np.empty((steps, batch, 2 * H), dtype=GX.dtype)  # (T, B, 2H) gates r, z
        N = np.empty((steps, batch, H), dtype=GX.dtype)  # (T, B, H) candidate state
        Hs = np.empty_like(N)  # (T, B, H)
        h, WhT, bh = state0[0], p["Wh"].T, p["bh"]
        for t in range(steps):
            gh, rz, n = GH[t], RZ[t], N[t]
            np.matmul(h, WhT, out=gh)
            gh += bh
            sigmoid_(np.add(GX[t, :, : 2 * H], gh[:, : 2 * H], out=rz))
            np.multiply(rz[:, :H], gh[:, 2 * H :], out=n)
            n += GX[t, :, 2 * H :]
            np.tanh(n, out=n)
            h = np.subtract(h, n, out=Hs[t])
            h *= rz[:, H:]
            h += n
        return Hs, (h,), (X, Hs, state0[0], RZ, N, GH)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        X, Hs, h0, RZ, N, GH = cache
        steps, batch, H = Hs.shape
        R, Z = RZ[..., :H], RZ[..., H:]
        H_prev = np.concatenate([h0[None], Hs[:-1]])  # (T, B, H)
        # Coefficients that do not depend on the incoming gradient, for all steps at once:
        c_n = (1.0 - Z) * (1.0 - N * N)  # (T, B, H) dh -> dn_raw
        c_r = GH[..., 2 * H :] * R * (1.0 - R)  # (T, B, H) dn_raw -> dr_raw
        c_z = (H_prev - N) * Z * (1.0 - Z)  # (T, B, H) dh -> dz_raw
        dGH = np.empty_like(GH)  # (T, B, 3H) gradient at the recurrent projections
        dN = np.empty_like(N)  # (T, B, H) gradient at the candidate's pre-activation
        dh, dh_next = np.empty_like(h0), np.zeros_like(h0)  # (B, H)
        Wh = p["Wh"]
        for t in reversed(range(steps)):
            np.add(dHs[t], dh_next, out=dh)
            np.multiply(dh, c_n[t], out=dN[t])
            np.multiply(dN[t], c_r[t], out=dGH[t, :, :H])
            np.multiply(dh, c_z[t], out=dGH[t, :, H : 2 * H])
            np.multiply(dN[t], R[t], out=dGH[t, :, 2 * H :])
            np.matmul(dGH[t], Wh, out=dh_next)
            dh *= Z[t]
            dh_next += dh
        dGX = np.concatenate([dGH[..., : 2 * H], dN], axis=2)  # (T, B, 3H)
        dWx, dX = input_backward(p["Wx"], X, dGX)
        grads = {
            "Wx": dWx,
            "Wh": recurrent_grad(dGH, Hs, h0),  # (3H, H)
            "bx": dGX.sum(axis=(0, 1)),
            "bh": dGH.sum(axis=(0, 1)),
        }
        return grads, dX


# ---------------------------------------------------------------- LSTM


class LSTMCell:
    """LSTM with gates [i, f, g, o]; the forget bias starts at 1."""

    name = "lstm"
    input_keys = ("Wx", "b")

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype) -> Params:
        b = np.zeros(4 * n_a, dtype=dtype)
        b[n_a : 2 * n_a] = 1.0
        return {
            "Wx": _uniform(rng, (4 * n_a, n_x), n_a, dtype),
            "Wh": _uniform(rng, (4 * n_a, n_a), n_a, dtype),
            "b": b,
        }

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype), np.zeros((batch, n_a), dtype=dtype))

    @staticmethod
    def _activate(g: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        i_f = sigmoid(g[:, : 2 * H])  # (B, 2H)
        return i_f[:, :H], i_f[:, H:], np.tanh(g[:, 2 * H : 3 * H]), sigmoid(g[:, 3 * H :])

    @classmethod
    def step(cls, p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        h, c = state
        i, f, g, o = cls._activate(x_proj + h @ p["Wh"].T, h.shape[1])
        c = f * c + i * g  # (B, H)
        h = o * np.tanh(c)  # (B, H)
        return h, (h, c)

    @classmethod
    def forward(cls, p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple, Any]:
        GX = input_projection(p["Wx"], p["b"], X)  # (T, B, 4H)
        steps, batch, G = GX.shape
        H = G // 4
        Hs, Cs, TC = (np.empty((steps, batch, H), dtype=GX.dtype) for _ in range(3))  # (T, B, H)
        ACT = np.empty_like(GX)  # (T, B, 4H) activated gates i, f, g, o
        (h, c), WhT = state0, p["Wh"].T
        for t in range(steps):
            i, f, g, o = cls._activate(GX[t] + h @ WhT, H)
            ACT[t, :, :H], ACT[t, :, H : 2 * H], ACT[t, :, 2 * H : 3 * H], ACT[t, :, 3 * H :] = i, f, g, o
            c = f * c + i * g
            Cs[t], TC[t] = c, np.tanh(c)
            h = o * TC[t]
            Hs[t] = h
        return Hs, (h, c), (X, Hs, Cs, TC, ACT, state0)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        X, Hs, Cs, TC, ACT, (h0, c0) = cache
        steps, batch, H = Hs.shape
        H_prev = np.concatenate([h0[None], Hs[:-1]])  # (T, B, H)
        C_prev = np.concatenate([c0[None], Cs[:-1]])  # (T, B, H)
        dG = np.empty_like(ACT)  # (T, B, 4H) gradient at the gate pre-activations
        dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)  # (B, H)
        Wh = p["Wh"]
        for t in reversed(range(steps)):
            i, f, g, o = ACT[t, :, :H], ACT[t, :, H : 2 * H], ACT[t, :, 2 * H : 3 * H], ACT[t, :, 3 * H :]
            dh = dHs[t] + dh_next  # (B, H)
            dc = dc_next + dh * o * (1.0 - TC[t] * TC[t])  # (B, H)
            dG[t, :, :H] = dc * g * i * (1.0 - i)
            dG[t, :, H : 2 * H] = dc * C_prev[t] * f * (1.0 - f)
            dG[t, :, 2 * H : 3 * H] = dc * i * (1.0 - g * g)
            dG[t, :, 3 * H :] = dh * TC[t] * o * (1.0 - o)
            dc_next = dc * f
            dh_next = dG[t] @ Wh  # (B, H)
        dWx, dX = input_backward(p["Wx"], X, dG)
        grads = {
            "Wx": dWx,
            "Wh": dG.reshape(-1, 4 * H).T @ H_prev.reshape(-1, H),  # (4H, H)
            "b": dG.sum(axis=(0, 1)),
        }
        return grads, dX


CELLS = {cell.name: cell for cell in (RNNCell, GRUCell, LSTMCell)}
