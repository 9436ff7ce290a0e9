"""The gate's rule as a GBNF grammar, for an OpenAI-compatible server that takes one (llama.cpp's server and
llama-cpp-python's: the ``grammar`` field of ``/v1/completions``).

A grammar cannot read a number's class the way the gate does token by token, so it is the weaker rule:
every number the letter writes is one of the case's spans (of any class), or two of them joined by "/" or
"-" ("50,4/1,8", "6-8"); a joining "." or "," must not be followed by a digit unless the joined whole is a
span ("4.4.2029" only if the case has that date); "Gy" follows only a dose of the case. The other units
(fractions, intervals) are checked after the fact (:func:`medletter.grounding.gate.audit`); the draft records
which rule held (``grounding.mode``) and what the check found (``grounding.violations``).
"""

from __future__ import annotations

from medletter.grounding.keys import AllowedNumbers


def _lit(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gbnf(allowed: AllowedNumbers) -> str:
    from medletter.grounding.keys import num_forms

    spans = sorted({s for ks in allowed.keys.values() for s in ks if s and s[0].isdigit()}, key=lambda s: (-len(s), s))
    if not spans:
        spans = ["0"]
    doses = sorted({f for v in allowed.typed.get("Gy", ()) if isinstance(v, float) for f in num_forms(v)}, key=lambda s: (-len(s), s))
    lines = [
        "root ::= item*",
        # a number (or several, separated by single spaces: "07621 416-3300") is followed by anything but a digit,
        # a join with a digit after it, or "Gy"; a dose of the case may be followed by "Gy"
        "item ::= [^0-9] | numseq tail" + (" | dose gy" if doses else ""),
        "numseq ::= num (\" \" num)*",
        f"key ::= {' | '.join(_lit(s) for s in spans)}",
        'num ::= key | key [-/\u2013] key',
        'tail ::= [^0-9.,:/\u2013 G-] | [.,:/\u2013-] [^0-9] | " " [^0-9G] | " G" [^y0-9] | "G" [^y0-9] | " " "G" "\n"',
    ]
    if doses:
        lines += [f"dose ::= {' | '.join(_lit(s) for s in doses)}", 'gy ::= " Gy" | "Gy"']
    return "\n".join(lines) + "\n"
