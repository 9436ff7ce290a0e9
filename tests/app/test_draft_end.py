"""How the model's draft ended is kept with the letter and told to the physician: the model ended it, it
reached the token limit, or it was cut because it had begun to repeat itself (medletter.generate.loops)."""

from __future__ import annotations

import pytest

from tiny_llama import LOOPING_LETTER

from .util import add_users, bearer, wait_job

ND = {"Content-Type": "application/x-ndjson"}


@pytest.mark.parametrize("run, max_new_tokens, end", [
    ("memorising_run", 48, "model"),  # the memorising model writes its letter and ends it
    ("looping_run", 48, "length"),  # one sentence again and again: 48 tokens hold too few copies for a loop
    ("looping_run", 200, "loop"),  # ... 200 do: cut once its last 60 tokens copy its earlier text
])
def test_the_letter_records_how_its_draft_ended(request, tmp_path, case_lines, run, max_new_tokens, end):
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import audit

    app = create_app(Settings(db=str(tmp_path / "app.db"), run=request.getfixturevalue(run), max_new_tokens=max_new_tokens, grounding="off"))
    add_users(app.state.db)
    with TestClient(app) as client:
        doc = bearer(app.state.db, "doc")
        ids = client.post("/api/v1/cases", content=case_lines.encode(), headers={**doc, **ND}).json()["ids"]
        job = wait_job(client, doc, client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=doc).json()["job_id"])
        assert job["status"] == "done", job
        lt = client.get(f"/api/v1/letters/{job['letter_id']}", headers=doc).json()
        assert lt["draft_end"] == end, lt
        if run == "looping_run":  # the beginning of what the model writes, without the closing it never reaches
            assert LOOPING_LETTER.startswith(lt["text"]) and lt["text"].count("die Patientin stellt") >= 2, lt["text"]
        # a physician's edit keeps what the first draft was: the notice is about version 1
        r = client.put(f"/api/v1/letters/{lt['id']}", json={"text": lt["text"] + "\nMit freundlichen Grüßen"},
                       headers={**doc, "If-Match": "1"})
        assert r.status_code == 200 and r.json()["draft_end"] == end
        with app.state.db.session() as s:
            done = [e.detail for e in audit.events(s, action="draft_done")[0]]
        assert done and done[0].endswith(f"end={end}"), done
