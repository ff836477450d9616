"""Which parameters to decay: torch.optim parameter groups by a named rule.

Introduced in the chapter *Weight decay in practice* (``book/normalized/practice.md``).

A model's trainable parameters are split in two ``torch.optim`` parameter groups: the
decayed ones (``weight_decay`` = the book's lambda, PyTorch's ``weight_decay``) and the others
(``weight_decay = 0``).  Three rules:

``"nanogpt"``
    nanoGPT's ``GPT.configure_optimizers`` {karpathy2022nanogpt} (``model.py``, checked on the
    repository's last commit, ``3adf61e``): a parameter is decayed iff it has two or more
    dimensions (``p.dim() >= 2``): every matrix of a ``Linear`` layer, every embedding table
    (and, through tying, the output head), convolution kernels; never a bias, a norm's gain or
    shift, a scalar.  The rule looks at shapes only, so it does not matter which class
    implements the norm (nanoGPT's own ``LayerNorm``, ``nn.RMSNorm``, ...).
``"huggingface"``
    ``transformers.Trainer.get_decay_parameter_names`` of **transformers 4.46.3**
    {wolf2020transformers} (``trainer.py`` and ``trainer_pt_utils.get_parameter_names``,
    read in the released wheel): the parameter names found by walking the module tree with
    ``named_children``, where every parameter *inside a child module that is an instance of*
    ``nn.LayerNorm`` (the list ``ALL_LAYERNORM_LAYERS = [nn.LayerNorm]`` of
    ``pytorch_utils``) is dropped, then every name *containing the substring* ``"bias"``
    (case-sensitive, anywhere in the dotted name) is dropped.  Consequences: an
    ``nn.Embedding`` (and a tied head) is decayed; the gain of an ``nn.RMSNorm``, of a
    ``BatchNorm``, of a home-made LayerNorm class (nanoGPT's!) is decayed (the Trainer's own
    docstring warns about the last); a 2-D parameter named e.g. ``"rel_bias.table"`` is *not*
    decayed, nor is ``"unbiased.weight"``; a 1-D parameter that is not a bias and not in an
    ``nn.LayerNorm`` (a learned temperature, a gate vector) is decayed.  (Later versions of
    transformers changed the rule, e.g. also matching names containing "layernorm" or
    "rmsnorm"; this module reproduces 4.46.3 only.)
``"all"``
    every trainable parameter is decayed (what ``torch.optim.AdamW(model.parameters(),
    weight_decay=...)`` does).

Conventions shared by the rules (both sources do the same): parameters with
``requires_grad=False`` are left out of every group; a parameter shared by two modules
(tied weights: ``head.weight is tok_emb.weight``) appears once, under the first name
``named_parameters()`` gives it, and that name decides the Hugging Face rule (as in the
Trainer, which looks up ``named_parameters()`` names in the decay list).
"""

from __future__ import annotations

from torch import nn

from .validation import check_choice, check_nonnegative

__all__ = ["RULES", "decay_groups", "decay_parameter_names"]

RULES: tuple[str, ...] = ("nanogpt", "huggingface", "all")
"""The rules :func:`decay_groups` knows."""


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _hf_candidate_names(module: nn.Module) -> list[str]:
    """transformers 4.46.3 ``get_parameter_names(module, [nn.LayerNorm])``."""
    result: list[str] = []
    for name, child in module.named_children():
        inner = _hf_candidate_names(child)
        if not isinstance(child, nn.LayerNorm):
            result += [f"{name}.{n}" for n in inner]
    result += list(module._parameters.keys())
    return result


def decay_parameter_names(model: nn.Module, rule: str) -> list[str]:
    """The names (as ``model.named_parameters()`` gives them) of the trainable parameters that
    ``rule`` ("nanogpt", "huggingface" or "all"; see the module docstring) decays, in the
    order of ``named_parameters()``.  A model without trainable parameters is refused."""
    model = _check_model(model)
    rule = check_choice("rule", rule, RULES)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("model has no trainable parameters (requires_grad=True)")
    if rule == "all":
        return [n for n, _ in named]
    if rule == "nanogpt":
        return [n for n, p in named if p.dim() >= 2]
    allowed = {n for n in _hf_candidate_names(model) if "bias" not in n}
    return [n for n, _ in named if n in allowed]


def decay_groups(model: nn.Module, rule: str, weight_decay: float = 0.1) -> list[dict]:
    """Two ``torch.optim`` parameter groups for ``model`` under ``rule``.

    ``[{"params": decayed, "weight_decay": weight_decay, "param_names": names},
    {"params": others, "weight_decay": 0.0, "param_names": names}]``: every trainable
    parameter of ``model`` is in exactly one group, once (tied weights included); ``rule`` is
    "nanogpt", "huggingface" (transformers 4.46.3) or "all" (module docstring);
    ``weight_decay >= 0`` is the book's lambda (PyTorch's ``weight_decay``).  Pass the list to
    ``torch.optim.AdamW(groups, lr=...)``.  A group may be empty (the second under "all").
    """
    model = _check_model(model)
    rule = check_choice("rule", rule, RULES)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    chosen = set(decay_parameter_names(model, rule))
    decayed = [(n, p) for n, p in named if n in chosen]
    others = [(n, p) for n, p in named if n not in chosen]
    return [
        {
            "params": [p for _, p in decayed],
            "weight_decay": weight_decay,
            "param_names": [n for n, _ in decayed],
        },
        {
            "params": [p for _, p in others],
            "weight_decay": 0.0,
            "param_names": [n for n, _ in others],
        },
    ]
