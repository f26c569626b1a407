"""Recurrent cells (vanilla RNN, GRU, LSTM), each with its forward and backward pass.

Every cell works time-major over a whole padded batch. The input projection
for all time steps is one matrix product (or, for the first layer, a row
lookup: ``Wax @ one_hot(x)`` is column ``x`` of ``Wax``), so the Python loop
over time holds only the recurrent product and the elementwise gate maths.
Weights are stored (out, in) like the seed's ``Wax``/``Waa``; hidden states
are rows: ``h (B, H) = tanh(x @ Wax.T + h_prev @ Waa.T + ba)``.

Every cell follows the :class:`Cell` protocol below; register a new one in
:data:`CELLS` and the CLI, the model file and the gradient tests pick it up.
``X`` is either float inputs (T, B, D) or int token indices (T, B) for the
first layer.

``active`` (optional, one int per step) says how many leading rows of the
batch are still inside their name at each step; with the batch sorted by
length (longest first) the loops then skip padding, as PyTorch's packed
sequences do. Rows past a name's end are set to zero.

``ws`` (optional) is a :class:`Workspace` whose arrays are reused from one
minibatch to the next: touching freshly allocated memory costs more than the
arithmetic here. A forward cache stays valid until the next forward pass that
uses the same workspace.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence

import numpy as np

from chemgen.io.names import quoted

Params = dict[str, np.ndarray]
State = tuple[np.ndarray, ...]  # a layer's recurrent state: (h,) or (h, c), each (B, H)


class Cell(Protocol):
    """What every recurrent cell provides (all static or class methods)."""

    name: str  # the registry key and the model file's ``cell``
    input_keys: tuple[str, str]  # names of the input projection's weights (G, n_x) and bias (G,)

    def init_params(self, rng: np.random.Generator, n_x: int, n_a: int, dtype: Any) -> Params:
        """One layer's parameters for inputs of width n_x and n_a hidden units."""

    def initial_state(self, batch: int, n_a: int, dtype: Any) -> State:
        """The zero state for a batch."""

    def step(self, p: Params, x_proj: np.ndarray, state: State,
             ws: Optional["Workspace"] = None) -> tuple[np.ndarray, State]:
        """One time step from the projected input (B, G): output h (B, H) and the new state (sampling).

        With a workspace the new state lives in its buffers (and may overwrite ``state``, which can be
        a leading slice of them); the arithmetic, and so every bit of the result, is the same."""

    def forward(self, p: Params, X: np.ndarray, state0: State, active: Optional[Sequence[int]] = None,
                ws: Optional["Workspace"] = None, train: bool = True) -> tuple[np.ndarray, State, Any]:
        """All steps over X (T, B, D) or tokens (T, B): outputs (T, B, H), last state, backward cache."""

    def backward(self, p: Params, dH: np.ndarray, cache: Any,
                 ws: Optional["Workspace"] = None) -> tuple[Params, Optional[np.ndarray]]:
        """Gradients of every parameter from dH (T, B, H), and dX (None for token inputs)."""


def sigmoid_(x: np.ndarray) -> np.ndarray:
    """In-place logistic function (no temporaries)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def sigmoid_of_negated_(x: np.ndarray) -> np.ndarray:
    """In place, from x = -a: the logistic function of a, 1 / (1 + exp(x)) (one exp is cheaper than one tanh).
    exp overflows to inf for x above about 88 (float32), giving the right 0: call under np.errstate(over="ignore")."""
    np.exp(x, out=x)
    x += 1.0
    return np.reciprocal(x, out=x)


class Workspace:
    """Scratch arrays kept between calls; ``take`` returns an uninitialised array of the shape asked."""

    def __init__(self, prefix: str = "", buffers: Optional[dict] = None):
        self.prefix = prefix
        self.buffers: dict[str, np.ndarray] = {} if buffers is None else buffers

    def scope(self, name: str) -> "Workspace":
        """A view of the same store whose keys do not collide with other scopes'."""
        return Workspace(f"{self.prefix}{name}.", self.buffers)

    def take(self, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An array of ``shape``: a leading slice of a kept buffer when one fits, else a new buffer."""
        key = self.prefix + key
        buf = self.buffers.get(key)
        if buf is None or buf.dtype != dtype or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0]:
            buf = np.empty(shape, dtype=dtype)
            self.buffers[key] = buf
        return buf[: shape[0]]


def input_projection(W: np.ndarray, b: np.ndarray, X: np.ndarray, ws: Workspace) -> np.ndarray:
    """``X @ W.T + b`` for every time step; a row lookup when X holds token indices."""
    gates = W.shape[0]
    if X.dtype.kind in "iu":  # (T, B) tokens: embedding lookup == one-hot product
        out = ws.take("proj", (*X.shape, gates), W.dtype)  # (T, B, G)
        # mode="clip": np.take buffers ``out`` under the default mode="raise", five times slower here
        return np.take(W.T + b, X, axis=0, out=out, mode="clip")  # rows of the biased table
    steps, batch, _ = X.shape
    out = ws.take("proj", (steps, batch, gates), W.dtype)  # (T, B, G)
    np.matmul(X.reshape(steps * batch, -1), W.T, out=out.reshape(steps * batch, gates))
    out += b
    return out


def input_backward(W: np.ndarray, X: np.ndarray, dG: np.ndarray | Sequence[np.ndarray],
                   ws: Workspace) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradients of ``input_projection``: dW (G, D) and dX (T, B, D), or None for tokens.

    dG (T, B, G) may come as column blocks (T, B, g) whose concatenation is dG (views of other arrays)."""
    blocks = [dG] if isinstance(dG, np.ndarray) else list(dG)
    steps, batch = blocks[0].shape[:2]
    rows = steps * batch
    blocks2 = [b.reshape(rows, -1) for b in blocks]  # (T*B, g) each
    if X.dtype.kind in "iu":  # scatter-add of rows, done as a one-hot product (far faster than np.add.at)
        one_hot = ws.take("one_hot", (W.shape[1], rows), W.dtype)  # (V, T*B)
        one_hot.fill(0.0)
        one_hot[X.reshape(-1), np.arange(rows)] = 1.0
        return np.concatenate([(one_hot @ b).T for b in blocks2]), None
    X2 = X.reshape(rows, -1)  # (T*B, D)
    dX = ws.take("dX", (steps, batch, X2.shape[1]), W.dtype)  # (T, B, D)
    dX2, start = dX.reshape(rows, -1), 0
    for i, b in enumerate(blocks2):
        W_rows = W[start : start + b.shape[1]]  # (g, D)
        if i == 0:
            np.matmul(b, W_rows, out=dX2)
        else:
            dX2 += b @ W_rows
        start += b.shape[1]
    return np.concatenate([b.T @ X2 for b in blocks2]), dX


def recurrent_grad(dG: np.ndarray, Hs: np.ndarray, h0: np.ndarray, rows: Sequence[int], ws: Workspace) -> np.ndarray:
    """dWh (G, H) = sum over t of dG[t].T @ h_prev[t], with h_prev = [h0, Hs[:-1]]: no shifted copy.

    Steps where every row is active make one product; each later step (names ending) adds its own over
    its active rows only, rather than multiplying the padding's zeros."""
    steps, batch, gates = dG.shape
    H = Hs.shape[2]
    full = next((t for t, k in enumerate(rows) if k < batch), steps)  # steps before the first name ends
    dW = dG[0].T @ h0  # (G, H)
    if full > 1:
        dW += dG[1:full].reshape(-1, gates).T @ Hs[: full - 1].reshape(-1, H)
    term = ws.take("dW_step", (gates, H), dG.dtype)  # (G, H)
    for t in range(max(full, 1), steps):
        k = rows[t]
        if k:
            dW += np.matmul(dG[t, :k].T, Hs[t - 1, :k], out=term)
    return dW


def token_bias_grad(dW: np.ndarray) -> np.ndarray:
    """The input bias's gradient (G,) from the token table's dW (G, V): every active row reads one token,
    so summing dW over tokens sums dG over rows (padding rows carry zero gradient)."""
    return dW.sum(axis=1)


def row_counts(active: Optional[Sequence[int]], steps: int, batch: int) -> list[int]:
    """Rows to compute at each step: the given counts, or the whole batch."""
    return [batch] * steps if active is None else [int(n) for n in active]


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], hidden: int, dtype) -> np.ndarray:
    bound = 1.0 / np.sqrt(hidden)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


# How a layer's parameters are drawn (network.init_params adds the embedding and output layer).
INIT_DEFAULTS = {
    "input": "fan",  # input weights: "fan" uniform ±1/sqrt(H); "unit" uniform ±1 (one-hot input rows only)
    "recurrent": "fan",  # recurrent weights: "fan" uniform ±1/sqrt(H), or "orthogonal" (one block per gate)
    "bias": "zero",  # biases: "zero", or "fan" uniform ±1/sqrt(H) (PyTorch's)
    "gate_bias": None,  # added to the GRU update gate's / LSTM forget gate's bias (None: GRU 0, LSTM 1)
    "output_bias": "zero",  # the output bias by: "zero", "fan", or "unigram" (log character shares, set in training)
}
INIT_SCHEMES = {
    # the seed's initialize_parameters: every weight uniform ±1/sqrt(H), zero biases (the LSTM's forget bias 1)
    "seed": {},
    # PyTorch's defaults for nn.GRU/RNN/LSTM and nn.Linear: every weight and bias uniform ±1/sqrt(H)
    "torch": {"bias": "fan", "gate_bias": 0.0, "output_bias": "fan"},
    # measured best per step (bench/learning_curve.py): a one-hot row starts as strong as an embedding
    # times a projection would (±1), the GRU update gate leans to keeping the state (+1), and the output
    # starts at the characters' frequencies instead of uniform
    "chemgen": {"input": "unit", "gate_bias": 1.0, "output_bias": "unigram"},
}
_INIT_CHOICES = {"input": ("fan", "unit"), "recurrent": ("fan", "orthogonal"), "bias": ("zero", "fan"),
                 "output_bias": ("zero", "fan", "unigram")}


def init_scheme(text: str) -> dict:
    """The INIT_DEFAULTS overrides named by ``text``: a scheme of INIT_SCHEMES, then optional
    ``key=value`` changes, comma-separated (``chemgen,recurrent=orthogonal``). ValueError if unknown."""
    parts = str(text).split(",")
    if parts[0] not in INIT_SCHEMES:
        raise ValueError(f"weight_init must start with one of {', '.join(INIT_SCHEMES)}, not {quoted(text)}")
    out = dict(INIT_SCHEMES[parts[0]])
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key == "gate_bias":
            try:
                out[key] = float(value)
            except ValueError:
                raise ValueError(f"weight_init: gate_bias must be a number, not {quoted(value)}") from None
        elif value in _INIT_CHOICES.get(key, ()):
            out[key] = value
        else:
            raise ValueError(f"weight_init: {quoted(part)} is not one of " + ", ".join(
                f"{k}={'|'.join(v)}" for k, v in _INIT_CHOICES.items()) + ", gate_bias=NUMBER")
    return out


def orthogonal(rng: np.random.Generator, blocks: int, n_a: int, dtype) -> np.ndarray:
    """``blocks`` random orthogonal (n_a, n_a) matrices stacked: (blocks * n_a, n_a)."""
    out = []
    for _ in range(blocks):
        q, r = np.linalg.qr(rng.standard_normal((n_a, n_a)))
        out.append(q * np.sign(np.diag(r)))  # sign fix: uniformly distributed (Mezzadri 2007)
    return np.concatenate(out).astype(dtype)


def init_weights(rng: np.random.Generator, kind: str, blocks: int, n_out: int, n_in: int, dtype) -> np.ndarray:
    """Weights (blocks * n_out, n_in) of one of the INIT_DEFAULTS kinds."""
    if kind == "orthogonal" and n_in == n_out:
        return orthogonal(rng, blocks, n_out, dtype)
    bound = 1.0 if kind == "unit" else 1.0 / np.sqrt(n_out)
    return rng.uniform(-bound, bound, size=(blocks * n_out, n_in)).astype(dtype)


def init_bias(rng: np.random.Generator, kind: str, size: int, n_a: int, dtype) -> np.ndarray:
    if kind == "fan":
        return _uniform(rng, (size,), n_a, dtype)
    return np.zeros(size, dtype=dtype)


# ---------------------------------------------------------------- vanilla RNN (the seed's cell)


class RNNCell:
    """The seed's cell: ``a = tanh(Wax x + Waa a_prev + ba)``."""

    name = "rnn"
    input_keys = ("Wax", "ba")  # weights and bias of the input projection

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype, init: Optional[dict] = None) -> Params:
        """Seed's initialize_parameters for one layer (uniform ±1/sqrt(n_a), zero bias), unless ``init``
        says otherwise."""
        init = INIT_DEFAULTS | (init or {})
        return {
            "Wax": init_weights(rng, init["input"], 1, n_a, n_x, dtype),
            "Waa": init_weights(rng, init["recurrent"], 1, n_a, n_a, dtype),
            "ba": init_bias(rng, init["bias"], n_a, n_a, dtype),
        }

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype),)

    @staticmethod
    def step(p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...],
             ws: Optional[Workspace] = None) -> tuple[np.ndarray, tuple]:
        """One step from an already projected input x_proj (B, H)."""
        if ws is None:
            a = np.tanh(x_proj + state[0] @ p["Waa"].T)  # (B, H)
            return a, (a,)
        shape, dtype = state[0].shape, x_proj.dtype
        z = np.matmul(state[0], p["Waa"].T, out=ws.take("z", shape, dtype))  # (B, H)
        z += x_proj
        a = np.tanh(z, out=ws.take("h", shape, dtype))  # (B, H)
        return a, (a,)

    @staticmethod
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None,
                ws: Optional[Workspace] = None, train: bool = True) -> tuple[np.ndarray, tuple, Any]:
        """rnn_forward over all steps: A (T, B, H)."""
        ws = ws if ws is not None else Workspace()
        Z = input_projection(p["Wax"], p["ba"], X, ws)  # (T, B, H)
        rows = row_counts(active, Z.shape[0], Z.shape[1])
        A = ws.take("A", Z.shape, Z.dtype)  # (T, B, H)
        a, WaaT = state0[0], np.ascontiguousarray(p["Waa"].T)
        for t, n in enumerate(rows):
            out = A[t, :n]  # (n, H)
            np.matmul(a[:n], WaaT, out=out)
            out += Z[t, :n]
            np.tanh(out, out=out)
            _zero_rows(n, A[t])
            a = A[t]
        return A, (a,), (X, A, state0[0], rows)

    @staticmethod
    def backward(p: Params, dA: np.ndarray, cache: Any, ws: Optional[Workspace] = None) -> tuple[Params, np.ndarray | None]:
        """rnn_backward: BPTT through every step, weight gradients as one product each."""
        ws = ws if ws is not None else Workspace()
        X, A, a0, rows = cache
        dZ = ws.take("dZ", A.shape, A.dtype)  # (T, B, H) gradient at tanh's input
        da_next, da = np.zeros_like(a0), np.empty_like(a0)  # (B, H)
        Waa = p["Waa"]
        for t in reversed(range(A.shape[0])):
            n = rows[t]
            np.add(dA[t, :n], da_next[:n], out=da[:n])
            rnn_cell_backward(da[:n], A[t, :n], Waa, dZ[t, :n], da_next[:n])
            _zero_rows(n, dZ[t])
        dWax, dX = input_backward(p["Wax"], X, dZ, ws)
        grads = {
            "Wax": dWax,
            "Waa": recurrent_grad(dZ, A, a0, rows, ws),  # (H, H)
            "ba": column_sums(dZ, ws) if dX is not None else token_bias_grad(dWax),
        }
        return grads, dX


def rnn_cell_backward(da: np.ndarray, a: np.ndarray, Waa: np.ndarray, dz: np.ndarray, da_prev: np.ndarray) -> None:
    """One step of the seed's backward, into dz (B, H) = da * (1 - a**2) and da_prev (B, H) = dz @ Waa."""
    np.multiply(a, a, out=dz)
    np.subtract(1.0, dz, out=dz)
    dz *= da
    np.matmul(dz, Waa, out=da_prev)


# ---------------------------------------------------------------- GRU


class GRUCell:
    """GRU as in PyTorch: gates [r, z, n]; ``n = tanh(Wxn x + bxn + r * (Whn h + bhn))``."""

    name = "gru"
    input_keys = ("Wx", "bx")

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype, init: Optional[dict] = None) -> Params:
        init = INIT_DEFAULTS | (init or {})
        params = {
            "Wx": init_weights(rng, init["input"], 3, n_a, n_x, dtype),
            "Wh": init_weights(rng, init["recurrent"], 3, n_a, n_a, dtype),
            "bx": init_bias(rng, init["bias"], 3 * n_a, n_a, dtype),
            "bh": init_bias(rng, init["bias"], 3 * n_a, n_a, dtype),
        }
        params["bx"][n_a : 2 * n_a] += init["gate_bias"] or 0.0  # update gate z: > 0 keeps more of h at first
        return params

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype),)

    @classmethod
    def step(cls, p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...],
             ws: Optional[Workspace] = None) -> tuple[np.ndarray, tuple]:
        h = state[0]
        if ws is None:
            H = h.shape[1]
            gh = h @ p["Wh"].T + p["bh"]  # (B, 3H)
            rz = sigmoid_(x_proj[:, : 2 * H] + gh[:, : 2 * H])  # (B, 2H)
            n = np.tanh(x_proj[:, 2 * H :] + rz[:, :H] * gh[:, 2 * H :])  # (B, H)
            h = n + rz[:, H:] * (h - n)  # (B, H) == (1 - z) * n + z * h
            return h, (h,)
        return cls._step_into(p, x_proj, h, ws)

    @staticmethod
    def _step_into(p: Params, x_proj: np.ndarray, h: np.ndarray, ws: Workspace) -> tuple[np.ndarray, tuple]:
        """``step`` with every array in the workspace: the same operations in the same order."""
        (B, H), dtype = h.shape, x_proj.dtype
        gh = np.matmul(h, p["Wh"].T, out=ws.take("gh", (B, 3 * H), dtype))  # (B, 3H)
        gh += p["bh"]
        rz = sigmoid_(np.add(x_proj[:, : 2 * H], gh[:, : 2 * H], out=ws.take("rz", (B, 2 * H), dtype)))  # (B, 2H)
        n = np.multiply(rz[:, :H], gh[:, 2 * H :], out=ws.take("n", (B, H), dtype))  # (B, H)
        n += x_proj[:, 2 * H :]
        np.tanh(n, out=n)
        h_new = np.subtract(h, n, out=ws.take("h", (B, H), dtype))  # (B, H), may be h itself
        h_new *= rz[:, H:]
        h_new += n
        return h_new, (h_new,)

    @staticmethod
    def forward(p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None,
                ws: Optional[Workspace] = None, train: bool = True) -> tuple[np.ndarray, tuple, Any]:
        """All steps: Hs (T, B, H). With ``train``, the backward's per-step factors are kept too
        (computed here, while each step's gates are still in cache)."""
        ws = ws if ws is not None else Workspace()
        H = p["Wh"].shape[1]
        bias = p["bx"] + np.concatenate([p["bh"][: 2 * H], np.zeros_like(p["bh"][2 * H :])])  # r, z biases merged
        sign = np.repeat(np.array([-1.0, -1.0, 1.0], dtype=bias.dtype), H)  # (3H,) r, z negated: exp(-a) is next
        GX = input_projection(p["Wx"] * sign[:, None], bias * sign, X, ws)  # (T, B, 3H) -r, -z, n projections
        steps, batch, _ = GX.shape
        rows = row_counts(active, steps, batch)
        gh = ws.take("gh", (batch, 3 * H), GX.dtype)  # (B, 3H) the current step's recurrent projection
        RZ = ws.take("RZ", (steps, batch, 2 * H), GX.dtype)  # (T, B, 2H) gates r, z
        Hs = ws.take("Hs", (steps, batch, H), GX.dtype)  # (T, B, H)
        factors = [ws.take(k, (steps, batch, H), GX.dtype) for k in ("c_n", "c_r", "c_z")] if train else None
        h, WhT, bhn = state0[0], np.ascontiguousarray(p["Wh"].T), p["bh"][2 * H :]
        n = ws.take("n", (batch, H), GX.dtype)  # (B, H) candidate state of the current step
        with np.errstate(over="ignore"):
            for t, k in enumerate(rows):
                h = _gru_forward_step(GX[t, :k], h[:k], WhT, bhn, gh[:k], RZ[t, :k], n[:k], Hs[t],
                                      factors and [f[t, :k] for f in factors])
        return Hs, (h,), (X, Hs, state0[0], RZ, factors, rows)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any, ws: Optional[Workspace] = None) -> tuple[Params, np.ndarray | None]:
        ws = ws if ws is not None else Workspace()
        X, Hs, h0, RZ, (c_n, c_r, c_z), rows = cache
        steps, batch, H = Hs.shape
        R, Z = RZ[..., :H], RZ[..., H:]
        dGH = ws.take("dGH", (steps, batch, 3 * H), Hs.dtype)  # (T, B, 3H) gradient at the recurrent projections
        dN = ws.take("dN", (steps, batch, H), Hs.dtype)  # (T, B, H) at the input projection's n part (its r, z: dGH's)
        dh, dh_next = np.empty_like(h0), np.zeros_like(h0)  # (B, H)
        Wh = p["Wh"]
        for t in reversed(range(steps)):
            k = rows[t]
            d, dgh = dh[:k], dGH[t, :k]
            np.add(dHs[t, :k], dh_next[:k], out=d)
            dn = np.multiply(d, c_n[t, :k], out=dN[t, :k])
            np.multiply(dn, c_r[t, :k], out=dgh[:, :H])
            np.multiply(d, c_z[t, :k], out=dgh[:, H : 2 * H])
            np.multiply(dn, R[t, :k], out=dgh[:, 2 * H :])
            np.matmul(dgh, Wh, out=dh_next[:k])
            d *= Z[t, :k]
            dh_next[:k] += d
            _zero_rows(k, dGH[t], dN[t])
        dGX = (dGH[..., : 2 * H], dN)  # (T, B, 2H), (T, B, H): the input projections' gradient in two blocks
        dWx, dX = input_backward(p["Wx"], X, dGX, ws)
        dbx = np.concatenate([column_sums(g, ws) for g in dGX]) if dX is not None else token_bias_grad(dWx)  # (3H,)
        grads = {
            "Wx": dWx,
            "Wh": recurrent_grad(dGH, Hs, h0, rows, ws),  # (3H, H)
            "bx": dbx,
            "bh": np.concatenate([dbx[: 2 * H], column_sums(dGH[..., 2 * H :], ws)]),  # r, z: as bx's
        }
        return grads, dX


def _gru_forward_step(gx: np.ndarray, h: np.ndarray, WhT: np.ndarray, bhn: np.ndarray, gh: np.ndarray,
                      rz: np.ndarray, n: np.ndarray, h_out: np.ndarray, factors: Optional[list[np.ndarray]]) -> np.ndarray:
    """One GRU step over the k active rows from the input projections gx (k, 3H) (r, z negated), into the
    workspace views: gh (k, 3H) recurrent projection, rz (k, 2H) gates, n (k, H) candidate, and h_out (B, H)
    the new state (rows past k zeroed); with ``factors`` (three (k, H) views) the backward's factors too."""
    k, H = h.shape
    np.matmul(h, WhT, out=gh)
    sigmoid_of_negated_(np.subtract(gx[:, : 2 * H], gh[:, : 2 * H], out=rz))
    ghn = gh[:, 2 * H :]
    ghn += bhn
    np.multiply(rz[:, :H], ghn, out=n)
    n += gx[:, 2 * H :]
    np.tanh(n, out=n)
    out = np.subtract(h, n, out=h_out[:k])  # h_prev - n
    if factors is not None:
        _gru_step_factors(rz, ghn, n, out, factors)
    out *= rz[:, H:]
    out += n
    _zero_rows(k, h_out)
    return h_out


def _gru_step_factors(rz: np.ndarray, ghn: np.ndarray, n: np.ndarray, h_minus_n: np.ndarray,
                      factors: list[np.ndarray]) -> None:
    """A step's factors of the GRU backward (into three (k, H) views), which do not depend on the incoming
    gradient: c_n = (1 - z)(1 - n^2) (dh -> dn), c_r = gh_n r (1 - r) (dn -> dr), c_z = (h_prev - n) z (1 - z) (dh -> dz)."""
    H = n.shape[1]
    r, z = rz[:, :H], rz[:, H:]
    c_n, c_r, c_z = factors
    np.subtract(1.0, z, out=c_r)  # c_r as scratch for 1 - z
    np.multiply(h_minus_n, z, out=c_z)
    c_z *= c_r
    np.multiply(n, n, out=c_n)
    np.subtract(1.0, c_n, out=c_n)
    c_n *= c_r
    np.subtract(1.0, r, out=c_r)
    c_r *= r
    c_r *= ghn


def column_sums(dG: np.ndarray, ws: Workspace) -> np.ndarray:
    """dG (T, B, G) summed over time and batch, as one BLAS product with a ones vector: (G,)."""
    rows = dG.shape[0] * dG.shape[1]
    ones = ws.take("ones", (rows,), dG.dtype)
    ones.fill(1.0)
    return ones @ dG.reshape(rows, -1)


# ---------------------------------------------------------------- LSTM


class LSTMCell:
    """LSTM with gates [i, f, g, o]; the forget bias starts at 1."""

    name = "lstm"
    input_keys = ("Wx", "b")

    @staticmethod
    def init_params(rng: np.random.Generator, n_x: int, n_a: int, dtype, init: Optional[dict] = None) -> Params:
        init = INIT_DEFAULTS | (init or {})
        Wx = init_weights(rng, init["input"], 4, n_a, n_x, dtype)
        Wh = init_weights(rng, init["recurrent"], 4, n_a, n_a, dtype)
        b = init_bias(rng, init["bias"], 4 * n_a, n_a, dtype)
        b[n_a : 2 * n_a] += 1.0 if init["gate_bias"] is None else init["gate_bias"]  # forget gate
        return {"Wx": Wx, "Wh": Wh, "b": b}

    @staticmethod
    def initial_state(batch: int, n_a: int, dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((batch, n_a), dtype=dtype), np.zeros((batch, n_a), dtype=dtype))

    @staticmethod
    def _activate(act: np.ndarray, H: int) -> np.ndarray:
        """In place on pre-activations (B, 4H): sigmoid for i, f, o and tanh for g."""
        sigmoid_(act[:, : 2 * H])
        np.tanh(act[:, 2 * H : 3 * H], out=act[:, 2 * H : 3 * H])
        sigmoid_(act[:, 3 * H :])
        return act

    @classmethod
    def step(cls, p: Params, x_proj: np.ndarray, state: tuple[np.ndarray, ...],
             ws: Optional[Workspace] = None) -> tuple[np.ndarray, tuple]:
        h, c = state
        H = h.shape[1]
        if ws is None:
            act = cls._activate(x_proj + h @ p["Wh"].T, H)  # (B, 4H)
            c = act[:, H : 2 * H] * c + act[:, :H] * act[:, 2 * H : 3 * H]  # (B, H)
            h = act[:, 3 * H :] * np.tanh(c)  # (B, H)
            return h, (h, c)
        B, dtype = h.shape[0], x_proj.dtype
        act = np.matmul(h, p["Wh"].T, out=ws.take("act", (B, 4 * H), dtype))  # (B, 4H)
        act += x_proj
        cls._activate(act, H)
        ig = np.multiply(act[:, :H], act[:, 2 * H : 3 * H], out=ws.take("ig", (B, H), dtype))  # (B, H)
        c_new = np.multiply(act[:, H : 2 * H], c, out=ws.take("c", (B, H), dtype))  # (B, H), may be c itself
        c_new += ig
        h_new = np.tanh(c_new, out=ws.take("h", (B, H), dtype))  # (B, H), may be h itself
        h_new *= act[:, 3 * H :]
        return h_new, (h_new, c_new)

    @classmethod
    def forward(cls, p: Params, X: np.ndarray, state0: tuple[np.ndarray, ...], active=None,
                ws: Optional[Workspace] = None, train: bool = True) -> tuple[np.ndarray, tuple, Any]:
        ws = ws if ws is not None else Workspace()
        GX = input_projection(p["Wx"], p["b"], X, ws)  # (T, B, 4H)
        steps, batch, G = GX.shape
        H = G // 4
        rows = row_counts(active, steps, batch)
        Hs, Cs, TC = (ws.take(key, (steps, batch, H), GX.dtype) for key in ("Hs", "Cs", "TC"))  # (T, B, H)
        ACT = ws.take("ACT", GX.shape, GX.dtype)  # (T, B, 4H) activated gates i, f, g, o
        (h, c), WhT = state0, p["Wh"].T
        for t, k in enumerate(rows):
            act = ACT[t, :k]  # (k, 4H)
            np.matmul(h[:k], WhT, out=act)
            act += GX[t, :k]
            cls._activate(act, H)
            c_new = np.multiply(act[:, H : 2 * H], c[:k], out=Cs[t, :k])
            c_new += act[:, :H] * act[:, 2 * H : 3 * H]
            np.tanh(c_new, out=TC[t, :k])
            np.multiply(act[:, 3 * H :], TC[t, :k], out=Hs[t, :k])
            _zero_rows(k, ACT[t], Cs[t], TC[t], Hs[t])
            h, c = Hs[t], Cs[t]
        return Hs, (h, c), (X, Hs, Cs, TC, ACT, state0, rows)

    @staticmethod
    def backward(p: Params, dHs: np.ndarray, cache: Any, ws: Optional[Workspace] = None) -> tuple[Params, np.ndarray | None]:
        ws = ws if ws is not None else Workspace()
        X, Hs, Cs, TC, ACT, (h0, c0), rows = cache
        steps, batch, H = Hs.shape
        coef, c_h = _lstm_coefficients(Cs, TC, ACT, c0, ws)
        dG = ws.take("dG", ACT.shape, ACT.dtype)  # (T, B, 4H) gradient at the gate pre-activations
        dh, dc = np.empty_like(h0), np.empty_like(c0)  # (B, H)
        dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)  # (B, H)
        F, Wh = ACT[..., H : 2 * H], p["Wh"]
        for t in reversed(range(steps)):
            k = rows[t]
            d_h, d_c = dh[:k], dc[:k]
            g4, c4 = dG[t, :k].reshape(k, 4, H), coef[t, :k].reshape(k, 4, H)
            np.add(dHs[t, :k], dh_next[:k], out=d_h)
            np.multiply(d_h, c_h[t, :k], out=d_c)
            d_c += dc_next[:k]
            np.multiply(c4[:, :3], d_c[:, None, :], out=g4[:, :3])
            np.multiply(c4[:, 3], d_h, out=g4[:, 3])
            np.multiply(d_c, F[t, :k], out=dc_next[:k])
            np.matmul(dG[t, :k], Wh, out=dh_next[:k])
            _zero_rows(k, dG[t])
        dWx, dX = input_backward(p["Wx"], X, dG, ws)
        grads = {
            "Wx": dWx,
            "Wh": recurrent_grad(dG, Hs, h0, rows, ws),  # (4H, H)
            "b": column_sums(dG, ws) if dX is not None else token_bias_grad(dWx),
        }
        return grads, dX


def _lstm_coefficients(Cs, TC, ACT, c0, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Factors of the LSTM backward independent of the incoming gradient, for all steps:
    coef (T, B, 4H) = [g i(1-i), c_prev f(1-f), i(1-g^2) (all times dc), tanh(c) o(1-o) (times dh)]
    and c_h (T, B, H) = o (1 - tanh(c)^2) (dh -> dc)."""
    H = Cs.shape[2]
    I, F, G, O = (ACT[..., j * H : (j + 1) * H] for j in range(4))
    coef = ws.take("coef", ACT.shape, ACT.dtype)  # (T, B, 4H)
    ci, cf, cg, co = (coef[..., j * H : (j + 1) * H] for j in range(4))
    np.subtract(1.0, I, out=ci)
    ci *= I
    ci *= G
    np.subtract(1.0, F, out=cf)
    cf *= F
    cf[1:] *= Cs[:-1]
    cf[0] *= c0
    np.multiply(G, G, out=cg)
    np.subtract(1.0, cg, out=cg)
    cg *= I
    np.subtract(1.0, O, out=co)
    co *= O
    co *= TC
    c_h = ws.take("c_h", Cs.shape, Cs.dtype)  # (T, B, H)
    np.multiply(TC, TC, out=c_h)
    np.subtract(1.0, c_h, out=c_h)
    c_h *= O
    return coef, c_h


def _zero_rows(k: int, *arrays: np.ndarray) -> None:
    """Zero the rows from k on (names already ended) of each (B, ...) array."""
    if k < len(arrays[0]):
        for array in arrays:
            array[k:] = 0.0


CELLS: dict[str, Cell] = {cell.name: cell for cell in (RNNCell, GRUCell, LSTMCell)}  # type: ignore[misc]
