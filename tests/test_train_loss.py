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
