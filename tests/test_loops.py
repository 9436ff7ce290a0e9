"""A draft that repeats itself is stopped, at the same token by every backend (medletter.generate.loops)."""

from __future__ import annotations

import pytest

from medletter.generate.loops import MAX_PERIOD, loop_end, looping


def test_a_block_repeated_is_a_loop_only_once_min_tokens_are_copied():
    head = list(range(1000, 1030))  # 30 distinct tokens, then a 7-token sentence again and again
    block = [1, 2, 3, 4, 5, 6, 7]
    ids = head + block * 20
    # the copy of the block begins at len(head) + 7; 12 copied tokens later it is a loop
    assert loop_end(ids, 12) == len(head) + 7 + 12
    assert not looping(ids, 12, end=len(head) + 7 + 11) and looping(ids, 12, end=len(head) + 7 + 12)
    assert loop_end(ids, 200) is None  # never 200 copied tokens in 170
    assert loop_end(ids, 0) is None and not looping(ids, 0)
    one = [9] * 40
    assert loop_end(one, 12) == 13  # one token 13 times: 12 tokens equal those one back


def test_a_copy_from_far_back_counts_up_to_max_period():
    stretch = list(range(2000, 2060))  # 60 tokens, written again after a gap of other text
    near = stretch + list(range(3000, 3000 + MAX_PERIOD - 60)) + stretch
    far = stretch + list(range(3000, 3000 + MAX_PERIOD - 59)) + stretch
    assert loop_end(near, 60) == len(near)  # the copy ends exactly MAX_PERIOD tokens after the original
    assert loop_end(far, 60) is None  # one token farther back: not looked for
    assert loop_end(stretch[:59] + list(range(5000, 5100)) + stretch[:59], 60) is None  # 59 tokens: not yet


def test_no_reference_letter_of_any_style_counts_as_a_loop(tiny_llama):
    """The default (60 tokens) never cuts a real letter: every style's synthetic letters, tokenised."""
    from medletter.generate.settings import GenSettings
    from medletter.models import load_tokenizer
    from medletter.synth import generate_corpus, style_names

    tok = load_tokenizer(tiny_llama)
    m = GenSettings().loop_tokens
    n = 0
    for i, style in enumerate(style_names()):
        for r in generate_corpus(30, seed=100 + i, lang="de", style=style):
            ids = tok(r.letter.text, add_special_tokens=False)["input_ids"]
            assert loop_end(ids, m) is None, (style, r.case.case_id)
            n += 1
    assert n >= 60


LOOP = 12


def test_hf_stops_a_looping_letter_where_the_full_letter_would_be_cut(looping_run, corpus_records):
    """Drafting with the check stops at the token where the letter drafted without it is cut after the fact,
    and saves the rest."""
    from medletter.generate import load_run
    from medletter.generate.backends import GenSettings, HFBackend

    from medletter.records import Record

    model, tok, _ = load_run(looping_run)
    recs = [Record(case=r.case) for r in corpus_records[:2]]
    full = HFBackend(model, tok, "uniklinik", "de", "t", GenSettings(max_new_tokens=150, batch_size=2, loop_tokens=0)).draft(recs)
    steps = []
    cut = HFBackend(model, tok, "uniklinik", "de", "t", GenSettings(max_new_tokens=150, batch_size=2, loop_tokens=LOOP)).draft(
        recs, on_token=steps.append)
    assert max(steps) == max(c.new_tokens for c in cut), "decoding stopped there, not at max_new_tokens"
    for f, c in zip(full, cut):
        assert not f.looped and f.new_tokens > 100, f  # the model loops on: 12 copies of one sentence
        ids = tok(f.text, add_special_tokens=False)["input_ids"]
        k = loop_end(ids, LOOP)
        assert k is not None and c.looped and not c.stopped and c.new_tokens == k < f.new_tokens // 2, (k, c)
        assert f.text.startswith(c.text) and c.text.count("die Patientin stellt") == 2  # the sentence, and 12 tokens of its copy


def test_llamacpp_and_a_server_cut_the_loop_at_the_same_token_as_hf(looping_run, corpus_records, tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make env builds it)")
    from test_export_llamacpp import _serving

    from medletter.generate.backends import GenSettings, make_backend
    from medletter.records import Record

    recs = [Record(case=r.case) for r in corpus_records[:3]]
    hf = make_backend("hf", looping_run, settings=GenSettings(max_new_tokens=150, batch_size=3, loop_tokens=LOOP, grounding="off")).draft(recs)
    assert all(d.looped for d in hf)
    texts = {}
    for batch in (1, 3):  # one letter at a time, and as parallel sequences
        lc = make_backend("llamacpp", looping_run, settings=GenSettings(max_new_tokens=150, batch_size=batch, loop_tokens=LOOP, grounding="off"),
                          fallback=False)
        steps = []
        ds = lc.draft(recs, on_token=steps.append)
        lc.close()
        assert all(d.looped and not d.stopped for d in ds), ds
        if batch == 1:
            assert max(steps) == max(d.new_tokens for d in ds), "decoding stopped there, not at max_new_tokens"
        texts[batch] = [d.text for d in ds]
        assert [d.new_tokens for d in ds] == [d.new_tokens for d in hf]
    assert texts[1] == texts[3] == [d.text for d in hf]
    with _serving([looping_run], tmp_path) as (port, _):
        be = make_backend("openai", looping_run, endpoint=f"http://127.0.0.1:{port}", model=looping_run.name,
                          settings=GenSettings(max_new_tokens=150, loop_tokens=LOOP, grounding="off"))
        (d,) = be.draft(recs[:1])
    assert d.looped and d.text == hf[0].text and d.new_tokens == hf[0].new_tokens


def test_generate_command_says_how_many_letters_looped_and_can_turn_it_off(looping_run, corpus_records, tmp_path):
    import json

    from typer.testing import CliRunner

    from medletter.cli import app
    from medletter.jsonl import write_jsonl

    cases = tmp_path / "cases.jsonl"
    write_jsonl(cases, [{"case": r.case.model_dump(mode="json")} for r in corpus_records[:2]])
    runner = CliRunner()
    rows = {}
    for n in ("12", "0"):
        out = tmp_path / f"letters-{n}.jsonl"
        r = runner.invoke(app, ["generate", "--run", str(looping_run), "--cases", str(cases), "--out", str(out),
                                "--max-new-tokens", "100", "--loop-tokens", n, "--grounding", "off"])
        assert r.exit_code == 0, r.output
        rows[n] = [json.loads(line) for line in out.read_text().splitlines()]
        assert ("2 stopped because they began to repeat themselves" in " ".join(r.output.split())) == (n == "12"), r.output
    assert all(x["looped"] and x["new_tokens"] < 100 for x in rows["12"])
    assert all(not x["looped"] and x["new_tokens"] == 100 for x in rows["0"])
