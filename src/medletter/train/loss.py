"""The letter loss: next-token cross-entropy over the letter tokens, with the vocabulary projection fused in.

The demo model's vocabulary has 262,144 entries and 640 hidden units: its output projection has more
weights than all 18 transformer layers together. Computed the usual way (``lm_head`` -> logits ->
``log_softmax`` -> NLL), a letter of 450 tokens materialises a 450 x 262,144 logit tensor several
times: the bf16 logits, their fp32 copy, the log-softmax, and in the backward pass a zero-filled
gradient of the same size, the log-softmax gradient and the cast back. Profiled on 2 cores, those
copies, fills and the softmax backward took ~1.7 s of a 7.7 s training step; the two projections
themselves 0.8 s.

``letter_loss`` computes the same loss chunk by chunk (as Liger-Kernel's and Apple's "cut cross
entropy" do on GPUs; neither runs on a CPU): for each chunk of positions it forms the logits, their
log-sum-exp and, when gradients are wanted, the gradient with respect to the hidden states right
away (softmax minus one-hot, projected back), so no full-vocabulary tensor outlives its chunk and
the backward pass is a multiplication. The output projection must be frozen (it is under LoRA: the
tied embedding is never trained), and the model's logits must be ``lm_head(h)`` with an optional
``tanh`` soft-cap (Gemma 2/3); ``fused_loss_supported`` says for which models that holds, and the
trainer falls back to the plain path for the others.
"""

from __future__ import annotations

import torch

from medletter.dataset import IGNORE_INDEX

# model types whose causal-LM logits are exactly lm_head(final hidden state), optionally soft-capped
FUSED_MODEL_TYPES = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "gemma3", "phi3", "olmo2"}


def fused_loss_supported(model) -> bool:
    """True when ``model`` (a causal LM, possibly inside a PEFT wrapper) can use ``letter_loss``."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    cfg = getattr(base, "config", None)
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    return (
        cfg is not None
        and getattr(cfg, "model_type", None) in FUSED_MODEL_TYPES
        and head is not None
        and isinstance(head, torch.nn.Linear)
        and head.bias is None
        and not head.weight.requires_grad
        and hasattr(base, "model")
    )


def _weight_in(weight: torch.Tensor, dtype: torch.dtype, cache: dict | None) -> torch.Tensor:
    """``weight`` cast to ``dtype``; with a ``cache`` (the trainer's, one per training run) the copy is
    kept between calls while the frozen weight is unchanged (same tensor, same version counter).

    PEFT's k-bit preparation keeps the tied embedding in fp32; casting its 262,144 x 640 entries to
    bf16 took 78 ms of every micro-step on 2 cores.
    """
    if weight.dtype == dtype:
        return weight
    if cache is None:
        return weight.detach().to(dtype)
    hit = cache.get("head")
    if hit is not None and hit[0] is weight and hit[1] == weight._version and hit[2] == dtype:
        return hit[3]
    w = weight.detach().to(dtype)
    cache["head"] = (weight, weight._version, dtype, w)
    return w


class _LinearCrossEntropy(torch.autograd.Function):
    """sum over valid rows of -log softmax(cap(h W^T))[target]; the gradient for ``hidden`` only.

    Per chunk, in the compute dtype (bf16 under the trainer's autocast): the softmax ``p`` once, the
    target's probability ``p_t`` read off it, then ``1 - p_t`` summed from the *other* entries (so a
    confident token, p_t = 0.9999, keeps its small loss and gradient instead of rounding to zero), the
    loss ``-log p_t`` (as ``-log1p(-(1 - p_t))`` when p_t > 0.5) in fp32, and the gradient
    ``p - onehot`` by writing ``-(1 - p_t)`` into the target's entry. Profiled on 2 cores, this
    replaced an fp32 log-softmax of bf16 logits (310 ms per 256 positions), the fp32 -> bf16 cast of
    its gradient (190 ms) and the exp (30 ms) by one bf16 softmax (65 ms); the gradient's error
    against an fp64 reference is the same as the fp32 path's (both are set by the bf16 matmul).
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, compute_dtype, softcap, chunk, cache, min_p):
        need_grad = ctx.needs_input_grad[0]
        w = _weight_in(weight, compute_dtype, cache)
        grad = torch.zeros_like(hidden) if need_grad else None
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        with torch.autocast(hidden.device.type, enabled=False):
            for s in range(0, hidden.shape[0], chunk):
                t = targets[s : s + chunk]
                valid = t != IGNORE_INDEX
                if not bool(valid.any()):
                    continue
                h = hidden[s : s + chunk].to(compute_dtype)
                logits = h @ w.T
                if softcap:
                    z = torch.tanh(logits.float() / softcap)
                    logits = (z * softcap).to(compute_dtype)
                p = torch.softmax(logits, dim=-1)  # in the compute dtype, accumulated in fp32 by the kernel
                del logits
                rows = torch.arange(p.shape[0], device=p.device)
                tc = t.clamp_min(0)
                p_t = p[rows, tc].float()
                p[rows, tc] = 0
                rest = p.sum(dim=-1).float()  # 1 - p_t, exact for confident tokens too
                nll = torch.where(p_t > 0.5, -torch.log1p(-rest.clamp_max(0.5)), -torch.log(p_t.clamp_min(1e-30)))
                total += (nll * valid).sum()
                if need_grad:
                    p[rows, tc] = (-rest).to(p.dtype)  # softmax minus one-hot
                    p.mul_(valid[:, None].to(p.dtype))
                    if softcap:
                        p.mul_((1.0 - z * z).to(p.dtype))
                    if min_p:
                        # the vocabulary's tail: columns whose gradient entry stays below min_p in every row
                        # of the chunk (the target's entry is the only negative one) are left out
                        cols = ((p.amax(dim=0) > min_p) | (p.amin(dim=0) < -min_p)).nonzero().squeeze(1)
                        grad[s : s + chunk] = (p[:, cols] @ w[cols]).to(hidden.dtype)
                    else:
                        grad[s : s + chunk] = (p @ w).to(hidden.dtype)
                del p
        if need_grad:
            ctx.save_for_backward(grad)
        return total

    @staticmethod
    def backward(ctx, g):
        (grad,) = ctx.saved_tensors
        return grad * g.to(grad.dtype), None, None, None, None, None, None, None


def letter_loss(hidden: torch.Tensor, head: torch.nn.Linear, targets: torch.Tensor, n_items, softcap: float | None = None,
                compute_dtype: torch.dtype | None = None, chunk: int = 256, cache: dict | None = None,
                min_p: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of ``targets`` (``IGNORE_INDEX`` = not counted) under ``softcap(head(hidden))``.

    ``hidden``: [N, H] final hidden states of the positions to score; ``targets``: [N] next tokens;
    ``n_items``: the divisor (the number of target tokens in the whole accumulated batch). Same value and
    gradient as ``cross_entropy(head(hidden), targets, reduction="sum") / n_items``. ``cache``: a dict the
    caller keeps for as long as the head stays frozen (a training run), holding the head cast to the
    compute dtype. ``min_p`` > 0: the gradient projects back only the vocabulary columns whose entry of
    softmax − one-hot exceeds it in some position of the chunk (``TrainConfig.head_grad_min_p``); the
    loss is the same.
    """
    if compute_dtype is None:
        dev = hidden.device.type
        compute_dtype = torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else hidden.dtype
    total = _LinearCrossEntropy.apply(hidden, head.weight, targets, compute_dtype, softcap or None, chunk, cache, float(min_p))
    return total / n_items
