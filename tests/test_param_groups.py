"""weightreg.param_groups: the decay rules against brute force, tied weights, torch.optim."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from weightreg.param_groups import RULES, decay_groups, decay_parameter_names
from weightreg.transformer import CharGPT


class _HomeMadeNorm(nn.Module):  # nanoGPT-style LayerNorm: not an nn.LayerNorm instance
    def __init__(self, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.layer_norm(x, x.shape[-1:], self.weight, self.bias)


class _Zoo(nn.Module):
    """Every case the rules disagree on."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(7, 4)
        self.conv = nn.Conv1d(4, 4, 3)
        self.bn = nn.BatchNorm1d(4)
        self.ln = nn.LayerNorm(4)
        self.rms = nn.RMSNorm(4)
        self.home = _HomeMadeNorm(4)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 4, bias=False))
        self.rel_bias = nn.Parameter(torch.zeros(3, 3))  # 2-D, named "bias"
        self.unbiased = nn.Linear(4, 4)  # "bias" in the module's name
        self.temperature = nn.Parameter(torch.ones(()))  # 0-D, not a bias
        self.gate = nn.Parameter(torch.ones(4))  # 1-D, not a bias
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)
        self.head = nn.Linear(4, 7, bias=False)
        self.head.weight = self.emb.weight  # tied


def _brute(model: nn.Module, rule: str) -> set[str]:
    """The rules restated independently, from named_modules / named_parameters."""
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if rule == "all":
        return set(trainable)
    if rule == "nanogpt":
        return {n for n, p in trainable.items() if len(p.shape) >= 2}
    in_layernorm = set()
    for mname, module in model.named_modules():
        if isinstance(module, nn.LayerNorm) and mname:
            for pname, _ in module.named_parameters(recurse=True):
                in_layernorm.add(f"{mname}.{pname}")
    return {n for n in trainable if n not in in_layernorm and "bias" not in n}


MODELS = {
    "zoo": _Zoo,
    "gpt": lambda: CharGPT(11, context=8, width=8, heads=2, seed=1),
    "gpt_rms": lambda: CharGPT(11, context=8, width=8, heads=2, norm="rms", seed=1),
    "mlp_bn": lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)),
}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", MODELS)
def test_rules_match_brute_force_and_partition(rule, name):
    model = MODELS[name]()
    groups = decay_groups(model, rule, weight_decay=0.3)
    assert [g["weight_decay"] for g in groups] == [0.3, 0.0]
    decayed = set(groups[0]["param_names"])
    assert decayed == _brute(model, rule) == set(decay_parameter_names(model, rule))
    ids = [id(p) for g in groups for p in g["params"]]
    trainable = [p for p in model.parameters() if p.requires_grad]  # deduplicated by torch
    assert len(ids) == len(set(ids)) == len(trainable)
    assert set(ids) == {id(p) for p in trainable}
    named = dict(model.named_parameters())
    for g in groups:
        assert all(named[n] is p for n, p in zip(g["param_names"], g["params"], strict=True))


def test_the_zoo_cases_by_name():
    model = _Zoo()
    nano = set(decay_parameter_names(model, "nanogpt"))
    hf = set(decay_parameter_names(model, "huggingface"))
    # embedding (and the tied head, listed once under its first name) decayed by both
    assert {"emb.weight", "conv.weight", "body.0.weight", "body.2.weight"} <= nano & hf
    assert "head.weight" not in dict(model.named_parameters())
    # norm gains: nanoGPT never; HF only spares nn.LayerNorm
    for n in ("bn.weight", "rms.weight", "home.weight", "gate", "temperature"):
        assert n not in nano and n in hf, n
    for n in ("ln.weight", "ln.bias", "body.1.weight", "body.1.bias"):
        assert n not in nano and n not in hf, n
    # "bias" anywhere in the name, whatever the shape
    assert "rel_bias" in nano and "rel_bias" not in hf
    assert "unbiased.weight" in nano and "unbiased.weight" not in hf
    assert not any(n.startswith("frozen") for n in decay_parameter_names(model, "all"))


def test_charGPT_rules_agree_with_layernorm_and_differ_with_rmsnorm():
    gpt = MODELS["gpt"]()
    assert decay_parameter_names(gpt, "nanogpt") == decay_parameter_names(gpt, "huggingface")
    rms = MODELS["gpt_rms"]()
    diff = set(decay_parameter_names(rms, "huggingface")) - set(
        decay_parameter_names(rms, "nanogpt")
    )
    gains = {n for n, m in rms.named_modules() if isinstance(m, nn.RMSNorm)}
    assert diff == {f"{n}.weight" for n in gains} and len(gains) == 5  # the RMSNorm gains


def test_top_level_layernorm_is_not_filtered_like_transformers():
    # transformers' get_parameter_names only drops parameters of a *child* LayerNorm
    assert decay_parameter_names(nn.LayerNorm(3), "huggingface") == ["weight"]


def test_groups_accepted_by_adamw_and_decay_only_the_first_group():
    torch.manual_seed(0)
    model = _Zoo().double()
    groups = decay_groups(model, "nanogpt", weight_decay=0.5)
    opt = torch.optim.AdamW(groups, lr=0.1)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # zero gradient: only the decay moves the weights
    opt.step()
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        factor = 1 - 0.1 * 0.5 if n in groups[0]["param_names"] else 1.0
        torch.testing.assert_close(p.detach(), before[n] * factor, rtol=0, atol=1e-15)


def test_bad_input():
    with pytest.raises(TypeError, match="model"):
        decay_groups("model", "nanogpt")
    with pytest.raises(ValueError, match="rule"):
        decay_groups(nn.Linear(2, 2), "bert")
    with pytest.raises(ValueError, match="weight_decay"):
        decay_groups(nn.Linear(2, 2), "all", weight_decay=-0.1)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="trainable"):
        decay_groups(frozen, "all")
