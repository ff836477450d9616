"""weightreg.transformer: the corpus, the model, and the batched trainer against torch.optim."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from weightreg.param_groups import decay_groups, decay_parameter_names
from weightreg.seeding import streams
from weightreg.transformer import CharCorpus, CharGPT, RunConfig, char_corpus, train_char_gpt

KW = {"width": 8, "context": 6, "heads": 2, "layers": 2}


@pytest.fixture(scope="module")
def corpus():
    return char_corpus()


def test_corpus_is_deterministic_and_split_by_position(corpus):
    again = char_corpus()
    assert torch.equal(corpus.train, again.train) and torch.equal(corpus.val, again.val)
    assert corpus.vocab == "".join(sorted(set(corpus.vocab)))
    text = corpus.decode(corpus.train) + corpus.decode(corpus.val)
    assert len(text) > 40_000 and len(corpus.sources) >= 10
    n = len(corpus.train) + len(corpus.val)
    assert abs(len(corpus.val) / n - 0.1) < 0.01
    # the validation text is made of whole 500-character blocks of the concatenated files
    full = corpus.decode(torch.cat([corpus.train, corpus.val]))
    assert corpus.decode(corpus.val[:500]) not in corpus.decode(corpus.train)
    assert len(full) == n


def test_model_is_causal_and_tied():
    torch.manual_seed(0)
    m = CharGPT(13, **KW, seed=2).double()
    assert m.head.weight is m.tok_emb.weight
    x = torch.randint(0, 13, (3, 6))
    y = m(x)
    x2 = x.clone()
    x2[:, 4] = (x2[:, 4] + 1) % 13
    y2 = m(x2)
    torch.testing.assert_close(y[:, :4], y2[:, :4])  # the past does not see the future
    assert not torch.allclose(y[:, 4:], y2[:, 4:])
    same = CharGPT(13, **KW, seed=2).double()
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), same.parameters(), strict=True))


@pytest.mark.parametrize("clip", [None, 0.05])
def test_batched_runs_equal_torch_optim_adamw_with_groups(corpus, clip):
    """Each batched run = one model trained by torch.optim.AdamW(decay_groups) + clip_grad_norm_."""
    dt = torch.float64
    lr, lam, steps, B = 1e-2, 0.5, 4, 3
    probe = CharGPT(len(corpus.vocab), **KW).to(dt)
    configs = [
        RunConfig(frozenset(decay_parameter_names(probe, rule)), lam, clip, rule)
        for rule in ("nanogpt", "all")
    ]
    runs = train_char_gpt(
        corpus, configs, seeds=(3, 5), steps=steps, batch_size=B, lr=lr, model_kwargs=KW, dtype=dt
    )
    for c, rule in enumerate(("nanogpt", "all")):
        for s, seed in enumerate((3, 5)):
            m = CharGPT(len(corpus.vocab), **KW, seed=seed).to(dt)
            opt = torch.optim.AdamW(decay_groups(m, rule, lam), lr=lr, betas=(0.9, 0.95), eps=1e-8)
            gen = streams(seed).shuffle
            for t in range(steps):
                starts = torch.randint(0, len(corpus.train) - KW["context"], (B,), generator=gen)
                w = corpus.train[starts[:, None] + torch.arange(KW["context"] + 1)]
                logits = m(w[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
                opt.zero_grad()
                loss.backward()
                if clip is not None:
                    norm = torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
                    torch.testing.assert_close(runs.grad_norm[c, s, t], norm.detach())
                torch.testing.assert_close(runs.train_loss[c, s, t], loss.detach())
                opt.step()
            for n, p in m.named_parameters():
                torch.testing.assert_close(runs.params[n][c, s], p.detach(), rtol=1e-10, atol=1e-12)
    if clip is not None:
        assert (runs.clipped > 0).all()
    else:
        assert (runs.clipped == 0).all()


def test_eval_curve_and_shapes(corpus):
    probe = CharGPT(len(corpus.vocab), **KW)
    cfg = RunConfig(frozenset(decay_parameter_names(probe, "nanogpt")), 0.1, 1.0)
    runs = train_char_gpt(
        corpus, [cfg], seeds=(0, 1, 2), steps=6, batch_size=2, model_kwargs=KW, eval_every=3
    )
    assert runs.val_loss.shape == (1, 3) and runs.train_loss.shape == (1, 3, 6)
    assert runs.eval_steps == (3, 6)
    torch.testing.assert_close(runs.val_curve[..., -1], runs.val_loss)
    assert runs.params["tok_emb.weight"].shape == (1, 3, len(corpus.vocab), 8)


def test_bad_input(corpus):
    probe = CharGPT(len(corpus.vocab), **KW)
    good = RunConfig(frozenset(decay_parameter_names(probe, "nanogpt")))
    with pytest.raises(TypeError, match="corpus"):
        train_char_gpt("text", [good])
    with pytest.raises(TypeError, match="configs"):
        train_char_gpt(corpus, good)
    with pytest.raises(ValueError, match="configs"):
        train_char_gpt(corpus, [RunConfig(frozenset({"nope.weight"}))], model_kwargs=KW)
    with pytest.raises(ValueError, match="weight_decay"):
        RunConfig(frozenset(), weight_decay=-1.0)
    with pytest.raises(ValueError, match="clip"):
        RunConfig(frozenset(), clip=0.0)
    with pytest.raises(ValueError, match="width"):
        CharGPT(10, width=6, heads=4)
    with pytest.raises(ValueError, match="norm"):
        CharGPT(10, norm="batch")
    with pytest.raises(ValueError, match="lr"):
        train_char_gpt(corpus, [RunConfig(good.decay, 2.0)], lr=0.5, model_kwargs=KW)
    with pytest.raises(ValueError, match="model_kwargs"):
        train_char_gpt(corpus, [good], model_kwargs={"width": 0})
    with pytest.raises(ValueError, match="validation_every"):
        char_corpus(validation_every=1)
    assert isinstance(corpus, CharCorpus)
