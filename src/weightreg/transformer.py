"""A small character-level transformer and an offline text corpus, for the practice chapter.

Introduced in the chapter *Weight decay in practice* (``book/normalized/practice.md``).

The corpus
----------
:func:`char_corpus` reads the dataset descriptions that scikit-learn ships with its package
(``sklearn/datasets/descr/*.rst``: about 43 000 characters of English technical prose in
reStructuredText).  They are installed with scikit-learn wherever the book runs (the student
environment included), need no download, and are fixed by the pinned scikit-learn version, so
the corpus, and every number computed from it, is deterministic.  (The book's own Markdown
sources would also be offline, but they change whenever a chapter is edited.)  The files are
concatenated in sorted order and cut into blocks of 500 characters; every 10th block is
validation text, the rest training text (a split by position, never a random split of
windows: neighbouring windows overlap, and a random split would leak them).  Characters are
encoded by their index in the sorted vocabulary of the whole text.

The model
---------
:class:`CharGPT` is a GPT-style decoder in the layout of nanoGPT {karpathy2022nanogpt}: token
and position embeddings (``nn.Embedding``), ``layers`` pre-norm blocks ``x + attn(norm(x))``,
``x + mlp(norm(x))`` with causal multi-head self-attention (one ``nn.Linear`` for queries, keys
and values, one for the output projection) and an MLP of width ``4 * width`` with GELU, a final
norm, and a head that is *tied* to the token embedding (``head.weight is tok_emb.weight``, as in
nanoGPT).  The norms are ``nn.LayerNorm`` (``norm="layer"``, gain and bias) or ``nn.RMSNorm``
(``norm="rms"``, gain only).  Initialization as nanoGPT's: weights and embeddings
``N(0, 0.02^2)``, the output projections of each block ``N(0, (0.02 / sqrt(2 layers))^2)``,
biases 0, norm gains 1 and norm biases 0; drawn from ``weightreg.seeding.streams(seed).init``.

Training many runs at once
--------------------------
:func:`train_char_gpt` trains ``len(configs) x len(seeds)`` runs *in one batched loop*: the
parameters are stacked with a leading run dimension, the forward pass is
``torch.func.vmap(functional_call(model, ...))``, and the optimizer is ``torch.optim.AdamW``
(elementwise, so a stacked tensor is a set of independent runs).  Each run follows exactly
the recipe it would follow alone with ``torch.optim.AdamW(decay_groups(...))`` and
``torch.nn.utils.clip_grad_norm_``:

* clipping: the run's own gradient norm ``G`` (over all its parameters) is computed, and the
  gradient is multiplied by ``min(1, g_max / (G + 1e-6))`` (``clip_grad_norm_``'s formula);
* decoupled decay: the parameters the run decays are multiplied by ``1 - eta * lambda`` before
  the Adam step (what ``torch.optim.AdamW`` does to a group with ``weight_decay = lambda``).

The tests compare one run against that unbatched reference to float64 precision.  Runs of the
same seed share their initialization and their batches (a paired comparison).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from .divergence import TrainingDiverged
from .seeding import streams
from .validation import (
    check_choice,
    check_float_dtype,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    check_seed,
)

__all__ = ["CharCorpus", "CharGPT", "GPTRuns", "RunConfig", "char_corpus", "train_char_gpt"]


# ---------------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class CharCorpus:
    """A character corpus: ``train`` and ``val`` are 1-D ``int64`` tensors of character indices
    into ``vocab`` (a string of the distinct characters, sorted); ``sources`` names the files."""

    train: torch.Tensor
    val: torch.Tensor
    vocab: str
    sources: tuple[str, ...]

    def decode(self, indices: torch.Tensor) -> str:
        """The text of a 1-D tensor of character indices."""
        return "".join(self.vocab[int(i)] for i in indices)


def char_corpus(validation_every: int = 10, block: int = 500) -> CharCorpus:
    """The dataset descriptions shipped with scikit-learn, as a character corpus.

    The files (sorted by name) are concatenated and cut into consecutive blocks of ``block``
    characters; every ``validation_every``-th block (the 10th, 20th, ...) is validation text,
    the others, concatenated in order, the training text: a split by position, spread over
    all the files (each file ends with its references, which a split "the last 10 % of the
    text" would make the whole validation set).  See the module docstring for the choice of
    text.  Deterministic for a given scikit-learn version.
    """
    validation_every = check_int("validation_every", validation_every, minimum=2)
    block = check_int("block", block, minimum=1)
    # find_spec locates the installed package without importing it (sklearn.datasets is slow)
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency of the book
        raise RuntimeError("scikit-learn is not installed: its dataset descriptions are the text")
    folder = Path(spec.origin).parent / "datasets" / "descr"
    names = sorted(p.name for p in folder.glob("*.rst"))
    if not names:  # pragma: no cover - scikit-learn always ships them
        raise RuntimeError(f"scikit-learn's dataset descriptions are missing from {folder}")
    text = "".join((folder / n).read_text(encoding="utf-8") for n in names)
    vocab = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    blocks = [text[i : i + block] for i in range(0, len(text), block)]
    if len(blocks) < validation_every:
        raise ValueError(
            f"block ({block}) is too long: the text has {len(text)} characters, fewer than "
            f"validation_every ({validation_every}) blocks"
        )
    val = "".join(b for i, b in enumerate(blocks) if i % validation_every == validation_every - 1)
    train = "".join(b for i, b in enumerate(blocks) if i % validation_every != validation_every - 1)

    def encode(part: str) -> torch.Tensor:
        return torch.tensor([index[c] for c in part], dtype=torch.int64)

    return CharCorpus(encode(train), encode(val), vocab, tuple(names))


# ----------------------------------------------------------------------------------- the model


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, norm: str) -> None:
        super().__init__()
        make = nn.LayerNorm if norm == "layer" else nn.RMSNorm
        self.heads = heads
        self.ln1 = make(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = make(width)
        self.fc = nn.Linear(width, 4 * width)
        self.fc_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, D = x.shape[-2], x.shape[-1]
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(D, dim=-1)
        shape = (*x.shape[:-2], T, self.heads, D // self.heads)
        q, k, v = (t.reshape(shape).transpose(-2, -3) for t in (q, k, v))  # (..., H, T, D/H)
        att = q @ k.transpose(-1, -2) / math.sqrt(D // self.heads)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(-2, -3).reshape(x.shape)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x))))


class CharGPT(nn.Module):
    """A small GPT-style character model (see the module docstring).

    ``CharGPT(vocab_size, context=32, width=48, layers=2, heads=4, norm="layer", seed=0)``;
    ``forward(idx)`` maps a ``(..., T)`` int64 tensor (``T <= context``) to ``(..., T,
    vocab_size)`` logits.  Parameter names: ``tok_emb.weight`` (tied to ``head.weight``),
    ``pos_emb.weight``, ``blocks.<i>.{ln1,ln2}.{weight,bias}``,
    ``blocks.<i>.{qkv,proj,fc,fc_proj}.{weight,bias}``, ``ln_f.{weight,bias}``.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        context: int = 32,
        width: int = 48,
        layers: int = 2,
        heads: int = 4,
        norm: str = "layer",
        seed: int = 0,
    ) -> None:
        super().__init__()
        vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        context = check_int("context", context, minimum=1)
        width = check_int("width", width, minimum=1)
        layers = check_int("layers", layers, minimum=1)
        heads = check_int("heads", heads, minimum=1)
        if width % heads:
            raise ValueError(f"width ({width}) must be a multiple of heads ({heads})")
        norm = check_choice("norm", norm, ("layer", "rms"))
        seed = check_seed("seed", seed)
        self.context = context
        self.tok_emb = nn.Embedding(vocab_size, width)
        self.pos_emb = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(_Block(width, heads, norm) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width) if norm == "layer" else nn.RMSNorm(width)
        self.head = nn.Linear(width, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # tied, as in nanoGPT
        gen = streams(seed).init
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("proj.weight"):
                    p.normal_(0.0, 0.02 / math.sqrt(2 * layers), generator=gen)
                elif p.dim() >= 2:
                    p.normal_(0.0, 0.02, generator=gen)
                elif ".ln" in name or name.startswith("ln_f"):
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                else:
                    p.zero_()

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits ``(..., T, vocab)`` of the next character for character indices ``(..., T)``."""
        T = idx.shape[-1]
        x = self.tok_emb(idx) + self.pos_emb.weight[:T]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


# -------------------------------------------------------------------------------- the training


@dataclass(frozen=True)
class RunConfig:
    """One training configuration: ``decay`` the names of the parameters to decay (e.g.
    ``weightreg.param_groups.decay_parameter_names(model, "nanogpt")``), ``weight_decay`` the
    book's lambda (PyTorch's ``weight_decay``), ``clip`` the clipping threshold g_max of
    ``clip_grad_norm_`` (``None``: no clipping), ``label`` a name for tables."""

    decay: frozenset[str]
    weight_decay: float = 0.1
    clip: float | None = 1.0
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.decay, str) or not isinstance(
            self.decay, set | frozenset | list | tuple
        ):
            raise TypeError("decay must be a set of parameter names (str)")
        if not all(isinstance(n, str) for n in self.decay):
            raise TypeError("decay must be a set of parameter names (str)")
        object.__setattr__(self, "decay", frozenset(self.decay))
        object.__setattr__(
            self, "weight_decay", check_nonnegative("weight_decay", self.weight_decay)
        )
        if self.clip is not None:
            object.__setattr__(self, "clip", check_positive("clip", self.clip))
        if not isinstance(self.label, str):
            raise TypeError(f"label must be a str, got {type(self.label).__name__}")


@dataclass(frozen=True)
class GPTRuns:
    """The result of :func:`train_char_gpt`; run ``(c, s)`` is config ``c`` and seed ``s``.

    ``val_loss (C, S)``: final mean cross-entropy (nats per character) on the validation text;
    ``train_loss (C, S, steps)``: the minibatch loss of every step; ``grad_norm (C, S, steps)``:
    the gradient norm before clipping; ``clipped (C, S)``: the fraction of steps where clipping
    changed the gradient; ``params``: name -> stacked final parameters ``(C, S, ...)``;
    ``eval_steps`` and ``val_curve (C, S, len(eval_steps))``: validation loss during training.
    """

    configs: tuple[RunConfig, ...]
    seeds: tuple[int, ...]
    val_loss: torch.Tensor
    train_loss: torch.Tensor
    grad_norm: torch.Tensor
    clipped: torch.Tensor
    params: dict[str, torch.Tensor]
    eval_steps: tuple[int, ...]
    val_curve: torch.Tensor


def _windows(data: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping (input, target) windows covering ``data``."""
    n = (len(data) - 1) // context
    x = data[: n * context].reshape(n, context)
    y = data[1 : n * context + 1].reshape(n, context)
    return x, y


def train_char_gpt(
    corpus: CharCorpus,
    configs: Sequence[RunConfig],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 3e-3,
    betas: tuple[float, float] = (0.9, 0.95),
    model_kwargs: Mapping[str, object] | None = None,
    eval_every: int = 0,
    dtype: torch.dtype = torch.float32,
) -> GPTRuns:
    """Train one :class:`CharGPT` per (config, seed), all in one batched loop (module docstring).

    Each run: ``steps`` AdamW steps (learning rate ``lr`` = eta, constant; ``betas``; eps
    1e-8) on ``batch_size`` random windows of ``context`` characters of ``corpus.train``
    (drawn from ``streams(seed).shuffle``, the same for every config of a seed); loss the mean
    cross-entropy of next-character prediction.  ``model_kwargs`` go to :class:`CharGPT`
    (``seed`` excluded: the run's seed is used).  ``eval_every > 0`` also records the
    validation loss every that many steps.  ``lr * weight_decay`` must be below 1 for every
    config (the decay factor ``1 - lr * weight_decay`` stays positive); a run whose
    validation loss is not finite raises :class:`~weightreg.divergence.TrainingDiverged`.
    """
    if not isinstance(corpus, CharCorpus):
        raise TypeError(
            f"corpus must be a CharCorpus (from char_corpus()), got {type(corpus).__name__}"
        )
    if isinstance(configs, RunConfig) or not isinstance(configs, Sequence) or not configs:
        raise TypeError("configs must be a non-empty sequence of RunConfig")
    if not all(isinstance(c, RunConfig) for c in configs):
        raise TypeError("configs must be a non-empty sequence of RunConfig")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError("seeds must be a non-empty sequence of ints >= 0")
    seeds = tuple(check_seed("seeds", s) for s in seeds)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive("lr", lr)
    if not (isinstance(betas, tuple) and len(betas) == 2):
        raise TypeError("betas must be a pair (beta1, beta2)")
    b1, b2 = (check_probability("betas", b) for b in betas)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    dtype = check_float_dtype("dtype", dtype)
    if model_kwargs is not None and not isinstance(model_kwargs, Mapping):
        raise TypeError(f"model_kwargs must be a dict or None, got {type(model_kwargs).__name__}")
    kwargs = dict(model_kwargs or {})
    if "seed" in kwargs:
        raise ValueError("model_kwargs must not contain 'seed' (each run uses its own seed)")
    try:
        models = [CharGPT(len(corpus.vocab), seed=s, **kwargs).to(dtype) for s in seeds]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"model_kwargs: {exc}") from exc
    names = [n for n, _ in models[0].named_parameters()]
    for c in configs:
        unknown = set(c.decay) - set(names)
        if unknown:
            raise ValueError(f"configs name parameters the model does not have: {sorted(unknown)}")
    context = models[0].context
    if len(corpus.train) <= context + 1 or len(corpus.val) <= context + 1:
        raise ValueError("corpus is shorter than one context window")
    C, S = len(configs), len(seeds)
    R = C * S
    base = models[0]
    init = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]) for n in names}
    params = {
        n: init[n].unsqueeze(0).expand(C, *init[n].shape).reshape(R, *init[n].shape[1:]).clone()
        for n in names
    }
    for p in params.values():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(
        list(params.values()), lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=0.0
    )
    worst = max(c.weight_decay for c in configs)
    if lr * worst >= 1.0:
        raise ValueError(
            "lr * weight_decay must be < 1 (the decay factor is 1 - lr * weight_decay), "
            f"got lr={lr:g} and weight_decay={worst:g}"
        )
    if lr > torch.finfo(dtype).max:
        raise TrainingDiverged(f"the learning rate lr={lr:g} overflows {dtype}: lower it")
    shrink = {
        n: torch.tensor(
            [1.0 - lr * c.weight_decay if n in c.decay else 1.0 for c in configs for _ in seeds],
            dtype=dtype,
        )
        for n in names
    }
    g_max = torch.tensor(
        [math.inf if c.clip is None else c.clip for c in configs for _ in seeds], dtype=dtype
    )
    gens = [streams(s).shuffle for s in seeds]
    high = len(corpus.train) - context - 1

    def loss_one(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = functional_call(base, p, (x,))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    batched = vmap(loss_one)
    vx, vy = _windows(corpus.val, context)
    evaluate = vmap(loss_one, in_dims=(0, None, None))
    train_loss = torch.empty(R, steps, dtype=dtype)
    grad_norm = torch.empty(R, steps, dtype=dtype)
    clipped = torch.zeros(R, dtype=dtype)
    eval_steps = tuple(range(eval_every, steps + 1, eval_every)) if eval_every else ()
    curve = []
    offsets = torch.arange(context + 1)
    for t in range(steps):
        starts = torch.stack([torch.randint(0, high + 1, (batch_size,), generator=g) for g in gens])
        windows = corpus.train[starts.unsqueeze(-1) + offsets]  # (S, B, T + 1)
        windows = windows.unsqueeze(0).expand(C, *windows.shape).reshape(R, batch_size, -1)
        losses = batched(params, windows[..., :-1], windows[..., 1:])
        opt.zero_grad(set_to_none=False)
        losses.sum().backward()
        with torch.no_grad():
            sq = sum(p.grad.reshape(R, -1).pow(2).sum(1) for p in params.values())
            norm = sq.sqrt()
            coef = torch.clamp(g_max / (norm + 1e-6), max=1.0)
            clipped += (coef < 1.0).to(dtype)
            for n, p in params.items():
                p.grad.mul_(coef.reshape(R, *[1] * (p.dim() - 1)))
                p.mul_(shrink[n].reshape(R, *[1] * (p.dim() - 1)))
            train_loss[:, t] = losses.detach()
            grad_norm[:, t] = norm
        opt.step()
        if eval_every and (t + 1) % eval_every == 0:
            with torch.no_grad():
                curve.append(evaluate({n: p.detach() for n, p in params.items()}, vx, vy))
    with torch.no_grad():
        final = {n: p.detach() for n, p in params.items()}
        val = evaluate(final, vx, vy)
    if not bool(torch.isfinite(val).all()):
        raise TrainingDiverged(
            f"training diverged (non-finite validation loss): lower the learning rate lr={lr:g}"
        )
    shape = (C, S)
    return GPTRuns(
        configs=tuple(configs),
        seeds=seeds,
        val_loss=val.reshape(shape),
        train_loss=train_loss.reshape(*shape, steps),
        grad_norm=grad_norm.reshape(*shape, steps),
        clipped=(clipped / steps).reshape(shape),
        params={n: p.reshape(*shape, *p.shape[1:]) for n, p in final.items()},
        eval_steps=eval_steps,
        val_curve=(torch.stack(curve, -1) if curve else torch.empty(R, 0, dtype=dtype)).reshape(
            *shape, len(eval_steps)
        ),
    )
