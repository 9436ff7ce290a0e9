"""Where letters are drafted: one interface, three engines, one place that chooses (``make_backend``).

- ``hf``: transformers with the adapter merged (``generate_letters``), batched.
- ``llamacpp``: the run's GGUF through llama-cpp-python (``runs/NAME/export/model-q8_0.gguf``, made on
  first use) on all cores: one letter at a time for a single case (the review app's), several letters
  as parallel sequences in one context for a set (greedy; ``GenSettings.batch_size`` of them at once).
- ``openai``: any OpenAI-compatible server (``/v1/completions``): llama.cpp's server (``medletter serve``),
  vLLM (``--enable-lora``), Ollama.

Every backend gets the same prompt token ids (the run's tokenizer and chat template), decodes greedily,
stops at the same end markers and where a letter starts to loop (``medletter.generate.loops``), and reports
the same ``Draft`` (latency, tokens/s).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from medletter.dataset import encode_prompt, prompt_text, stop_token_ids
from medletter.generate import Draft, generate_letters
from medletter.generate.loops import loop_end, looping
from medletter.generate.settings import GenSettings
from medletter.records import Record

log = logging.getLogger(__name__)
BACKENDS = ("hf", "llamacpp", "openai")


class Backend:
    name = "?"

    def __init__(self, tokenizer, style: str, lang: str, system: str, settings: GenSettings | None = None):
        self.tokenizer, self.style, self.lang, self.system = tokenizer, style, lang, system
        self.settings = settings or GenSettings()
        self.stops = stop_token_ids(tokenizer)
        self.grounding = None
        """A ``medletter.grounding.Grounding`` when the drafts' numbers are held to their cases (``make_backend``)."""

    def ground(self, run: Path | None) -> "Backend":
        """Hold every draft's numbers to its case (the gate in this engine's decoding loop)."""
        from medletter.grounding import Grounding

        self.grounding = Grounding(self.tokenizer, run, self.lang, self.stops)
        return self

    def prompt_ids(self, rec: Record) -> list[int]:
        return encode_prompt(self.tokenizer, prompt_text(self.tokenizer, rec.case, self.style, self.lang))

    def _draft(self, rec: Record, text: str, n_new: int, stopped: bool, dt: float, looped: bool = False,
               grounding: dict | None = None) -> Draft:
        return Draft(case_id=rec.case.case_id, patient_id=rec.case.patient.patient_id, system=self.system, style=self.style,
                     lang=self.lang, text=text.strip(), new_tokens=n_new, stopped=stopped, latency_s=round(dt, 3),
                     tokens_per_s=round(n_new / dt, 2) if dt else 0.0, batch_size=1, looped=looped, grounding=grounding)

    def _decode(self, ids: list[int]) -> tuple[str, int, bool, bool]:
        """Text, token count, ended by the model, cut as a loop."""
        stopped = False
        for k, t in enumerate(ids):
            if t in self.stops:
                ids, stopped = ids[:k], True
                break
        cut = None if stopped else loop_end(ids, self.settings.loop_tokens)
        if cut is not None:
            ids = ids[:cut]
        return self.tokenizer.decode(ids, skip_special_tokens=True), len(ids), stopped, cut is not None

    def draft(self, records: list[Record], on_token=None, progress=None) -> list[Draft]:
        raise NotImplementedError


class HFBackend(Backend):
    name = "hf"

    def __init__(self, model, tokenizer, style, lang, system, settings=None):
        super().__init__(tokenizer, style, lang, system, settings)
        self.model = model

    def draft(self, records, on_token=None, progress=None):
        s = self.settings
        if self.grounding is not None:
            from medletter.generate.grounded_hf import generate_grounded

            return generate_grounded(self.model, self.tokenizer, records, self.grounding, self.style, self.lang, self.system,
                                     s, progress=progress, on_token=on_token)
        return generate_letters(self.model, self.tokenizer, records, self.style, self.lang, self.system,
                                max_new_tokens=s.max_new_tokens, batch_size=s.batch_size, do_sample=s.do_sample,
                                temperature=s.temperature, top_p=s.top_p, progress=progress, on_token=on_token,
                                loop_tokens=s.loop_tokens)


class LlamaCppBackend(Backend):
    name = "llamacpp"

    def __init__(self, gguf: Path, tokenizer, style, lang, system, settings=None, n_ctx: int = 4096,
                 n_threads: int | None = None, lora: Path | None = None):
        super().__init__(tokenizer, style, lang, system, settings)
        from llama_cpp import Llama

        self.gguf = Path(gguf)
        kw = dict(model_path=str(self.gguf), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(), n_batch=512,
                  verbose=False, logits_all=False)
        if lora is not None:
            kw["lora_path"] = str(lora)
        self.llm = Llama(**kw)
        if self.llm.n_vocab() != len(self.tokenizer):
            log.warning("%s has %d tokens, the run's tokenizer %d", self.gguf.name, self.llm.n_vocab(), len(self.tokenizer))

    def close(self) -> None:
        """Free the model now (llama-cpp-python's own finaliser can fail at interpreter exit)."""
        if getattr(self, "llm", None) is not None:
            self.llm.close()
            self.llm = None

    def draft(self, records, on_token=None, progress=None):
        s = self.settings
        if self.grounding is not None or (len(records) > 1 and s.batch_size > 1 and not s.do_sample):
            return self._draft_parallel(records, progress, on_token)
        out = []
        for rec in records:
            ids = self.prompt_ids(rec)
            new: list[int] = []
            self.llm.reset()
            t0 = time.perf_counter()
            kw = dict(temp=s.temperature, top_p=s.top_p) if s.do_sample else dict(temp=0.0, top_k=1, top_p=1.0)
            for tok in self.llm.generate(ids, repeat_penalty=1.0, reset=True, **kw):
                if tok in self.stops:
                    new.append(tok)
                    break
                new.append(tok)
                if on_token is not None:
                    on_token(len(new))
                if len(new) >= s.max_new_tokens or looping(new, s.loop_tokens):
                    break
            dt = time.perf_counter() - t0
            text, n, stopped, looped = self._decode(new)
            out.append(self._draft(rec, text, n, stopped, dt, looped))
            if progress is not None:
                progress(1)
        return out

    def _draft_parallel(self, records, progress=None, on_token=None):
        """Greedy drafts of several letters as parallel sequences of one llama.cpp context (continuous
        batching: each decode step advances every open letter by one token, and a finished letter's slot
        takes the next case). One step multiplies the weights with several token vectors at once, far cheaper
        on a CPU than as many separate steps: 24 demo letters at 106.7 tokens/s in parallel vs 52.7 one after
        another (benchmarks/RESULTS.md). Each letter's latency runs from its prompt entering the context to its
        last token. With grounding, each letter's gate picks its tokens (sampled where ``do_sample``), and a
        rewind drops the letter's last tokens from its sequence in the cache; one letter alone is drafted here too
        (``on_token`` reports its progress)."""
        import llama_cpp as lc
        import numpy as np

        s = self.settings
        prompts = [self.prompt_ids(r) for r in records]
        n_par = max(1, min(s.batch_size, len(records)))
        grounding = self.grounding
        temperature = s.temperature if s.do_sample else None
        per_seq = -(-(max(len(p) for p in prompts) + s.max_new_tokens + 8) // 256) * 256  # llama.cpp pads to 256
        params = lc.llama_context_default_params()
        params.n_ctx = per_seq * n_par
        params.n_batch = params.n_ctx  # all prompts of a step fit one decode call (split into micro-batches)
        params.n_ubatch = 512
        params.n_seq_max = n_par
        params.kv_unified = False  # the letters share no prefix worth keeping (measured the same either way)
        params.n_threads = params.n_threads_batch = self.llm.context_params.n_threads
        from llama_cpp._utils import suppress_stdout_stderr

        with suppress_stdout_stderr(disable=self.llm.verbose):  # llama.cpp's own notes, as Llama(verbose=False) does
            ctx = lc.llama_init_from_model(self.llm.model, params)
        if not ctx:
            raise RuntimeError(f"llama.cpp could not make a context of {params.n_ctx} tokens for {n_par} parallel letters")
        batch = lc.llama_batch_init(params.n_batch, 0, 1)
        n_vocab = self.llm.n_vocab()
        out: list[Draft | None] = [None] * len(records)
        try:
            if getattr(self.llm, "_lora_adapter", None):
                adapters = (lc.llama_adapter_lora_p_ctypes * 1)(self.llm._lora_adapter)
                if lc.llama_set_adapters_lora(ctx, adapters, 1, (ctypes.c_float * 1)(self.llm.lora_scale)):
                    raise RuntimeError("llama.cpp could not apply the LoRA adapter to the parallel context")
            mem = lc.llama_get_memory(ctx)
            waiting = list(range(len(records)))
            slots: dict[int, dict] = {}  # seq id -> {i, new, pos, t0, feed}
            while waiting or slots:
                for seq in range(n_par):
                    if seq not in slots and waiting:
                        i = waiting.pop(0)
                        slots[seq] = {"i": i, "new": [], "pos": 0, "t0": time.perf_counter(), "feed": prompts[i],
                                      "gate": grounding.gate(records[i].case) if grounding is not None else None}
                n = 0
                rows = {}
                for seq, st in slots.items():
                    for k, tok in enumerate(st["feed"]):
                        batch.token[n], batch.pos[n], batch.n_seq_id[n] = tok, st["pos"] + k, 1
                        batch.seq_id[n][0] = seq
                        batch.logits[n] = k == len(st["feed"]) - 1
                        n += 1
                    st["pos"] += len(st["feed"])
                    rows[seq] = n - 1
                batch.n_tokens = n
                rc = lc.llama_decode(ctx, batch)
                if rc != 0:
                    raise RuntimeError(f"llama_decode failed ({rc}) with {len(slots)} parallel letters")
                for seq in list(slots):
                    st = slots[seq]
                    logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, rows[seq]), shape=(n_vocab,))
                    if st["gate"] is None:
                        tok = int(logits.argmax())
                    else:
                        keep, tok = st["gate"].choose(logits, temperature, s.top_p)
                        if keep < len(st["new"]):  # rewound: drop the letter's last tokens from its sequence
                            start = len(prompts[st["i"]])
                            lc.llama_memory_seq_rm(mem, seq, start + keep, -1)
                            del st["new"][keep:]
                            st["pos"] = start + keep
                    st["new"].append(tok)
                    st["feed"] = [tok]
                    if on_token is not None and n_par == 1:
                        on_token(len(st["new"]))
                    if tok in self.stops or len(st["new"]) >= s.max_new_tokens or looping(st["new"], s.loop_tokens):
                        dt = time.perf_counter() - st["t0"]
                        text, k, stopped, looped = self._decode(st["new"])
                        rep = None
                        if st["gate"] is not None:
                            toks = st["new"][:k]
                            rep = {**st["gate"].report(lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True), toks),
                                   "mode": "gate"}
                        d = self._draft(records[st["i"]], text, k, stopped, dt, looped, rep)
                        d.batch_size = n_par
                        out[st["i"]] = d
                        lc.llama_memory_seq_rm(mem, seq, -1, -1)
                        del slots[seq]
                        if progress is not None:
                            progress(1)
        finally:
            lc.llama_batch_free(batch)
            lc.llama_free(ctx)
        return out


class OpenAIBackend(Backend):
    """``POST {endpoint}/v1/completions`` with the exact training prompt as text (chat template applied
    here, so the server applies none; its leading BOS left to the server, which adds one), greedy,
    ``max_tokens``; the server stops at the model's end markers. A loop is cut here after the fact (the
    server drafts it to ``max_tokens``: the same text, not the time saved). (Token-id prompts would be exact too, but
    llama-cpp-python's server and Ollama take text only.)"""

    name = "openai"

    def __init__(self, endpoint: str, model: str, tokenizer, style, lang, system, settings=None, timeout: float = 600,
                 api_key: str | None = None):
        super().__init__(tokenizer, style, lang, system, settings)
        self.endpoint = endpoint.rstrip("/")
        if not self.endpoint.endswith("/v1"):
            self.endpoint += "/v1"
        self.model, self.timeout = model, timeout
        self.api_key = api_key or os.environ.get("MEDLETTER_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")

    def _post_grounded(self, body: dict, allowed) -> dict:
        """POST with the grounding grammar where the server takes one (llama.cpp's server: ``grammar``); a server
        that refuses it (an error naming the field) drafts without, once said, and its drafts are audited after."""
        if allowed is None or self.grammar_ok is False:
            return self._post(body)
        from medletter.grounding.grammar import gbnf

        try:
            res = self._post({**body, "grammar": gbnf(allowed)})
        except RuntimeError as e:
            if "grammar" not in str(e).lower() or "answered 4" not in str(e):
                raise
            log.warning("%s does not take a grammar: drafts are checked for numbers after the fact, not held", self.endpoint)
            self.grammar_ok = False
            return self._post(body)
        self.grammar_ok = True
        return res

    def prompt_for_server(self, rec: Record) -> str:
        text = prompt_text(self.tokenizer, rec.case, self.style, self.lang)
        bos = self.tokenizer.bos_token
        return text[len(bos):] if bos and text.startswith(bos) else text

    def _post(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.endpoint + "/completions", data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a loopback server: no proxy
        try:
            with opener.open(req, timeout=self.timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{self.endpoint}/completions answered {e.code}: {e.read()[:300].decode(errors='replace')}") from None
        except urllib.error.URLError as e:
            raise RuntimeError(f"{self.endpoint}: cannot connect ({e.reason}); is the server running?") from None

    grammar_ok: bool | None = None
    """Whether the server took the grounding grammar (None: not yet asked)."""

    def draft(self, records, on_token=None, progress=None):
        s = self.settings
        stop_text = [self.tokenizer.convert_ids_to_tokens(i) for i in self.stops]
        out = []
        for rec in records:
            body = {"model": self.model, "prompt": self.prompt_for_server(rec), "max_tokens": s.max_new_tokens,
                    "temperature": s.temperature if s.do_sample else 0.0, "top_p": s.top_p if s.do_sample else 1.0,
                    "stop": stop_text}
            if not s.do_sample:
                body["top_k"] = 1  # llama.cpp and vLLM accept it; greedy either way at temperature 0
            allowed = self.grounding.allowed(rec.case) if self.grounding is not None else None
            t0 = time.perf_counter()
            res = self._post_grounded(body, allowed)
            dt = time.perf_counter() - t0
            ch = res["choices"][0]
            n = (res.get("usage") or {}).get("completion_tokens")
            text = ch.get("text") or ""
            if n is None:
                n = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            stopped, looped = ch.get("finish_reason") == "stop", False
            if not stopped and s.loop_tokens:  # the server cannot stop a loop: cut it here, at the same token
                ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                cut = loop_end(ids, s.loop_tokens)
                if cut is not None:
                    text, n, looped = self.tokenizer.decode(ids[:cut], skip_special_tokens=True), cut, True
            rep = None
            if allowed is not None:
                from medletter.grounding import audit

                text = text.strip()
                rep = {"on": True, "mode": "grammar" if self.grammar_ok else "audit", "interventions": [],
                       "violations": audit(text, allowed)}
            out.append(self._draft(rec, text, int(n), stopped, dt, looped, rep))
            if on_token is not None:
                on_token(int(n))
            if progress is not None:
                progress(1)
        return out


def llamacpp_cpu_problem(marker: Path | None = None, flags: set[str] | None = None) -> str:
    """Why this CPU cannot run the installed llama.cpp build ("" if it can). `make env` builds llama.cpp
    for the CPU it runs on (tools/llama-cpu.sh) and writes the extensions the build uses into
    ``.venv/llama-cpp-cpu.txt``; a venv moved to a CPU without them would die with SIGILL at the first
    draft, so it is refused here, before llama_cpp is imported."""
    from medletter.models import cpu_flags

    marker = marker or Path(sys.prefix) / "llama-cpp-cpu.txt"
    try:
        needs = marker.read_text().split()
    except OSError:
        return ""  # installed some other way: nothing recorded to check
    have = cpu_flags() if flags is None else flags
    if not have:
        return ""  # no /proc/cpuinfo: cannot tell
    missing = [f for f in needs if f not in have]
    if missing:
        return (f"llama-cpp-python here was built for a CPU with {', '.join(missing)}, which this CPU lacks; "
                "`make llama` rebuilds it for this one")
    return ""


def llamacpp_available() -> tuple[bool, str]:
    """Whether llama-cpp-python imports here and this CPU runs its build, and why not (said once by the callers)."""
    why = llamacpp_cpu_problem()
    if why:
        return False, why
    try:
        import llama_cpp  # noqa: F401
    except Exception as e:  # a failed build leaves nothing or a broken library
        return False, f"llama-cpp-python is not usable ({type(e).__name__}: {e}); `make env` builds it from source"
    return True, ""


_said: set[str] = set()


def make_backend(kind: str, run: str | Path | None = None, *, base_only: bool = False, style: str | None = None,
                 lang: str | None = None, settings: GenSettings | None = None, endpoint: str | None = None,
                 model: str | None = None, quant: str = "q8_0", fallback: bool = True) -> Backend:
    """The one place that turns ``--backend`` (and a run) into a backend. ``llamacpp`` falls back to
    ``hf`` when llama-cpp-python is missing or the base model is asked for (said once), unless
    ``fallback`` is off."""
    from medletter.generate import run_config, run_tokenizer_dir
    from medletter.models import load_tokenizer

    if kind not in BACKENDS:
        raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}")
    cfg, tok_dir = {}, None
    if run is not None:
        run = Path(run)
        cfg = run_config(run)
        from medletter.prompt import warn_if_prompt_changed
        warn_if_prompt_changed(cfg, run)
        tok_dir = run_tokenizer_dir(run, cfg)
    style = style or cfg.get("style") or cfg.get("train_style") or "default"
    lang = lang or cfg.get("lang") or "de"
    system = "base" if base_only else "finetuned"
    if kind == "llamacpp":
        ok, why = llamacpp_available()
        base_gguf = None
        if ok and base_only:
            from medletter.models import source_gguf

            base_gguf = source_gguf(cfg.get("model", ""))
            if base_gguf is None:
                ok, why = False, "llama.cpp drafts a base model only from the GGUF it came in (the demo model's); this base runs on hf"
        if not ok:
            if not fallback:
                raise RuntimeError(why)
            if why not in _said:
                _said.add(why)
                log.warning("%s: drafting with the hf backend", why)
            kind = "hf"
    grounded = (settings or GenSettings()).grounding == "on" and not base_only
    if kind == "hf":
        from medletter.generate import load_run

        if run is None:
            raise ValueError("--backend hf needs --run")
        m, tok, _ = load_run(run, base_only=base_only)
        be: Backend = HFBackend(m, tok, style, lang, system, settings)
    else:
        if tok_dir is None:
            raise ValueError(f"--backend {kind} needs --run (for the tokenizer and prompt)")
        tok = load_tokenizer(tok_dir)
        if kind == "llamacpp":
            from medletter.export import run_gguf

            be = LlamaCppBackend(base_gguf or run_gguf(run, quant), tok, style, lang, system, settings)
        else:
            if not endpoint:
                raise ValueError("--backend openai needs --endpoint URL (and --model NAME)")
            be = OpenAIBackend(endpoint, model or (run.name if run else "default"), tok, style, lang, system, settings)
    return be.ground(run) if grounded else be
