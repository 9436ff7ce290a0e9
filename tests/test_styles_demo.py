"""`medletter demo --styles`: the style-fidelity measure, and the multi-style run end to end on the tiny model."""

from __future__ import annotations

import json

from medletter.styles_demo import closest_styles, fidelity


def _corpus(style, n=6, seed=4):
    from medletter.synth import generate_corpus

    return generate_corpus(n, seed=seed, lang="de", style=style)


def test_references_are_closest_to_their_own_style_and_other_styles_are_not():
    from medletter.synth import render_letter
    import random

    styles = ["uniklinik", "kreisklinikum", "praxis"]
    uni, kreis = _corpus("uniklinik"), _corpus("kreisklinikum")
    # the reference letters themselves (other random variants of the style than the ones compared against)
    own = fidelity({"uniklinik": (uni, {r.case.case_id: r.letter.text for r in uni}),
                    "kreisklinikum": (kreis, {r.case.case_id: r.letter.text for r in kreis})}, styles)
    assert own["style_fidelity"] == {"uniklinik": 1.0, "kreisklinikum": 1.0}, own
    # an "adapter" that writes the praxis style for uniklinik's cases: fidelity 0, and the matrix says where they went
    wrong = {r.case.case_id: render_letter(r.case, "praxis", "de", random.Random(7)).text for r in uni}
    res = fidelity({"uniklinik": (uni, wrong)}, styles)
    assert res["style_fidelity"]["uniklinik"] == 0.0 and res["matrix"]["uniklinik"]["praxis"] == len(uni), res
    # an empty draft is no style at all
    assert set(closest_styles(uni[:2], {r.case.case_id: "" for r in uni[:2]}, styles).values()) == {"none"}


def test_styles_demo_trains_one_adapter_per_style_and_reports_fidelity(tmp_path, tiny_llama):
    from medletter.styles_demo import run_styles_demo

    out = tmp_path / "multi"
    report = run_styles_demo(out, ["uniklinik", "kreisklinikum"], n_train=6, n_test=2, n_validation=2, seed=2, max_steps=1,
                             model=str(tiny_llama), backend="hf", config="cpu-demo")
    ev = json.loads((out / "eval.json").read_text())
    assert ev["styles"] == ["uniklinik", "kreisklinikum"]
    for st in ev["styles"]:
        assert (out / st / "adapter" / "adapter_config.json").is_file()  # an adapter each
        cfg = json.loads(json.dumps(__import__("yaml").safe_load((out / st / "config.yaml").read_text())))
        assert cfg["style"] == st
        assert sum(ev["fidelity"]["matrix"][st].values()) <= ev["fidelity"]["n"][st] == 2
        assert 0.0 <= ev["per_style"][st]["section_coverage"] <= 1.0
    page = report.read_text()
    assert "fidelity-uniklinik" in page and "kreisklinikum/report.html" in page
