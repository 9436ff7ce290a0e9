"""Grounded number decoding: a draft writes only numbers its case backs.

- :mod:`~medletter.grounding.spans`: number spans in text, with their class and unit, read a character at a time;
- :mod:`~medletter.grounding.keys`: what a case allows (its values rendered the ways letters write them);
- :mod:`~medletter.grounding.constants`: the department's own numbers, mined from its training letters;
- :mod:`~medletter.grounding.tokens`: what each token of a vocabulary writes;
- :mod:`~medletter.grounding.gate`: the gate every engine runs at each decoding step;
- :mod:`~medletter.grounding.grammar`: the same rule as a GBNF grammar, for servers that take one.

:class:`Grounding` puts them together for a backend: one per tokenizer and run, one gate per letter.
"""

from __future__ import annotations

from pathlib import Path

from medletter.grounding.gate import SequenceGate, audit
from medletter.grounding.keys import AllowedNumbers, allowed_numbers
from medletter.grounding.tokens import token_table

MODES = ("on", "off")


class Grounding:
    """The gates of one backend: its tokenizer's token table, the run's department constants, the language
    the missing-value marker is written in."""

    def __init__(self, tokenizer, run: Path | None = None, lang: str = "de", stops=()):
        from medletter.grounding.constants import constants_for

        self.tokenizer = tokenizer
        self.table = token_table(tokenizer)
        self.constants = constants_for(Path(run)) if run is not None else []
        self.lang = lang
        self.stops = frozenset(int(s) for s in stops)

    def allowed(self, case) -> AllowedNumbers:
        return allowed_numbers(case, self.constants)

    def gate(self, case) -> SequenceGate:
        enc = lambda text: self.tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
        return SequenceGate(self.allowed(case), self.table, enc, lang=self.lang, stops=self.stops)


__all__ = ["Grounding", "SequenceGate", "AllowedNumbers", "allowed_numbers", "audit", "MODES"]
