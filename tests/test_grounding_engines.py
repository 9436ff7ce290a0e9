"""Every engine drafts with the gate on: a tiny model that memorised a letter with "12 Gy" (a dose no case has)
writes no number its case does not back, and says where it was held; with the gate off it writes its letter."""

from __future__ import annotations

import pytest

from medletter.generate.settings import GenSettings
from medletter.grounding import allowed_numbers, audit


@pytest.fixture(scope="module")
def cases(corpus_records):
    """Cases that have no "12" anywhere (no date, dose or count), so the memorised "12 Gy" is the model's own."""
    from medletter.records import Record

    out = [Record(case=r.case) for r in corpus_records if not any("12" in ks for ks in allowed_numbers(r.case).keys.values())]
    assert len(out) >= 2
    return out[:2]


def _check_held(drafts, cases):
    from tiny_llama import PLANTED_LETTER

    for d, r in zip(drafts, cases):
        assert d.text != PLANTED_LETTER and "12 Gy" not in d.text, d.text
        assert audit(d.text, allowed_numbers(r.case)) == [], d.text
        g = d.grounding
        assert g["on"] and g["mode"] == "gate" and g["interventions"], g
        first = g["interventions"][0]
        assert first["blocked"].startswith("12") or first["blocked"].startswith("1"), first
        assert d.text[first["start"]:].startswith(first["written"][:6]), (d.text, first)


def test_hf_engine_holds_numbers_and_writes_as_generate_without_intervention(memorising_run, cases, monkeypatch):
    from tiny_llama import PLANTED_LETTER

    from medletter.generate.backends import make_backend

    on = make_backend("hf", memorising_run, settings=GenSettings(max_new_tokens=60, batch_size=2))
    _check_held(on.draft(cases), cases)
    off = make_backend("hf", memorising_run, settings=GenSettings(max_new_tokens=60, batch_size=2, grounding="off")).draft(cases)
    assert all(d.text == PLANTED_LETTER and d.grounding is None for d in off)
    # the grounded loop (written out, to rewind) writes what generate writes where the gate lets everything through
    import medletter.grounding as G

    monkeypatch.setattr(G.Grounding, "allowed", lambda self, case: allowed_numbers(case, ["12 Gy", "15 Fraktionen"]))
    free = on.draft(cases)
    assert [d.text for d in free] == [PLANTED_LETTER] * 2 and all(d.grounding["interventions"] == [] for d in free)
    assert [d.new_tokens for d in free] == [d.new_tokens for d in off] and all(d.stopped for d in free)


llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make env builds it)")


@pytest.mark.parametrize("batch", [1, 2])
def test_llamacpp_engine_holds_numbers_alone_and_in_parallel(memorising_run, cases, batch):
    from medletter.generate.backends import make_backend

    lc = make_backend("llamacpp", memorising_run, settings=GenSettings(max_new_tokens=60, batch_size=batch), fallback=False)
    seen = []
    drafts = lc.draft(cases, on_token=seen.append)
    lc.close()
    _check_held(drafts, cases)
    if batch == 1:
        assert seen  # progress, one letter at a time (the review app's way)


def test_openai_engine_sends_the_grammar_to_a_real_llamacpp_server(memorising_run, cases, tmp_path):
    """llama.cpp's server takes the gate's rule as a GBNF grammar: no number outside the case's spans."""
    from test_export_llamacpp import _serving

    from medletter.generate.backends import make_backend
    from medletter.grounding.spans import spans

    with _serving([memorising_run], tmp_path) as (port, _):
        be = make_backend("openai", memorising_run, endpoint=f"http://127.0.0.1:{port}", model=memorising_run.name,
                          settings=GenSettings(max_new_tokens=60))
        drafts = be.draft(cases)
    for d, r in zip(drafts, cases):
        a = be.grounding.allowed(r.case)  # with the run's constants, as the grammar had them
        assert d.grounding["mode"] == "grammar" and "12 Gy" not in d.text, d.text
        keys = {s for ks in a.keys.values() for s in ks}
        assert all(s.span in keys or a.complete_ok(s.klass, s.span) for s in spans(d.text)), d.text
