"""The learned PHI tagger beside the rules (medletter.privacy.learned, detect.combine, deid eval --cv).

Everything here trains small models in a temporary cache (MEDLETTER_CACHE), so the suite never
depends on, nor touches, a model in the user's cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from medletter.privacy import guard
from medletter.privacy import learned as L
from medletter.privacy.deid_eval import default_dev_path, folds_of, load_gold, score

DEV = default_dev_path()


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLETTER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MEDLETTER_DEID_MODEL", raising=False)
    L.forget_loaded()
    yield tmp_path / "cache"
    L.forget_loaded()


@pytest.fixture(scope="module")
def tiny_model():
    """A small tagger: 12 synthetic letters (+ 6 development letters where present), a few epochs."""
    was = guard.installed()
    guard.install()  # training and loading run offline
    try:
        items = L.synthetic_examples(12, seed=5)
        if DEV:
            items += L.gold_examples(load_gold(DEV)[:6])
        return L.train(items, epochs=8, seed=0, batch_size=4), items
    finally:
        if not was:
            guard.uninstall()


def _recall(items, model):
    gold = [spans for _, spans in items]
    pred = [[x[:3] for x in L.predict(model, text)] for text, _ in items]
    return score(gold, pred)["overall"]


def test_tokeniser_splits_glued_tokens():
    nlp = L.make_nlp()
    text = "geb. 30.12.1987der Pat., Fall-Nr.6733340001, 55-jährige, A-9580-Villach, 11.01.-14.01.2026 und 2029."
    words = [t.text for t in nlp.make_doc(text)]
    for w in ("30.12.1987", "der", "6733340001", "55", "A", "9580", "Villach", "11.01.", "14.01.2026", "2029"):
        assert w in words, (w, words)


def test_synthetic_examples_get_grascco_titles():
    items = L.synthetic_examples(6, seed=3)
    titles = [text[s:e] for text, spans in items for s, e, label in spans if label == "NAME_TITLE"]
    assert titles and all(t.startswith(("Dr", "Prof", "PD", "Priv", "Univ", "Dipl")) for t in titles)


def test_chunks_never_cut_an_entity():
    text = "Zeile eins\n" * 50 + "Herr Max\nMustermann war da.\n" + "Zeile\n" * 50
    s = text.index("Max")
    spans = [(s, s + len("Max\nMustermann"), "NAME_PATIENT")]
    pieces = L._chunks(text, spans, max_chars=100)
    assert sum(len(p[1]) for p in pieces) == 1
    assert "".join(p[0] for p in pieces).replace("\n", "") == text.replace("\n", "")
    piece, (ps, pe, _) = next((p[0], p[1][0]) for p in pieces if p[1])
    assert piece[ps:pe] == "Max\nMustermann"


def test_tiny_model_learns_its_training_letters(tiny_model):
    model, items = tiny_model
    o = _recall(items, model)
    assert o["recall"] >= 0.9 and o["precision"] >= 0.8, o


def test_augmentation_replaces_the_values_and_keeps_the_spans():
    items = L.synthetic_examples(3, seed=11)
    aug = L.augmented(items, copies=1)
    assert len(aug) == 3
    for (text, spans), (atext, aspans) in zip(items, aug):
        assert atext != text
        assert [lab for *_, lab in spans] == [lab for *_, lab in aspans]
        for s, e, label in aspans:
            assert atext[s:e].strip() == atext[s:e] and e > s


def test_augmentation_odd_copies_make_up_names_and_keep_the_rest():
    text = "Frau Erika MUSTERMANN, geb. 02.03.1950, kam am 04.04.2029 aus Leipzig. Frau Mustermann war wach."
    spans = [(5, 21, "NAME_PATIENT"), (28, 38, "DATE"), (47, 57, "DATE"), (62, 69, "LOCATION_CITY"),
             (76, 86, "NAME_PATIENT")]
    assert [text[s:e] for s, e, _ in spans] == ["Erika MUSTERMANN", "02.03.1950", "04.04.2029", "Leipzig", "Mustermann"]
    (atext, aspans), = L.augmented([(text, spans)], copies=2)[1:]
    new = {label: [] for *_, label in aspans}
    for s, e, label in aspans:
        new[label].append(atext[s:e])
    assert new["DATE"] == ["02.03.1950", "04.04.2029"]  # odd copies keep what is not a name or place
    first, last = new["NAME_PATIENT"][0].split()
    assert first[0].isupper() and first[1:].islower() and last.isupper() and last != "MUSTERMANN"
    assert new["LOCATION_CITY"][0] not in ("Leipzig", "") and atext.startswith("Frau ")
    assert "Erika" not in atext and "Leipzig" not in atext


def test_save_load_and_detect_uses_the_model(tmp_cache, tiny_model, caplog):
    from medletter.privacy.detect import detect

    model, _ = tiny_model
    text = "Wir berichten über Frau Adelheid Quastenberg, geb. 03.02.1951, die am 04.04.2029 aufgenommen wurde."
    with caplog.at_level(logging.INFO, logger="medletter.privacy.learned"):
        assert L.load_model() is None
        assert L.load_model() is None
    said = [r.getMessage() for r in caplog.records if "rules only" in r.getMessage()]
    assert len(said) == 1, said  # once per model path
    rules = detect(text)
    path = L.save(model)
    assert path == tmp_cache / L.MODEL_DIR and (path / "config.cfg").is_file()
    loaded = L.load_model()
    assert loaded is not None and L.load_model() is loaded
    assert L.predict(loaded, text) == L.predict(model, text)
    both = detect(text)
    covered = {i for s in both for i in range(s.start, s.end)}
    assert all(i in covered for s in rules for i in range(s.start, s.end))  # union: nothing the rules found is lost
    assert [s.label for s in detect(text, use_learned=False)] == [s.label for s in rules]
    for phi in ("Quastenberg", "03.02.1951"):
        assert any(phi in s.text for s in both), phi
    # no text of the letter in any log line
    for r in caplog.records:
        assert "Quastenberg" not in r.getMessage()


def test_rules_find_the_same_with_the_taggers_tokens(tiny_model):
    """detect() tokenises once: the tagger's doc is Presidio's NLP artifacts too."""
    from medletter.privacy.detect import _artifacts, analyze
    from medletter.synth import generate_corpus

    model, _ = tiny_model
    texts = [r.letter.text for r in generate_corpus(3, seed=8)]
    texts.append("Rückfragen per E-Mail an dr.weber@uniklinik-example.de oder https://www.uniklinik-example.de/rt, "
                 "Tel. 0341/97-12345, Fall-Nr.6733340001 vom 11.01.-14.01.2026.")
    for text in texts:
        ours = analyze(text, "de", nlp_artifacts=_artifacts(model.make_doc(text), "de"))
        theirs = analyze(text, "de")
        key = lambda r: (r.start, r.end, r.entity_type, round(r.score, 4))  # noqa: E731
        assert sorted(map(key, ours)) == sorted(map(key, theirs))


def test_blas_kernels_predict_the_same(tiny_model):
    import numpy as np
    from thinc.api import NumpyOps

    model, items = tiny_model
    text = items[0][0]
    _, _, fast = L.token_scores(model, text)
    tagger = model.get_pipe("tagger").model
    saved = [(node, node.ops) for node in tagger.walk()]
    try:
        for node, _ in saved:
            node.ops = NumpyOps()  # thinc's own kernels
        _, _, plain = L.token_scores(model, text)
    finally:
        for node, ops in saved:
            node.ops = ops
    assert np.allclose(fast, plain, atol=1e-5)


def test_model_env_off_means_rules_only(tmp_cache, tiny_model, monkeypatch):
    model, _ = tiny_model
    L.save(model)
    monkeypatch.setenv("MEDLETTER_DEID_MODEL", "off")
    L.forget_loaded()
    assert L.load_model() is None


def test_combine_lets_rules_win_and_filters_measurements():
    from presidio_analyzer import RecognizerResult

    from medletter.privacy.detect import _plausible, combine

    text = "Frau Meier, RR 140/80 mmHg, Thrombozyten 276 /nl, am 04.04.2029."
    s = text.index("Meier")
    rules = [RecognizerResult("NAME_PATIENT", s, s + 5, 0.85)]
    learned = [(s, s + 5, "NAME_DOCTOR", 0.9), (text.index("04.04"), text.index("04.04") + 10, "DATE", 0.8)]
    out = combine(rules, learned, text)
    assert [(x.text, x.label) for x in out] == [("Meier", "NAME_PATIENT"), ("04.04.2029", "DATE")]
    a = text.index("140/80")
    assert not _plausible(text, a, a + 6, "DATE")
    b = text.index("276")
    assert not _plausible(text, b, b + 3, "ID")
    assert _plausible(text, text.index("04.04"), text.index("04.04") + 10, "DATE")


def test_learned_dates_follow_the_rules_policy():
    """A season and a year stays (as in the rules); a number after "Tel." is no year; lab values are no dates."""
    from medletter.privacy.detect import _plausible

    text = "seit Winter 2023 abstinent, im Frühjahr 2021, Tel. 2033, Hb 29.9, am 19.3. und 7.5.2029, Vorfall 2012."

    def ok(fragment):
        i = text.index(fragment)
        return _plausible(text, i, i + len(fragment), "DATE")

    assert not ok("2023") and not ok("Frühjahr 2021") and not ok("2033") and not ok("29.9")
    assert ok("19.3") and ok("7.5.2029") and ok("2012")


def test_folds_split_documents_once():
    folds = folds_of(41, 5, seed=0)
    assert sorted(i for f in folds for i in f) == list(range(41))
    assert {len(f) for f in folds} <= {8, 9}
    assert folds == folds_of(41, 5, seed=0) and folds != folds_of(41, 5, seed=1)
    with pytest.raises(ValueError):
        folds_of(3, 5)


@pytest.mark.skipif(DEV is None, reason="GraSCCo_PHI dev set not available")
def test_combined_recall_not_below_rules_on_held_out_letters(tiny_model):
    """The tiny tagger never saw these letters (it was trained on the first six)."""
    from medletter.privacy.detect import analyze, combine, learned_spans, resolve

    model, _ = tiny_model
    docs = load_gold(DEV)[30:36]
    gold = [[(int(s["start"]), int(s["end"]), s["label"]) for s in d["phi"]] for d in docs]
    rules, both = [], []
    for d in docs:
        res = analyze(d["text"], "de")
        rules.append([(s.start, s.end, s.label) for s in resolve(res, d["text"])])
        both.append([(s.start, s.end, s.label) for s in combine(res, learned_spans(d["text"], model=model), d["text"])])
    r, c = score(gold, rules)["overall"], score(gold, both)["overall"]
    assert c["recall"] >= r["recall"]
    assert c["precision"] >= 0.8, c


def _tiny_gold(tmp_path: Path) -> Path:
    """Eight short letters with gold spans, from the synthetic corpus."""
    from medletter.synth import generate_corpus

    rows = []
    for rec in generate_corpus(8, seed=21):
        text = rec.letter.text[:1500]
        phi = [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in rec.letter.spans if s.end <= 1500]
        rows.append({"doc": rec.case.case_id, "text": text, "phi": phi})
    p = tmp_path / "gold.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def test_cli_eval_builds_the_missing_model_once(tmp_cache, tmp_path, monkeypatch):
    """`deid eval` (as the outside check runs it) trains the tagger into the cache when it is missing,
    says so on stderr only (stdout stays one JSON document), and uses it; --rules-only never builds."""
    from typer.testing import CliRunner

    from medletter.privacy import deid_eval
    from medletter.privacy.cli import deid_app

    runner = CliRunner()
    gold = _tiny_gold(tmp_path)
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--json", "--rules-only"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["detector"] == "rules" and not L.model_ready()

    # the real defaults train for 1.5 minutes: a small budget here, the same code path
    monkeypatch.setattr(L, "SYNTH_LETTERS", 3)
    monkeypatch.setattr(L, "EPOCHS", 2)
    monkeypatch.setattr(L, "AUGMENT", 0)
    monkeypatch.setattr(deid_eval, "default_dev_path", lambda: gold)
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["detector"].startswith("rules+learned")
    assert "building it once" in r.stderr and "epoch" not in r.stderr
    assert L.model_ready() and json.loads((tmp_cache / L.MODEL_DIR / "medletter.json").read_text())["gold_documents"] == 8
    r = runner.invoke(deid_app, ["train-model", "--if-missing"])
    assert r.exit_code == 0 and "already built" in r.stdout


def test_cli_train_model_eval_and_cv(tmp_cache, tmp_path):
    from typer.testing import CliRunner

    from medletter.privacy.cli import deid_app

    runner = CliRunner()
    gold = _tiny_gold(tmp_path)
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--json", "--rules-only"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["detector"] == "rules"

    r = runner.invoke(deid_app, ["train-model", "--gold", str(gold), "--synth", "4", "--epochs", "2", "--augment", "1"])
    assert r.exit_code == 0, r.output
    assert (tmp_cache / L.MODEL_DIR / "tagger").is_dir()
    meta = json.loads((tmp_cache / L.MODEL_DIR / "medletter.json").read_text())
    assert meta["gold_documents"] == 8 and meta["synthetic_letters"] == 4
    L.forget_loaded()
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["detector"].startswith("rules+learned") and res["overall"]["recall"] >= 0.9
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--json", "--rules-only"])
    assert json.loads(r.output)["detector"] == "rules"

    args = ["eval", "--gold", str(gold), "--cv", "2", "--synth", "2", "--epochs", "1", "--augment", "0"]
    r = runner.invoke(deid_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    cv = json.loads(r.output)
    assert cv["cv"]["folds"] == 2 and cv["cv"]["fold_sizes"] == [4, 4]
    for part in ("rules", "learned", "combined"):
        assert 0.0 <= cv[part]["overall"]["recall"] <= 1.0 and "labels" in cv[part]
    assert cv["combined"]["overall"]["recall"] >= cv["rules"]["overall"]["recall"]
    r = runner.invoke(deid_app, args)
    assert r.exit_code == 0, r.output
    assert "cross-validation" in r.output and "combined R" in r.output and "NAME_PATIENT" in r.output
    r = runner.invoke(deid_app, ["eval", "--gold", str(gold), "--cv", "20"])
    assert r.exit_code == 2 and "--cv" in r.output
