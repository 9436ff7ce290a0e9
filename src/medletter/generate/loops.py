"""Stop a letter that repeats itself.

A base model (and now and then a fine-tuned one on an unusual case) falls into a loop under greedy decoding:
the same signature lines again and again, or the whole case block echoed, a heading, the case block again,
until ``max_new_tokens``. Greedy decoding that has copied its own text for a while almost always goes on
copying it, so the rest is time spent on nothing: every one of the demo's base letters ran to the limit.

A draft *is looping* once its last ``min_tokens`` tokens repeat, token for token, the ``min_tokens`` tokens
that ended ``p`` tokens earlier, for some ``p <= MAX_PERIOD`` (for a short block that means several copies in
a row). Letters do not do that: they copy facts from the case, not stretches of their own text (no reference
letter of the synthetic corpus does; tested). Every backend stops at the same token (the check runs after
each new token; ``loop_end`` after the fact gives the same cut), so hf, llama.cpp and a server give the same
text, and the draft records ``looped``.
"""

from __future__ import annotations

MAX_PERIOD = 512
"""Farthest back a copied stretch may start, in tokens (a base model's echo of the whole case is ~300)."""


def looping(ids: list[int], min_tokens: int, end: int | None = None) -> bool:
    """Whether ``ids[:end]`` ends in a loop: its last ``min_tokens`` tokens equal those ``p`` tokens earlier
    for some ``1 <= p <= MAX_PERIOD``. ``min_tokens`` 0 turns the check off."""
    n = len(ids) if end is None else end
    if min_tokens <= 0 or n <= min_tokens:
        return False
    last = ids[n - 1]
    tail = None
    for p in range(1, min(MAX_PERIOD, n - min_tokens) + 1):
        if ids[n - 1 - p] != last:  # cheap test first: the newest token must equal the one p back
            continue
        if tail is None:
            tail = ids[n - min_tokens : n]
        if ids[n - min_tokens - p : n - p] == tail:
            return True
    return False


def loop_end(ids: list[int], min_tokens: int) -> int | None:
    """The length of the shortest prefix of ``ids`` that ends in a loop (where decoding stops), or None."""
    if min_tokens <= 0:
        return None
    for k in range(min_tokens + 1, len(ids) + 1):
        if looping(ids, min_tokens, end=k):
            return k
    return None
