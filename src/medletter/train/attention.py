"""Causal attention in blocks of query rows, for training on CPUs: the same result as transformers' ``eager``
attention without computing the scores that the causal (and sliding-window) mask throws away.

``eager`` multiplies every query with every key (T x T scores per head), adds the mask, takes the softmax and
multiplies with every value; for a causal model half of those scores are masked out, and for Gemma 3's
sliding-window layers (15 of the demo model's 18, window 512) most of the rest too. Here the query rows go in
blocks of ``CHUNK``; a block attends only to the keys from the first one its mask can let through (0, or
``first row - window + 1`` in a sliding-window layer) to its last row. Within that range the arithmetic is
eager's: scores in the compute dtype, the mask added, softmax in fp32 and back, the same values; the keys
left out are exactly those the mask sets to its minimum, whose softmax weight is 0. Grouped-query attention
is done by folding the query heads of a key/value head into the rows, so keys and values are not copied
per query head (``repeat_kv``). PyTorch's SDPA on CPUs does not skip masked blocks when it is given a mask and
measured slower than ``eager`` here (TrainConfig.attn_implementation).

Measured on the project's 2-core CPU (one 1,000-token example, 4 query heads of 256 over 1 key/value head,
bf16, forward and backward; ``benchmarks/RESULTS.md``): 45 -> 25 ms for a sliding-window layer, 54 -> 30 ms
for a global one. In a whole training step that is less than those figures promise: ``bench_train.py`` measured
1.01-1.05x eager's tokens/s (bf16, AMD EPYC) and 1.06x (fp32, Intel Xeon), the same losses, 0.3-1 GB less
peak memory.

Anything else (no mask, a key/value cache longer than the queries, weights asked for) is computed in one
block over all keys, i.e. exactly as ``eager``.
"""

from __future__ import annotations

import torch
from torch import nn

NAME = "medletter_chunked"
CHUNK = 256


def chunked_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                      attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                      softcap: float | None = None, sliding_window: int | None = None, **kwargs):
    """transformers' attention interface: ``query`` [b, heads, T, d], ``key``/``value`` [b, kv_heads, S, d],
    ``attention_mask`` the eager 4D additive mask [b, 1, T, S]; returns ([b, T, heads, d], None)."""
    b, h, t, d = query.shape
    kvh, s_len = key.shape[1], key.shape[2]
    g = h // kvh
    if scaling is None:
        scaling = module.head_dim ** -0.5
    # blocks only where the mask is causal over the same positions (training); else one block, as eager
    blocked = attention_mask is not None and s_len == t and getattr(module, "is_causal", True)
    step = CHUNK if blocked else t
    p_drop = dropout if module.training else 0.0
    outs = []
    for s in range(0, t, step):
        e = min(t, s + step)
        k0 = max(0, s - sliding_window + 1) if (blocked and sliding_window) else 0
        k1 = e if blocked else s_len
        tc, sk = e - s, k1 - k0
        q = query[:, :, s:e].reshape(b, kvh, g * tc, d)
        w = torch.matmul(q, key[:, :, k0:k1].transpose(2, 3)) * scaling
        if softcap is not None:
            w = torch.tanh(w / softcap) * softcap
        w = w.view(b, kvh, g, tc, sk)
        if attention_mask is not None:
            w = w + attention_mask[:, :, s:e, k0:k1].unsqueeze(2)
        w = nn.functional.softmax(w, dim=-1, dtype=torch.float32).to(query.dtype)
        if p_drop:
            w = nn.functional.dropout(w, p=p_drop, training=True)
        o = torch.matmul(w.view(b, kvh, g * tc, sk), value[:, :, k0:k1])
        outs.append(o.view(b, h, tc, d))
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``attn_implementation=NAME`` known to transformers (with eager's mask); returns NAME."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(NAME, chunked_attention)
    AttentionMaskInterface.register(NAME, eager_mask)
    return NAME
