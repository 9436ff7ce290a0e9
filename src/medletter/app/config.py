"""Settings of the review app (pydantic-settings; environment variables with the MEDLETTER_ prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from medletter.app.services.isik import DEFAULT_PATIENT_SYSTEM
from medletter.generate.settings import GenSettings

DEFAULT_DB = "medletter.db"


def database_url(db: str | Path | None) -> str:
    """``--db``: a file path (SQLite) or any SQLAlchemy URL (``postgresql://…``)."""
    db = str(db or DEFAULT_DB)
    if "://" in db:
        if db.startswith("postgresql://"):
            return "postgresql+psycopg://" + db[len("postgresql://"):]
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDLETTER_", extra="ignore")

    db: str = DEFAULT_DB
    """File path (SQLite) or SQLAlchemy URL."""
    run: Path | None = None
    """Training run whose model drafts the letters; None: drafting is switched off."""
    style: str | None = None
    lang: str | None = None
    max_new_tokens: int = GenSettings.max_new_tokens
    backend: str = "hf"
    """Drafting engine: hf, llamacpp (the run's GGUF) or openai (a server: ``endpoint``, ``model``)."""
    endpoint: str | None = None
    model: str | None = None
    grounding: str = GenSettings.grounding
    """on: drafts write only numbers their case backs (medletter.grounding); off: the model writes freely."""
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    secure_cookies: bool | None = None
    """None: Secure when the request came over TLS (or a proxy said so); True/False: always/never."""
    worker: bool = True
    """Run the drafting worker in this process."""
    letter_template: Path | None = None
    """DOCX letterhead the department provides; None: the shipped default."""
    page_size: int = 25
    fhir_patient_system: str = DEFAULT_PATIENT_SYSTEM
    """The system of the hospital's patient numbers in FHIR (``subject.identifier`` of the ISiK export);
    the default is the one of gematik's ISiK examples: set the hospital's own."""
    ui_lang: Literal["de", "en"] = "de"
    """Language of the pages for users who chose none, and of the login page (``medletter app --lang``).
    Not the letters' language: that is the run's (``lang``)."""

    @property
    def url(self) -> str:
        return database_url(self.db)
