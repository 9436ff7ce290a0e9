"""Generation settings in one place: the CLI, the demo and the review app take their defaults from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenSettings:
    max_new_tokens: int = 640
    """Longest letter in tokens (the demo sets it from the training letters' longest, +15%)."""
    batch_size: int = 8
    """Letters generated together: one hf batch, or parallel llama.cpp sequences (greedy); servers draft one at a time."""
    do_sample: bool = False
    """Greedy by default: the same case gives the same draft."""
    temperature: float = 0.7
    top_p: float = 0.9
    grounding: str = "on"
    """``on``: the fine-tuned model writes only numbers its case backs (``medletter.grounding``: the gate runs at each
    decoding step in every engine; a server without grammar support is checked after the fact). ``off``: the model
    writes freely. A base model is never gated (the comparison shows what the base writes itself)."""
    loop_tokens: int = 60
    """Stop a draft whose last this-many tokens copy, token for token, a stretch of its own text (at most 512
    tokens back): it is looping (``medletter.generate.loops``; the draft records ``looped``). 0: never."""
