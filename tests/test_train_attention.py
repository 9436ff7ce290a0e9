"""Blocked causal attention (train/attention.py) equals transformers' eager attention, masks made by transformers."""

import pytest
import torch

from medletter.train import attention


def _gemma3(seed=0):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(seed)
    cfg = Gemma3TextConfig(
        vocab_size=120, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, sliding_window=7,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"], max_position_embeddings=256,
        pad_token_id=0, bos_token_id=2, eos_token_id=1,
    )
    return Gemma3ForCausalLM(cfg).float()


def _llama(seed=0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=120, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=256, pad_token_id=0)
    return LlamaForCausalLM(cfg).float()


@pytest.mark.parametrize("make", [_gemma3, _llama])
def test_blocked_attention_gives_eager_logits_and_gradients(make, monkeypatch):
    """Blocks of 5 query rows over 37 positions (a partial last block), a sliding window of 7 that starts
    inside a block, grouped-query heads, and a right-padded second row as the trainer's collate makes it."""
    monkeypatch.setattr(attention, "CHUNK", 5)
    name = attention.register()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 120, (2, 37), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 30:] = 0
    ids[1, 30:] = 0
    results = {}
    for impl in ("eager", name):
        model = make()
        model.config._attn_implementation = impl
        model.train()
        logits = model(input_ids=ids, attention_mask=mask).logits
        loss = (logits[mask.bool()].log_softmax(-1)[:, 5]).sum()
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        results[impl] = (logits.detach()[mask.bool()], grads)
    (le, ge), (lc, gc) = results["eager"], results[name]
    assert torch.allclose(lc, le, atol=1e-5, rtol=1e-4)
    assert ge.keys() == gc.keys() and ge
    for n in ge:
        assert torch.allclose(gc[n], ge[n], atol=1e-5, rtol=1e-4), n


def test_blocked_attention_skips_masked_keys_only(monkeypatch):
    """Called directly: blocks never read a key its mask lets through for some row; with a key/value cache
    longer than the queries (generation) or without a mask it computes eager's one block."""
    from transformers.models.gemma3.modeling_gemma3 import eager_attention_forward

    monkeypatch.setattr(attention, "CHUNK", 4)

    class Mod(torch.nn.Module):
        head_dim, num_key_value_groups, is_causal = 8, 2, True

    m = Mod().eval()
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, h, 13, 8, generator=g) for h in (4, 2, 2))
    i = torch.arange(13)
    for window in (None, 3):
        ok = i[None, :] <= i[:, None]
        if window:
            ok &= i[None, :] > i[:, None] - window
        add = torch.where(ok, 0.0, torch.finfo(torch.float32).min)[None, None]
        ref, _ = eager_attention_forward(m, q, k, v, add, scaling=0.3)
        got, _ = attention.chunked_attention(m, q, k, v, add, scaling=0.3, sliding_window=window)
        assert torch.allclose(got, ref, atol=1e-6)
    ref, _ = eager_attention_forward(m, q[:, :, -2:], k, v, None, scaling=0.3)
    got, _ = attention.chunked_attention(m, q[:, :, -2:], k, v, None, scaling=0.3)
    assert torch.allclose(got, ref, atol=1e-6)
