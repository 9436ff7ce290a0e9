"""A learned PHI detector beside the rules: a token tagger (spaCy), trained offline from a blank German pipeline.

The tagger learns the GraSCCo PHI labels (``detect.ALL_LABELS`` less ``CONTACT_URL``; the scoring
labels, one to one) from three sources: the synthetic corpus's ground-truth spans
(:func:`medletter.synth.generate_corpus`, with GraSCCo-style NAME_TITLE spans added), a gold file in
the GraSCCo_PHI format (the development letters), and variants of the gold letters with their PHI
replaced (:func:`augmented`). Nothing is downloaded: the pipeline starts from ``spacy.blank("de")``
(a tokeniser with a few extra splits for noisy letters, see :func:`make_nlp`) and its tagger is
trained here, with a fixed seed.

    medletter deid train-model [--gold FILE]      # trains once into the cache
    model = load_model()                         # None when no model was built (rules only)
    spans = predict(model, text)                 # [(start, end, label, score), ...]

The model lives in ``<cache>/deid-tagger-v<VERSION>`` (``$MEDLETTER_CACHE`` or ``~/.cache/medletter``);
:func:`medletter.privacy.detect.detect` uses it when it is there. Training and prediction log counts
and timings only, never text.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

VERSION = 1
MODEL_DIR = f"deid-tagger-v{VERSION}"
# the labels the tagger learns: every GraSCCo label (web addresses are left to the rules)
LABELS = (
    "NAME_PATIENT", "NAME_DOCTOR", "NAME_TITLE", "NAME_RELATIVE", "NAME_EXT", "NAME_USERNAME", "DATE", "AGE",
    "ID", "PROFESSION", "LOCATION_STREET", "LOCATION_ZIP", "LOCATION_CITY", "LOCATION_HOSPITAL",
    "LOCATION_ORGANIZATION", "LOCATION_COUNTRY", "CONTACT_PHONE", "CONTACT_FAX", "CONTACT_EMAIL",
)
# training defaults for the shipped model (chosen by cross-validation, see benchmarks/RESULTS.md)
EPOCHS = 12
SYNTH_LETTERS = 150
AUGMENT = 2  # variants of each gold letter: one with surrogates, one with made-up names
SYNTH_SEED = 20291
SEED = 0
DROPOUT = 0.2
BATCH = 16
LEARN_RATE = 0.001
CHUNK_CHARS = 800
THRESHOLD = 0.3  # a token is PHI when the tagger gives it at least this probability of not being O (chosen by CV)

Example3 = tuple[str, list[tuple[int, int, str]]]  # (text, [(start, end, label), ...])

_lock = threading.Lock()
_predict_lock = threading.Lock()
_loaded: dict[str, object] = {}
_absent_logged: set[str] = set()


# --- the pipeline ---------------------------------------------------------------------------------


# The tagger: a token classifier (spaCy's ``Tagger`` over a hashed-embedding CNN) with one tag per
# PHI label plus "O" (inside/outside tagging: overlap scoring needs no begin tags, and a softmax per
# token is about twice as fast as spaCy's transition-based NER, see benchmarks/RESULTS.md). Sized for CPU speed.
ARCH = {"width": 64, "depth": 4, "embed_size": 4000, "maxout_pieces": 3}
OUTSIDE = "O"


def _tagger_config(arch: dict) -> dict:
    a = {**ARCH, **arch}
    return {"model": {
        "@architectures": "spacy.Tagger.v2", "nO": None, "normalize": True,  # softmax also at inference
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": a["width"],
                    "depth": a["depth"], "embed_size": a["embed_size"], "window_size": 1,
                    "maxout_pieces": a["maxout_pieces"], "subword_features": True},
    }}


def make_nlp(arch: dict | None = None):
    """A blank German pipeline whose tokeniser also splits what noisy letters glue together:
    a final period after a number ("2029."), "Nr.6733", "FN:4455", "1987der", "A-9580-Villach",
    "11.01.-14.01.2026", "28.6.–23.8.2024", "55-jährige"; and an untrained ``tagger`` component."""
    import spacy
    from spacy.util import compile_infix_regex, compile_suffix_regex

    nlp = spacy.blank("de")
    suffixes = [*nlp.Defaults.suffixes, r"(?<=\d)\.", r"(?<=\d)[-–:;]"]
    infixes = [
        *nlp.Defaults.infixes,
        r"(?<=[A-Za-zÄÖÜäöüß])[.:;#](?=\d)",      # Nr.6733, FN:4455
        r"(?<=\d)[:;](?=[A-Za-zÄÖÜäöüß])",        # 2034:Leukozyten
        r"(?<=\d)(?=[a-zäöüß]{3,})",              # 1987der (zero-width split)
        r"(?<=[0-9])-(?=[A-Za-zÄÖÜäöüß])",        # 55-jährige, 9580-Villach
        r"(?<=[A-Z])-(?=\d)",                     # A-9580
        r"(?<=\d\.)-(?=\d)",                      # 11.01.-14.01.
        r"(?<=[\d.])[–—](?=[\dA-ZÄÖÜ])",          # 28.6.–23.8.2024, 2025–September
    ]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.add_pipe("tagger", config=_tagger_config(arch or {}))
    return nlp


# --- training data --------------------------------------------------------------------------------

_TITLE = (r"(?:(?:Univ\.-?\s?)?Prof\.|PD|Priv\.-?\s?Doz\.|Dipl\.-Med\.|Dr\.)"
          r"(?:\s?(?:Prof\.|Dr\.|med\.(?:\s?dent\.|\s?univ\.)?|rer\.\s?nat\.|habil\.|phil\.))*")


def _with_titles(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """GraSCCo marks academic titles before a name as NAME_TITLE; the synthetic letters do not: add them."""
    import regex as re

    out = list(spans)
    for s, e, label in spans:
        if not label.startswith("NAME_"):
            continue
        m = re.search(rf"(?<![\w.]){_TITLE}\s*$", text[max(0, s - 40):s])
        if m:
            ts = max(0, s - 40) + m.start()
            te = ts + len(m.group(0).rstrip())
            if not any(a < te and ts < b for a, b, _ in out):
                out.append((ts, te, "NAME_TITLE"))
    return sorted(out)


def synthetic_examples(n: int = SYNTH_LETTERS, seed: int = SYNTH_SEED) -> list[Example3]:
    """Letters of the synthetic corpus with their ground-truth spans (titles added, GraSCCo style)."""
    from medletter.synth import generate_corpus

    out = []
    for rec in generate_corpus(n, seed=seed, lang="de"):
        if rec.letter is None:
            continue
        spans = [(s.start, s.end, s.label) for s in rec.letter.spans]
        out.append((rec.letter.text, _with_titles(rec.letter.text, spans)))
    return out


def gold_examples(docs: Iterable[dict]) -> list[Example3]:
    """Documents in the GraSCCo_PHI format (``deid_eval.load_gold``) as training examples."""
    return [(d["text"], [(int(s["start"]), int(s["end"]), str(s["label"])) for s in d["phi"]]) for d in docs]


_SYLLABLES = ("ber", "kal", "mo", "ri", "wen", "dor", "fa", "lin", "gru", "hei", "sto", "pel", "nau", "zi", "ack",
              "bro", "tes", "mar", "uhl", "ko", "sen", "tra", "vi", "land", "ger", "schu", "ne", "pol", "dra", "ke")
_PSEUDO_LABELS = ("NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE", "NAME_EXT", "LOCATION_CITY")


def _pseudo_words(original: str, rng: random.Random) -> str:
    """``original`` with every capitalised word made up anew (same case pattern, same punctuation and
    numbers, initials kept as initials): names the tagger cannot have seen, so that only the context
    and the shape tell it that this is a name."""
    import regex as re

    def word(m):
        w = m.group(0)
        if len(w) == 1 or not w[0].isupper():
            return w
        new = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        if w.isupper():
            return new.upper()
        return new[0].upper() + new[1:]

    return re.sub(r"[^\W\d_]+", word, original)


def augmented(items: Sequence[Example3], copies: int = 2, seed: int = SEED) -> list[Example3]:
    """``copies`` variants of each example. Even copies: every PHI span replaced by the pseudonymiser's
    surrogate (with a key per copy): other real names, shifted dates in the same format, other numbers
    and places. Odd copies: person names and cities replaced by made-up words (:func:`_pseudo_words`),
    the rest kept. Either way the tagger has to learn the context rather than the values."""
    from medletter.privacy.operators import apply
    from medletter.privacy.surrogates import Surrogates
    from medletter.records import Span

    out: list[Example3] = []
    for c in range(copies):
        rng = random.Random(f"{seed}-{c}")
        for k, (text, spans) in enumerate(items):
            if c % 2:
                out.append(_pseudonymised_names(text, spans, rng))
                continue
            key = f"medletter-augment-{seed}-{c}-{k}".encode().ljust(32, b"=")
            try:
                res = apply(text, [Span(start=s, end=e, label=label, text=text[s:e]) for s, e, label in spans],
                            Surrogates(key=key, patient_key=f"{c}-{k}"))
            except Exception as e:  # a surrogate that cannot be made: skip this variant (no text in the log)
                logger.debug("augmentation skipped a document (%s)", type(e).__name__)
                continue
            out.append((res.text, [(sp.start, sp.end, sp.label) for sp in res.spans]))
    return out


def _pseudonymised_names(text: str, spans: list[tuple[int, int, str]], rng: random.Random) -> Example3:
    parts, new_spans, pos, shift = [], [], 0, 0
    names: dict[str, str] = {}  # the same name gets the same made-up word throughout the letter
    for s, e, label in sorted(spans):
        if s < pos:  # overlapping gold: keep as is
            continue
        parts.append(text[pos:s])
        old = text[s:e]
        if label in _PSEUDO_LABELS:
            new = names.setdefault(old, _pseudo_words(old, rng))
        else:
            new = old
        new_spans.append((s + shift, s + shift + len(new), label))
        parts.append(new)
        shift += len(new) - len(old)
        pos = e
    parts.append(text[pos:])
    return "".join(parts), new_spans


def _chunks(text: str, spans: list[tuple[int, int, str]], max_chars: int = CHUNK_CHARS) -> list[Example3]:
    """Split a letter at line breaks into pieces of at most ``max_chars`` (more, where an entity or a
    long line demands it), never inside an entity; offsets are re-based to each piece."""
    cuts = [0]
    inside = [False] * (len(text) + 1)
    for s, e, _ in spans:
        for i in range(s + 1, min(e, len(text)) + 1):
            inside[i] = True
    last_break = None
    i = 0
    while i < len(text):
        if text[i] == "\n" and not inside[i + 1]:
            last_break = i + 1
        if i - cuts[-1] >= max_chars and last_break and last_break > cuts[-1]:
            cuts.append(last_break)
        i += 1
    cuts.append(len(text))
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if b <= a or not text[a:b].strip():
            continue
        out.append((text[a:b], [(s - a, e - a, label) for s, e, label in spans if a <= s and e <= b]))
    return out


def _tags(doc, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """One tag per token: the label of the entity whose characters it touches (the longer entity wins), else O."""
    tags = [OUTSIDE] * len(doc)
    for s, e, label in sorted(spans, key=lambda x: x[1] - x[0]):
        if label not in LABELS:
            continue
        sp = doc.char_span(s, e, alignment_mode="expand")
        if sp is None:
            continue
        for i in range(sp.start, sp.end):
            tags[i] = label
    return tags


def _to_examples(nlp, items: Sequence[Example3]):
    from spacy.training import Example

    examples = []
    for text, spans in items:
        doc = nlp.make_doc(text)
        examples.append(Example.from_dict(doc, {"tags": _tags(doc, spans)}))
    return examples


_WORD_RX = None


def words_of(text: str) -> list[str]:
    """The lower-cased words (two letters or more) of ``text``."""
    global _WORD_RX
    if _WORD_RX is None:
        import regex as re

        _WORD_RX = re.compile(r"[^\W\d_]{2,}")
    return [w.lower() for w in _WORD_RX.findall(text)]


def common_words(items: Sequence[Example3], min_docs: int = 2) -> list[str]:
    """Words that occur outside every PHI span in at least ``min_docs`` training letters and never inside
    one: the letters' ordinary vocabulary ("Debridement", "Leber", "Lesen"). The precision filter of
    :func:`medletter.privacy.detect.learned_spans` drops a learned name or place made only of such words."""
    from collections import Counter

    docs: Counter[str] = Counter()
    phi: set[str] = set()
    for text, spans in items:
        inside = set()
        for s, e, _ in spans:
            inside.update(words_of(text[s:e]))
        phi |= inside
        masked = list(text)
        for s, e, _ in spans:
            masked[s:e] = " " * (e - s)
        docs.update(set(words_of("".join(masked))))
    return sorted(w for w, n in docs.items() if n >= min_docs and w not in phi)


def train(items: Sequence[Example3], *, epochs: int = EPOCHS, seed: int = SEED, dropout: float = DROPOUT,
          chunk_chars: int = CHUNK_CHARS, arch: dict | None = None, batch_size: int = BATCH,
          learn_rate: float = LEARN_RATE, vocab_items: Sequence[Example3] | None = None,
          log: Callable[[str], None] | None = None):
    """Train the tagger on ``items`` (text, spans); returns the spaCy pipeline (seeded: the same
    model for the same data and seed on the same machine). ``vocab_items``: the letters whose ordinary
    words the model keeps for the precision filter (:func:`common_words`; default ``items``; pass the
    originals, not surrogate variants, so that one letter's words do not count as several)."""
    import spacy
    from spacy.util import minibatch

    spacy.util.fix_random_seed(seed)
    t0 = time.perf_counter()
    nlp = make_nlp(arch)
    pieces = [c for text, spans in items for c in _chunks(text, spans, chunk_chars)]
    examples = _to_examples(nlp, pieces)
    rng = random.Random(seed)
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = learn_rate
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        msg = f"epoch {epoch + 1}/{epochs}: loss {losses.get('tagger', 0.0):.1f} ({time.perf_counter() - t0:.0f} s)"
        if log:
            log(msg)
        else:
            logger.info(msg)
    nlp.meta["medletter"] = {"version": VERSION, "arch": {**ARCH, **(arch or {})}, "epochs": epochs, "seed": seed,
                             "dropout": dropout, "documents": len(items), "pieces": len(pieces),
                             "train_seconds": round(time.perf_counter() - t0, 1)}
    nlp.meta["medletter_common_words"] = common_words(items if vocab_items is None else vocab_items)
    use_blas(nlp)  # for predicting
    return nlp


_blas_threads = None  # numpy's OpenBLAS `openblas_set_num_threads_local`, once looked up; False: none


def _blas_local_threads():
    """ctypes handle on the thread-local thread count of the OpenBLAS that numpy is linked with, or None
    (another BLAS, another platform): the tagger then keeps thinc's own kernels."""
    global _blas_threads
    if _blas_threads is None:
        _blas_threads = False
        try:
            import ctypes
            import glob

            import numpy

            base = Path(numpy.__file__).resolve().parent
            for lib in sorted(glob.glob(str(base.parent / "numpy.libs" / "*openblas*"))) + \
                    sorted(glob.glob(str(base / ".dylibs" / "*openblas*"))):
                fn = getattr(ctypes.CDLL(lib), "openblas_set_num_threads_local", None)
                if fn is not None:
                    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
                    _blas_threads = fn
                    break
        except Exception:  # noqa: BLE001 - any failure: keep thinc's kernels
            _blas_threads = False
    return _blas_threads or None


def use_blas(nlp):
    """Let the tagger multiply its matrices with numpy's OpenBLAS, one thread (see :func:`token_scores`),
    instead of thinc's bundled BLIS kernels: the same predictions (probabilities equal to 1e-6), about
    twice the speed on this project's CPU (benchmarks/RESULTS.md). Only where numpy's OpenBLAS lets us
    set the thread count per calling thread: its worker threads would otherwise spin beside the rules
    and slow everything down on a small machine. Training stays on thinc's kernels (quicker there)."""
    from thinc.api import NumpyOps

    if "tagger" in nlp.pipe_names and _blas_local_threads() is not None:
        ops = NumpyOps(use_blis=False)
        for node in nlp.get_pipe("tagger").model.walk():
            node.ops = ops
        nlp._medletter_blas = True
    return nlp


def model_common_words(nlp) -> frozenset[str]:
    """The ordinary words the model was trained with (see :func:`common_words`), as a set (cached)."""
    cached = getattr(nlp, "_medletter_common", None)
    if cached is None:
        cached = frozenset(nlp.meta.get("medletter_common_words", ()))
        nlp._medletter_common = cached
    return cached


def token_scores(nlp, text: str, doc=None):
    """(doc, labels, probabilities): the tagger's softmax per token (rows) over its labels (columns).
    ``doc``: ``nlp.make_doc(text)`` when the caller has it already."""
    tagger = nlp.get_pipe("tagger")
    doc = nlp.make_doc(text) if doc is None else doc
    if not len(doc):
        return doc, list(tagger.labels), None
    with _predict_lock:  # one prediction at a time per process (the app calls from worker threads)
        threads = _blas_local_threads() if getattr(nlp, "_medletter_blas", False) else None
        before = threads(1) if threads else None
        try:
            probs = tagger.model.predict([doc])[0]
        finally:
            if threads:
                threads(before)
    return doc, list(tagger.labels), tagger.model.ops.to_numpy(probs)


def predict(nlp, text: str, threshold: float = THRESHOLD, doc=None) -> list[tuple[int, int, str, float]]:
    """The tagger's PHI spans in ``text`` as (start, end, label, score): runs of tokens whose probability of
    being PHI (1 - P(O)) is at least ``threshold``, each run labelled with its likeliest PHI label and
    scored with its tokens' lowest PHI probability; trimmed of edge blanks and punctuation."""
    if not text:
        return []
    doc, labels, probs = token_scores(nlp, text, doc)
    if probs is None:
        return []
    o = labels.index(OUTSIDE) if OUTSIDE in labels else None
    phi_cols = [i for i in range(len(labels)) if i != o]
    if not phi_cols:
        return []
    phi = 1.0 - probs[:, o] if o is not None else probs.sum(axis=1)
    best = probs[:, phi_cols].argmax(axis=1)
    out = []
    i, n = 0, len(doc)
    while i < n:
        if phi[i] < threshold or doc[i].is_space:
            i += 1
            continue
        label = labels[phi_cols[best[i]]]
        j = i + 1
        while j < n and phi[j] >= threshold and labels[phi_cols[best[j]]] == label and not doc[j].is_space:
            j += 1
        s, e = doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text)
        while s < e and not text[s].isalnum() and text[s] not in "+(":
            s += 1
        while e > s and not text[e - 1].isalnum() and text[e - 1] not in ".)":
            e -= 1
        if e > s:
            out.append((s, e, label, float(phi[i:j].min())))
        i = j
    return out


# --- the cached model -----------------------------------------------------------------------------


def model_path() -> Path | None:
    """Where the model is: ``$MEDLETTER_DEID_MODEL`` (a folder; "off" for rules only), else the cache."""
    env = os.environ.get("MEDLETTER_DEID_MODEL", "").strip()
    if env.lower() in ("off", "none", "0", "false", "rules"):
        return None
    if env:
        return Path(env).expanduser()
    from medletter.privacy.nlp import cache_dir

    return cache_dir() / MODEL_DIR


def save(nlp, path: Path | None = None) -> Path:
    """Write the pipeline atomically to ``path`` (default: the cache); returns the path. The string
    store is left out: the training letters' words are not needed to predict (features are hashed)."""
    path = path or model_path()
    if path is None:
        raise ValueError("MEDLETTER_DEID_MODEL is off: name a folder to save the model into")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp, exclude=["vocab"])  # the tagger hashes its features: no need to keep the letters' strings
    old = path.with_name(path.name + f".old{os.getpid()}")
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
    with _lock:
        _loaded.pop(str(path), None)
    return path


def load_model(path: Path | None = None):
    """The trained tagger from ``path`` (default: the cache), loaded once; None when there is none
    (logged once per path: detection then runs on the rules only)."""
    path = path or model_path()
    if path is None:
        return None
    path = Path(path)
    key = str(path)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if not model_ready(path):
            if key not in _absent_logged:
                _absent_logged.add(key)
                logger.info("no learned PHI model in %s: detection uses the rules only "
                            "(build it once with `medletter deid train-model`)", path)
            return None
        import spacy

        nlp = use_blas(spacy.load(path))
        _loaded[key] = nlp
        logger.info("loaded the learned PHI model from %s", path)
        return nlp


def forget_loaded() -> None:
    """Drop the loaded models (tests switch caches)."""
    with _lock:
        _loaded.clear()
        _absent_logged.clear()


def model_ready(path: Path | None = None) -> bool:
    """Whether a trained tagger lies at ``path`` (default: where detection looks)."""
    path = path or model_path()
    return path is not None and (Path(path) / "config.cfg").is_file() and (Path(path) / "tagger").is_dir()


def ensure_model(log: Callable[[str], None] | None = None) -> Path | None:
    """The tagger detection uses, built once into the cache when it is missing (on the development
    letters where this checkout has them, plus the synthetic corpus; about 1.5 minutes on 2 cores).
    None when the model is switched off (``MEDLETTER_DEID_MODEL=off``)."""
    path = model_path()
    if path is None or model_ready(path):
        return path
    from medletter.privacy.deid_eval import default_dev_path

    gold = default_dev_path()
    if log:
        log(f"no learned PHI tagger in {path}: building it once ("
            + ("development letters + " if gold else "no development letters found: ")
            + f"{SYNTH_LETTERS} synthetic letters; about 1.5 minutes on 2 cores)")
    build_model(gold, synth=SYNTH_LETTERS, epochs=EPOCHS, augment=AUGMENT, out=path, log=log)
    return path


def build_model(gold: Path | None = None, *, synth: int = SYNTH_LETTERS, epochs: int = EPOCHS, augment: int = AUGMENT,
                seed: int = SEED, out: Path | None = None, log: Callable[[str], None] | None = None) -> tuple[Path, dict]:
    """Train on all of ``gold`` (if given; with ``augment`` surrogate variants of each letter) plus
    ``synth`` synthetic letters, and save into the cache (or ``out``)."""
    items: list[Example3] = []
    n_gold = 0
    if gold is not None:
        from medletter.privacy.deid_eval import load_gold

        g = gold_examples(load_gold(gold))
        n_gold = len(g)
        items += g
    syn = synthetic_examples(synth) if synth else []
    if not items + syn:
        raise ValueError("nothing to train on: no gold file and no synthetic letters")
    nlp = train(items + augmented(items, augment, seed=seed) + syn, epochs=epochs, seed=seed, vocab_items=items + syn,
                log=log)
    nlp.meta["medletter"].update({"gold_documents": n_gold, "synthetic_letters": synth, "augment": augment,
                                  "gold_file": Path(gold).name if gold else None})
    path = save(nlp, out)
    info = dict(nlp.meta["medletter"])
    (path / "medletter.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return path, info
