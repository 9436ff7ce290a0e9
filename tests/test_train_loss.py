"""The fused letter loss equals the plain logits -> cross-entropy path, in value and gradient."""

import pytest
import torch

from medletter.dataset import IGNORE_INDEX
from medletter.train.loss import fused_loss_supported, letter_loss


def _plain(hidden, head, targets, n, softcap=None):
    logits = head(hidden).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return torch.nn.functional.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX, reduction="sum") / n


@pytest.mark.parametrize("softcap", [None, 30.0])
@pytest.mark.parametrize("chunk", [3, 256])
def test_fused_loss_matches_plain_cross_entropy(softcap, chunk):
    g = torch.Generator().manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=False)
    head.weight.data = torch.randn(50, 16, generator=g) * 2
    head.weight.requires_grad_(False)
    targets = torch.randint(0, 50, (11,), generator=g)
    targets[[0, 4, 5]] = IGNORE_INDEX
    n = 17  # a divisor from the whole accumulated batch, not this micro-batch
    h1 = torch.randn(11, 16, generator=g, requires_grad=True)
    h2 = h1.detach().clone().requires_grad_(True)
    ref = _plain(h1, head, targets, n, softcap)
    got = letter_loss(h2, head, targets, n, softcap=softcap, compute_dtype=torch.float32, chunk=chunk)
    (ref * 3).backward()
    (got * 3).backward()
    assert torch.allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert torch.allclose(h2.grad, h1.grad, rtol=1e-4, atol=1e-6)
    assert h2.grad[[0, 4, 5]].abs().sum() == 0  # unlabelled positions get no gradient


def test_fused_loss_without_grad_and_in_bf16():
    g = torch.Generator().manual_seed(1)
    head = torch.nn.Linear(8, 40, bias=False).requires_grad_(False)
    h = torch.randn(5, 8, generator=g)
    t = torch.randint(0, 40, (5,), generator=g)
    with torch.no_grad():
        assert torch.allclose(letter_loss(h, head, t, 5, compute_dtype=torch.float32), _plain(h, head, t, 5))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = letter_loss(h, head, t, 5)  # takes the autocast dtype
    assert abs(float(low) - float(_plain(h, head, t, 5))) < 0.05


def test_bf16_loss_keeps_confident_tokens_and_matches_fp64():
    """In bf16 the softmax of a confident token rounds to 1; loss and gradient come from the other entries
    instead, so p_t = 0.9999 keeps its small loss and gradient. Reference: fp64 cross-entropy of the same
    bf16 logits; the gradient may be no further from it than the fp32-softmax path's (whose only error is
    rounding softmax - onehot to bf16 for the projection back)."""
    g = torch.Generator().manual_seed(2)
    V, H = 4096, 32
    head = torch.nn.Linear(H, V, bias=False).requires_grad_(False)
    head.weight.data = torch.randn(V, H, generator=g)
    t = torch.randint(0, V, (6,), generator=g)
    wb = head.weight.data.bfloat16()
    h = torch.zeros(6, H)
    for i, scale in enumerate((0.0, 0.15, 0.3, 0.45, 0.6, 0.75)):  # from unsure to very confident targets
        h[i] = torch.randn(H, generator=g) * 0.3 + scale * head.weight.data[t[i]]
    h = h.bfloat16().float()
    logits = (h.bfloat16() @ wb.T).double()
    ref = torch.nn.functional.cross_entropy(logits, t, reduction="none")
    sm = torch.softmax(logits, -1)
    sm[torch.arange(6), t] -= 1
    ref_grad = sm @ wb.double()
    fp32_path = ((sm.bfloat16()) @ wb).double()  # what an fp32 softmax gives once rounded for the bf16 matmul
    p_t = torch.exp(-ref)
    assert float(p_t.max()) > 0.999 and float(p_t.min()) < 0.5, p_t  # the cases this test is about
    got_h = h.clone().requires_grad_(True)
    got = letter_loss(got_h, head, t, 1, compute_dtype=torch.bfloat16)
    got.backward()
    for i in range(6):
        row = float(letter_loss(h[i : i + 1], head, t[i : i + 1], 1, compute_dtype=torch.bfloat16))
        assert row > 0 and abs(row - float(ref[i])) <= 0.005 * float(ref[i]) + 1e-3, (i, row, float(ref[i]))
        err = float((got_h.grad[i].double() - ref_grad[i]).norm() / ref_grad[i].norm())
        err_fp32 = float((fp32_path[i] - ref_grad[i]).norm() / ref_grad[i].norm())
        assert err <= max(2 * err_fp32, 0.01), (i, float(p_t[i]), err, err_fp32)
    assert abs(float(got) - float(ref.sum())) <= 0.005 * float(ref.sum())


def test_cached_head_copy_follows_changes_of_the_weight():
    head = torch.nn.Linear(8, 30, bias=False).requires_grad_(False)
    h = torch.randn(4, 8)
    t = torch.randint(0, 30, (4,))
    cache: dict = {}
    a = float(letter_loss(h, head, t, 4, compute_dtype=torch.bfloat16, cache=cache))
    kept = cache["head"][3]
    assert float(letter_loss(h, head, t, 4, compute_dtype=torch.bfloat16, cache=cache)) == a
    assert cache["head"][3] is kept  # cast once, reused
    with torch.no_grad():
        head.weight.mul_(3.0)  # an in-place change: the copy must be renewed
    b = float(letter_loss(h, head, t, 4, compute_dtype=torch.bfloat16, cache=cache))
    assert cache["head"][3] is not kept and b != a
    assert abs(b - float(_plain(h, head, t, 4))) < 0.05 * float(_plain(h, head, t, 4))


def test_fused_loss_only_for_frozen_plain_heads(tiny_llama):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    model.requires_grad_(False)
    assert fused_loss_supported(model)
    model.get_output_embeddings().weight.requires_grad_(True)  # a trained head: its gradient is not computed here
    assert not fused_loss_supported(model)


def test_trainer_loss_and_lora_gradients_equal_on_both_paths(tiny_llama, tmp_path):
    """LetterTrainer.compute_loss, fused and through logits_to_keep, on a LoRA model with a padded batch."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, TrainingArguments

    from medletter.train.recipe import _make_trainer_class

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama), dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"))
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)  # non-zero B, so the A matrices get gradients too
    trainer = _make_trainer_class()(model=model, args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]))
    assert trainer.fused_loss
    ids = torch.randint(3, 100, (2, 12))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    labels = ids.clone()
    labels[:, :5] = IGNORE_INDEX  # the prompt
    labels[1, 9:] = IGNORE_INDEX  # padding
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    results = []
    for fused in (True, False):
        trainer.fused_loss = fused
        model.zero_grad()
        loss = trainer.compute_loss(model, batch, num_items_in_batch=torch.tensor(20))
        loss.backward()
        results.append((loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}))
    (l1, g1), (l2, g2) = results
    assert torch.allclose(l1, l2, rtol=1e-5), (l1, l2)
    assert g1.keys() == g2.keys() and len(g1) > 0
    for n in g1:
        assert torch.allclose(g1[n], g2[n], rtol=1e-3, atol=1e-5 * float(g2[n].abs().max())), n


def test_fused_path_runs_under_the_trainers_mixed_precision(tiny_llama, tmp_path):
    """The fused path calls the decoder directly, past the autocast accelerate wraps around model.forward;
    it must enter the same mixed precision itself (bf16 on the CPU), or training silently runs in fp32."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, TrainingArguments

    from medletter.train.recipe import _make_trainer_class

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama), dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    trainer = _make_trainer_class()(model=model, args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, bf16=True,
                                                                          report_to=[]))
    trainer.model = trainer.accelerator.prepare_model(trainer.model)  # as Trainer.train does: wraps forward in autocast
    seen = {}
    layer = next(m for n, m in model.named_modules() if n.endswith("layers.0.mlp.down_proj"))
    layer.register_forward_hook(lambda m, i, o: seen.setdefault(trainer.fused_loss, torch.is_autocast_enabled("cpu")))
    ids = torch.randint(3, 100, (1, 10))
    labels = ids.clone()
    labels[:, :4] = IGNORE_INDEX
    for fused in (False, True):
        trainer.fused_loss = fused
        trainer.compute_loss(trainer.model, {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels})
    assert seen == {False: True, True: True}, seen


def test_head_gradient_over_the_vocabulary_head_only_leaves_the_loss_alone():
    """``min_p``: the loss is the same; the gradient leaves out the columns whose softmax − one-hot entry
    stays below min_p in every row of the chunk, so a tiny threshold is near exact and a large one is not."""
    g = torch.Generator().manual_seed(4)
    V, H = 4096, 32
    head = torch.nn.Linear(H, V, bias=False).requires_grad_(False)
    head.weight.data = torch.randn(V, H, generator=g)
    t = torch.randint(0, V, (9,), generator=g)
    t[2] = IGNORE_INDEX
    h0 = torch.randn(9, H, generator=g) * 0.5
    for i in range(9):
        h0[i] += 0.1 * i * head.weight.data[t[i].clamp_min(0)]  # from unsure to confident rows

    def run(min_p):
        h = h0.clone().requires_grad_(True)
        loss = letter_loss(h, head, t, 8, compute_dtype=torch.float32, chunk=4, min_p=min_p)
        loss.backward()
        return float(loss), h.grad

    exact_loss, exact = run(0.0)
    for min_p, tol in ((1e-7, 1e-4), (1e-3, 0.05)):
        loss, grad = run(min_p)
        assert loss == exact_loss
        err = float((grad - exact).norm() / exact.norm())
        assert err <= tol, (min_p, err)
    loss, grad = run(0.5)  # only the target columns and the few dominant ones
    assert loss == exact_loss and float((grad - exact).norm() / exact.norm()) > 0.05
    assert grad[2].abs().sum() == 0
