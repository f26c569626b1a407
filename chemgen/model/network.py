"""The char-RNN network: stacked recurrent cells and a softmax output layer.

One forward pass serves training, sampling and scoring (makemore's contract):
``forward(config, params, inputs, targets, mask) -> logits, loss, cache`` where
the loss is the mean cross-entropy per character (end token included) and the
cache holds each name's log-likelihood, which ``sequence_logp`` returns for
scoring; ``step_logits`` runs the same layers one step at a time for sampling.

Parameters live in one flat dict: ``l{k}.<cell param>`` for layer k and the
seed's ``Wya`` (V, H) / ``by`` (V,) for the output layer. Without an embedding
(``embed`` 0, the seed's one-hot input) the first layer's input weights double
as the character embedding; with one, ``E`` (V, D) holds a D-wide vector per
character and the first layer reads those. Its input projection is then folded
into a (V, gates) table, ``Wx @ E.T``, so the first layer still does a row
lookup, and the backward pass unfolds the table's gradient into dWx and dE.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

import numpy as np

from chemgen.model.cells import CELLS, Params, Workspace


@dataclass(frozen=True)
class NetConfig:
    """Architecture; stored in the model file so loading needs nothing else."""

    cell: str = "gru"  # "rnn" (the seed's vanilla cell), "gru" or "lstm"
    hidden_size: int = 256  # units per layer (the seed's n_a)
    num_layers: int = 1  # stacked recurrent layers
    vocab_size: int = 0  # characters + the boundary token (the seed's n_x = n_y)
    dtype: str = "float32"  # parameter and activation dtype
    embed: int = 0  # width of the learned character embedding E before the first layer (0: one-hot input, the seed's)


def _scope(ws: Optional[Workspace], layer: int) -> Optional[Workspace]:
    return ws.scope(f"l{layer}") if ws is not None else None


def cell_of(config: NetConfig):
    return CELLS[config.cell]


def init_params(config: NetConfig, rng: np.random.Generator, init: Optional[dict] = None) -> Params:
    """initialize_parameters for the whole stack and the output layer.

    ``init`` (overrides of cells.INIT_DEFAULTS, e.g. ``cells.init_scheme("chemgen")``)
    picks how weights and biases are drawn; None is the seed's scheme. An embedding starts at N(0, 1) per entry. The
    "unit" input kind applies to one-hot input rows only (the first layer
    without an embedding); inputs that are vectors get ±1/sqrt(H).
    """
    cell, H, V, dtype = cell_of(config), config.hidden_size, config.vocab_size, np.dtype(config.dtype)
    params: Params = {}
    if config.embed:
        params["E"] = rng.standard_normal((V, config.embed)).astype(dtype)
    for layer in range(config.num_layers):
        one_hot = layer == 0 and not config.embed
        n_x = V if one_hot else (config.embed if layer == 0 else H)
        layer_init = dict(init or {})
        if not one_hot and layer_init.get("input") == "unit":
            layer_init["input"] = "fan"
        for key, value in cell.init_params(rng, n_x, H, dtype, layer_init).items():
            params[f"l{layer}.{key}"] = value
    bound = 1.0 / np.sqrt(H)
    params["Wya"] = rng.uniform(-bound, bound, size=(V, H)).astype(dtype)
    params["by"] = np.zeros(V, dtype=dtype)  # "unigram" is set by training, which has the names
    if (init or {}).get("output_bias") == "fan":
        params["by"] = rng.uniform(-bound, bound, size=V).astype(dtype)
    return params


def layer_params(params: Params, layer: int) -> Params:
    prefix = f"l{layer}."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def input_layer_params(config: NetConfig, params: Params, layer: int) -> Params:
    """Layer ``layer``'s parameters as its cell sees them: with an embedding, the first layer's
    input weights folded with it into a (gates, V) table ``Wx @ E.T`` read by row lookup."""
    p = layer_params(params, layer)
    if layer == 0 and config.embed:
        key = cell_of(config).input_keys[0]
        p[key] = p[key] @ params["E"].T  # (G, D) @ (D, V) -> (G, V)
    return p


def unfold_embedding_grads(config: NetConfig, params: Params, grads: Params) -> None:
    """Turn the folded table's gradient dT (G, V) into dWx = dT @ E (G, D) and dE = dT.T @ Wx (V, D), in place."""
    key = f"l0.{cell_of(config).input_keys[0]}"
    d_table = grads[key]  # (G, V)
    grads["E"] = d_table.T @ params[key]  # (V, D)
    grads[key] = d_table @ params["E"]  # (G, D)


def expected_shapes(config: NetConfig) -> dict[str, tuple[int, ...]]:
    """Every parameter's shape, for validating a loaded model file."""
    params = init_params(config, np.random.default_rng(0))
    return {k: v.shape for k, v in params.items()}


def vocab_axes(config: NetConfig) -> dict[str, int]:
    """The axis of each parameter that is indexed by character (input weights, output layer)."""
    now, grown = expected_shapes(config), expected_shapes(replace(config, vocab_size=config.vocab_size + 1))
    return {k: next(i for i, (a, b) in enumerate(zip(now[k], grown[k])) if a != b) for k in now if now[k] != grown[k]}


def grow_vocab(config: NetConfig, params: Params, old_rows: np.ndarray, vocab_size: int,
               rng: np.random.Generator) -> tuple[NetConfig, Params]:
    """Parameters for a larger vocabulary: old characters keep their weights at their new indices.

    old_rows (V_old,) gives each old character's index in the new vocabulary.
    New characters' input and output weights are drawn as at initialisation;
    their output bias starts 2 nats below the lowest old one, so a character
    the model has never seen starts rare.
    """
    new_config = replace(config, vocab_size=vocab_size)
    fresh = init_params(new_config, rng)
    grown: Params = {}
    for key, value in params.items():
        axis = vocab_axes(config).get(key)
        if axis is None:
            grown[key] = value.copy()
            continue
        out = fresh[key]
        if value.ndim == 1:
            out[:] = value.min() - 2.0
        index = [slice(None)] * value.ndim
        index[axis] = old_rows
        out[tuple(index)] = value
        grown[key] = out
    return new_config, grown


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Stable log-softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def active_rows(mask: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """Rows inside their name at each step (T,), when the batch is sorted longest first; else None."""
    if mask is None:
        return None
    lengths = mask.sum(axis=0)  # (B,)
    if np.any(lengths[1:] > lengths[:-1]):
        return None
    return mask.sum(axis=1).astype(np.int64)  # (T,)


def dropout_mask(shape: tuple[int, ...], rate: float, dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """Keep each unit with probability 1 - rate, scaled by 1 / (1 - rate) so the expected value is unchanged."""
    keep = rng.random(shape, dtype=np.float32) >= rate
    return keep.astype(dtype) * np.asarray(1.0 / (1.0 - rate), dtype=dtype)


@dataclass
class ForwardCache:
    layer_caches: list[Any] = field(default_factory=list)
    top: Optional[np.ndarray] = None  # (T, B, H) last layer's hidden states (after dropout)
    dropout_masks: list[np.ndarray] = field(default_factory=list)  # per layer (T, B, H), scaled keep masks
    logp: Optional[np.ndarray] = None  # (T, B, V) log-probabilities
    probs: Optional[np.ndarray] = None  # (V, T*B) probabilities, character-major
    name_logp: Optional[np.ndarray] = None  # (B,) each name's log-likelihood (with targets)


def forward(
    config: NetConfig, params: Params, inputs: np.ndarray, targets: Optional[np.ndarray] = None,
    mask: Optional[np.ndarray] = None, ws: Optional[Workspace] = None, train: bool = True,
    dropout: float = 0.0, rng: Optional[np.random.Generator] = None,
) -> tuple[np.ndarray, Optional[float], ForwardCache]:
    """Run the stack over inputs (T, B) -> logits (T, B, V), mean loss per character, cache.

    The loss (nats per character) is None when no targets are given. With a
    workspace, the cache lives in its buffers until the next forward pass;
    ``train=False`` skips what only the backward pass needs. With ``dropout``
    and ``rng`` (training only), each layer's output is dropped at that rate
    (inverted dropout on the non-recurrent connections, Zaremba et al. 2014).
    """
    cell, H = cell_of(config), config.hidden_size
    X: np.ndarray = inputs
    cache = ForwardCache()
    active = active_rows(mask)
    for layer in range(config.num_layers):
        p = input_layer_params(config, params, layer)
        state0 = cell.initial_state(inputs.shape[1], H, np.dtype(config.dtype))
        X, _, layer_cache = cell.forward(p, X, state0, active, _scope(ws, layer), train)  # (T, B, H)
        cache.layer_caches.append(layer_cache)
        if train and dropout > 0 and rng is not None:
            keep = dropout_mask(X.shape, dropout, X.dtype, rng)  # (T, B, H)
            cache.dropout_masks.append(keep)
            X = X * keep
    cache.top = X
    out_ws = ws.scope("out") if ws is not None else Workspace()
    logits_vn = output_logits(params, X, out_ws)  # (V, T*B)
    logits = logits_vn.T.reshape(*X.shape[:2], -1)  # (T, B, V) view
    if targets is None:
        return logits, None, cache
    logp_vn, cache.probs = softmax_columns(logits_vn, out_ws)  # (V, T*B) each
    cache.logp = logp_vn.T.reshape(logits.shape)  # (T, B, V) view
    token_logp = logp_vn[targets.reshape(-1), np.arange(targets.size)].reshape(targets.shape)  # (T, B)
    cache.name_logp = (token_logp * mask).sum(axis=0)  # (B,)
    loss = -float(cache.name_logp.sum() / mask.sum())
    return logits, loss, cache


def output_logits(params: Params, top: np.ndarray, ws: Workspace) -> np.ndarray:
    """The output layer over every step at once, character-major: logits (V, T*B) = Wya @ top.T + by.

    Character-major keeps the softmax's reductions over the V rows elementwise (fast) rather than
    along short rows of V."""
    Wya, by = params["Wya"], params["by"]
    top2 = top.reshape(-1, top.shape[-1])  # (T*B, H)
    logits = ws.take("logits", (Wya.shape[0], top2.shape[0]), Wya.dtype)  # (V, T*B)
    np.matmul(Wya, top2.T, out=logits)
    logits += by[:, None]
    return logits


def softmax_columns(logits: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Stable log-softmax and softmax down each column of logits (V, N): logp, probs (V, N)."""
    logp = ws.take("logp", logits.shape, logits.dtype)  # (V, N)
    probs = ws.take("probs", logits.shape, logits.dtype)  # (V, N)
    np.subtract(logits, logits.max(axis=0), out=logp)
    np.exp(logp, out=probs)
    total = probs.sum(axis=0)  # (N,)
    probs /= total
    logp -= np.log(total)
    return logp, probs


def backward(
    config: NetConfig, params: Params, targets: np.ndarray, mask: np.ndarray, cache: ForwardCache,
    ws: Optional[Workspace] = None, n_chars: Optional[float] = None, name_weights: Optional[np.ndarray] = None,
) -> Params:
    """Gradients of the mean loss per character with respect to every parameter.

    The mean is over ``n_chars`` characters (default: the mask's), so a mask
    that leaves some names out drops their terms without rescaling the rest.
    ``name_weights`` (B,) scales each name's terms: with ``n_chars=1`` the result
    is the gradient of ``-sum_b name_weights[b] * log p(name_b)`` (see ``dap_loss``).
    """
    scale = mask / (mask.sum() if n_chars is None else n_chars)  # (T, B)
    if name_weights is not None:
        scale = scale * np.asarray(name_weights, dtype=scale.dtype)[None, :]
    grads, dX = output_backward(params, cache.top, cache.probs, targets, scale.astype(cache.probs.dtype),
                                ws.scope("out") if ws is not None else Workspace())
    cell = cell_of(config)
    for layer in reversed(range(config.num_layers)):
        if cache.dropout_masks:
            dX = dX * cache.dropout_masks[layer]  # (T, B, H) back through this layer's dropout
        layer_grads, dX = cell.backward(input_layer_params(config, params, layer), dX, cache.layer_caches[layer],
                                        _scope(ws, layer))
        grads.update({f"l{layer}.{k}": v for k, v in layer_grads.items()})
    if config.embed:
        unfold_embedding_grads(config, params, grads)
    return grads


def output_backward(params: Params, top: np.ndarray, probs: np.ndarray, targets: np.ndarray, scale: np.ndarray,
                    ws: Workspace) -> tuple[Params, np.ndarray]:
    """Gradients of the output layer and softmax, each step's loss term weighted by scale (T, B):
    dWya (V, H), dby (V,) and dtop (T, B, H)."""
    Wya = params["Wya"]
    top2 = top.reshape(-1, top.shape[-1])  # (N, H), N = T*B
    weights = scale.reshape(-1)  # (N,)
    dlogits = ws.take("dlogits", probs.shape, probs.dtype)  # (V, N) = (softmax - one_hot(target)) * scale
    np.multiply(probs, weights, out=dlogits)
    dlogits[targets.reshape(-1), np.arange(weights.size)] -= weights
    dtop = ws.take("dtop", top.shape, top.dtype)  # (T, B, H)
    np.matmul(dlogits.T, Wya, out=dtop.reshape(top2.shape))
    return {"Wya": dlogits @ top2, "by": dlogits.sum(axis=1)}, dtop


def sequence_logp(config: NetConfig, params: Params, inputs: np.ndarray, targets: np.ndarray,
                  mask: np.ndarray) -> np.ndarray:
    """Each sequence's log-likelihood (B,): the sum over its characters and the end token."""
    _, _, cache = forward(config, params, inputs, targets, mask, train=False)
    return cache.name_logp.astype(np.float64)  # (B,)


def logp_of_targets(logp: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each sequence's log-likelihood (B,) from the log-probabilities (T, B, V) of a forward pass."""
    token_logp = np.take_along_axis(logp, targets[..., None], axis=2)[..., 0]  # (T, B)
    return (token_logp * mask).sum(axis=0)  # (B,)


def initial_states(config: NetConfig, batch: int) -> list[tuple[np.ndarray, ...]]:
    cell = cell_of(config)
    return [cell.initial_state(batch, config.hidden_size, np.dtype(config.dtype)) for _ in range(config.num_layers)]


@dataclass(frozen=True)
class StepWeights:
    """What a sampling step reads, prepared once: each layer's parameters as its cell sees them and
    the first layer's input projection as a table of rows, one per token, bias included."""

    layers: list[Params]
    table: np.ndarray  # (V, G) first layer's projected input of each token
    Wya: np.ndarray  # (V, H)
    by: np.ndarray  # (V,)


def step_weights(config: NetConfig, params: Params) -> StepWeights:
    layers = [input_layer_params(config, params, k) for k in range(config.num_layers)]
    W, b = (layers[0][key] for key in cell_of(config).input_keys)
    return StepWeights(layers, W.T + b, params["Wya"], params["by"])


def step_logits(config: NetConfig, params: Params | StepWeights, tokens: np.ndarray,
                states: list[tuple[np.ndarray, ...]],
                ws: Optional[Workspace] = None) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """One time step for sampling: tokens (B,) -> logits (B, V) and the new per-layer states.

    With a workspace every array lives in its buffers and the states are updated in place
    (see ``keep_rows``); the results are the same to the bit."""
    cell = cell_of(config)
    weights = params if isinstance(params, StepWeights) else step_weights(config, params)
    x: np.ndarray = tokens
    new_states = []
    for layer, p in enumerate(weights.layers):
        scope = _scope(ws, layer)
        if layer == 0:
            out = None if scope is None else scope.take("x_proj", (len(x), weights.table.shape[1]), weights.table.dtype)
            x_proj = np.take(weights.table, x, axis=0, out=out, mode="clip")  # (B, G); "clip": out= unbuffered
        else:
            W, b = (p[key] for key in cell.input_keys)
            out = None if scope is None else scope.take("x_proj", (len(x), W.shape[0]), x.dtype)
            x_proj = np.matmul(x, W.T, out=out)  # (B, G)
            x_proj += b
        x, state = cell.step(p, x_proj, states[layer], scope)  # (B, H)
        new_states.append(state)
    out = None if ws is None else ws.take("logits", (len(x), len(weights.by)), x.dtype)
    logits = np.matmul(x, weights.Wya.T, out=out)  # (B, V)
    logits += weights.by
    return logits, new_states


def keep_rows(states: list[tuple[np.ndarray, ...]], keep: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """The states of the rows marked in keep (B,) bool, moved to the front of the same arrays: (K, H) each."""
    kept = int(keep.sum())
    for layer in states:
        for s in layer:
            s[:kept] = s[keep]
    return [tuple(s[:kept] for s in layer) for layer in states]


def dap_loss(agent_logp: np.ndarray, prior_logp: np.ndarray, scores: np.ndarray,
             sigma: float) -> tuple[float, np.ndarray]:
    """REINVENT's DAP loss for goal-directed learning, and each name's weight for ``backward``.

    loss = mean_b (prior_logp[b] + sigma * scores[b] - agent_logp[b])^2: the agent
    is pulled towards the prior's likelihood raised by sigma times the score.
    Returns the loss and the weights w (B,) = -d loss / d agent_logp, so that
    ``backward(..., n_chars=1.0, name_weights=w)`` gives the loss's gradient.
    """
    agent = np.asarray(agent_logp, dtype=np.float64)  # (B,)
    gap = np.asarray(prior_logp, dtype=np.float64) + sigma * np.asarray(scores, dtype=np.float64) - agent  # (B,)
    return float(np.mean(gap * gap)), 2.0 * gap / len(gap)


def likelihood_penalty(agent_logp: np.ndarray, weight: float) -> tuple[float, np.ndarray]:
    """REINVENT's penalty on names the agent finds very likely, and each name's weight for ``backward``.

    penalty = weight * mean_b (-1 / agent_logp[b]): it grows without bound as a
    name's log-likelihood nears 0 (the agent writes it almost surely), so it
    holds the agent back from collapsing on a few names (PMO's REINVENT adds it
    to the DAP loss with weight 5e3). Returns the penalty and w (B,) =
    -d penalty / d agent_logp = -weight / (B * agent_logp[b]^2).
    """
    agent = np.asarray(agent_logp, dtype=np.float64)  # (B,), every entry < 0
    return float(weight * np.mean(-1.0 / agent)), -weight / (len(agent) * agent * agent)
