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

``active`` (optional, one int per step) says how many leading rows of the
batch are still inside their name at each step; with the batch sorted by
length (longest first) the loops then skip padding, as PyTorch's packed
sequences do. Rows past a name's end stay zero.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

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


def row_counts(active: Optional[Sequence[int]], steps: int, batch: int) -> list[int]:
    """Rows to compute at each step: the given counts, or the whole batch."""
    return [batch] * steps if active is None else [int(n) for n in active]


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
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None) -> tuple[np.ndarray, tuple, Any]:
        """rnn_forward over all steps: A (T, B, H)."""
        Z = input_projection(p["Wax"], p["ba"], X)  # (T, B, H)
        rows = row_counts(active, Z.shape[0], Z.shape[1])
        A = np.zeros_like(Z)  # (T, B, H)
        a, WaaT = state0[0], p["Waa"].T
        for t, n in enumerate(rows):
            out = A[t, :n]  # (n, H)
            np.matmul(a[:n], WaaT, out=out)
            out += Z[t, :n]
            np.tanh(out, out=out)
            a = A[t]
        return A, (a,), (X, A, state0[0], rows)

    @staticmethod
    def backward(p: Params, dA: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        """rnn_backward: BPTT through every step, weight gradients as one product each."""
        X, A, a0, rows = cache
        dZ = 1.0 - A * A  # (T, B, H) tanh derivative, turned in place into the gradient at the tanh input
        da_next, da = np.zeros_like(a0), np.empty_like(a0)  # (B, H)
        Waa = p["Waa"]
        for t in reversed(range(A.shape[0])):
            n = rows[t]
            np.add(dA[t, :n], da_next[:n], out=da[:n])
            rnn_cell_backward(da[:n], dZ[t, :n], Waa, out=da_next[:n])
            dZ[t, n:] = 0.0
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
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None) -> tuple[np.ndarray, tuple, Any]:
        GX = input_projection(p["Wx"], p["bx"], X)  # (T, B, 3H)
        steps, batch, G = GX.shape
        H = G // 3
        rows = row_counts(active, steps, batch)
        GH = np.zeros_like(GX)  # (T, B, 3H) recurrent projections, kept for backward
        RZ = np.zeros((steps, batch, 2 * H), dtype=GX.dtype)  # (T, B, 2H) gates r, z
        N = np.zeros((steps, batch, H), dtype=GX.dtype)  # (T, B, H) candidate state
        Hs = np.zeros_like(N)  # (T, B, H)
        h, WhT, bh = state0[0], p["Wh"].T, p["bh"]
        for t, k in enumerate(rows):
            gh, rz, n = GH[t, :k], RZ[t, :k], N[t, :k]
            np.matmul(h[:k], WhT, out=gh)
            gh += bh
            sigmoid_(np.add(GX[t, :k, : 2 * H], gh[:, : 2 * H], out=rz))
            np.multiply(rz[:, :H], gh[:, 2 * H :], out=n)
            n += GX[t, :k, 2 * H :]
            np.tanh(n, out=n)
            out = np.subtract(h[:k], n, out=Hs[t, :k])
            out *= rz[:, H:]
            out += n
            h = Hs[t]
        return Hs, (h,), (X, Hs, state0[0], RZ, N, GH, rows)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        X, Hs, h0, RZ, N, GH, rows = cache
        steps, batch, H = Hs.shape
        R, Z = RZ[..., :H], RZ[..., H:]
        H_prev = np.concatenate([h0[None], Hs[:-1]])  # (T, B, H)
        # Coefficients that do not depend on the incoming gradient, for all steps at once:
        c_n = (1.0 - Z) * (1.0 - N * N)  # (T, B, H) dh -> dn_raw
        c_r = GH[..., 2 * H :] * R * (1.0 - R)  # (T, B, H) dn_raw -> dr_raw
        c_z = (H_prev - N) * Z * (1.0 - Z)  # (T, B, H) dh -> dz_raw
        dGH = np.zeros_like(GH)  # (T, B, 3H) gradient at the recurrent projections
        dN = np.zeros_like(N)  # (T, B, H) gradient at the candidate's pre-activation
        dh, dh_next = np.empty_like(h0), np.zeros_like(h0)  # (B, H)
        Wh = p["Wh"]
        for t in reversed(range(steps)):
            k = rows[t]
            d, dn, dgh = dh[:k], dN[t, :k], dGH[t, :k]
            np.add(dHs[t, :k], dh_next[:k], out=d)
            np.multiply(d, c_n[t, :k], out=dn)
            np.multiply(dn, c_r[t, :k], out=dgh[:, :H])
            np.multiply(d, c_z[t, :k], out=dgh[:, H : 2 * H])
            np.multiply(dn, R[t, :k], out=dgh[:, 2 * H :])
            np.matmul(dgh, Wh, out=dh_next[:k])
            d *= Z[t, :k]
            dh_next[:k] += d
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
    def forward(cls, p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None) -> tuple[np.ndarray, tuple, Any]:
        GX = input_projection(p["Wx"], p["b"], X)  # (T, B, 4H)
        steps, batch, G = GX.shape
        H = G // 4
        rows = row_counts(active, steps, batch)
        Hs, Cs, TC = (np.zeros((steps, batch, H), dtype=GX.dtype) for _ in range(3))  # (T, B, H)
        ACT = np.zeros_like(GX)  # (T, B, 4H) activated gates i, f, g, o
        (h, c), WhT = state0, p["Wh"].T
        for t, k in enumerate(rows):
            act = ACT[t, :k]  # (k, 4H)
            np.matmul(h[:k], WhT, out=act)
            act += GX[t, :k]
            sigmoid_(act[:, : 2 * H])
            np.tanh(act[:, 2 * H : 3 * H], out=act[:, 2 * H : 3 * H])
            sigmoid_(act[:, 3 * H :])
            i, f, g, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
            c_new = np.multiply(f, c[:k], out=Cs[t, :k])
            c_new += i * g
            np.tanh(c_new, out=TC[t, :k])
            np.multiply(o, TC[t, :k], out=Hs[t, :k])
            h, c = Hs[t], Cs[t]
        return Hs, (h, c), (X, Hs, Cs, TC, ACT, state0, rows)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any) -> tuple[Params, np.ndarray | None]:
        X, Hs, Cs, TC, ACT, (h0, c0), rows = cache
        steps, batch, H = Hs.shape
        C_prev = np.concatenate([c0[None], Cs[:-1]])  # (T, B, H)
        I, F, G, O = ACT[..., :H], ACT[..., H : 2 * H], ACT[..., 2 * H : 3 * H], ACT[..., 3 * H :]
        c_h = O * (1.0 - TC * TC)  # (T, B, H) dh -> dc
        dG = np.zeros_like(ACT)  # (T, B, 4H) gradient at the gate pre-activations
        dh, dc = np.empty_like(h0), np.empty_like(c0)  # (B, H)
        dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)  # (B, H)
        Wh = p["Wh"]
        for t in reversed(range(steps)):
            k = rows[t]
            d_h, d_c, dg = dh[:k], dc[:k], dG[t, :k]
            np.add(dHs[t, :k], dh_next[:k], out=d_h)
            np.multiply(d_h, c_h[t, :k], out=d_c)
            d_c += dc_next[:k]
            i, f, g, o = I[t, :k], F[t, :k], G[t, :k], O[t, :k]
            dg[:, :H] = d_c * g * i * (1.0 - i)
            dg[:, H : 2 * H] = d_c * C_prev[t, :k] * f * (1.0 - f)
            dg[:, 2 * H : 3 * H] = d_c * i * (1.0 - g * g)
            dg[:, 3 * H :] = d_h * TC[t, :k] * o * (1.0 - o)
            np.multiply(d_c, f, out=dc_next[:k])
            np.matmul(dg, Wh, out=dh_next[:k])
        dWx, dX = input_backward(p["Wx"], X, dG)
        grads = {
            "Wx": dWx,
            "Wh": recurrent_grad(dG, Hs, h0),  # (4H, H)
            "b": dG.sum(axis=(0, 1)),
        }
        return grads, dX


CELLS = {cell.name: cell for cell in (RNNCell, GRUCell, LSTMCell)}
