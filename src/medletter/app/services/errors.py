"""Errors of the service layer; pages and the API map each to one HTTP status.

Their messages are English (``str(e)``: what the API, the CLI and the log show) and, where they are
:class:`~medletter.app.i18n.Msg` objects, a page shows them in the user's language (:meth:`ServiceError.texts`)."""

from __future__ import annotations

from medletter.app.i18n import Msg, translate


class ServiceError(Exception):
    status = 400

    def texts(self, lang: str) -> list[str]:
        """What a page lists for this error, in ``lang``."""
        return [str(translate(self.args[0], lang))] if self.args else []


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Incomplete(Conflict):
    """A case that lists missing fields cannot be drafted; ``missing`` names them (field paths, no values)."""

    def __init__(self, case_id: int, missing: list[str]):
        super().__init__(Msg("case %(id)s is incomplete: %(n)s field(s) missing (%(fields)s); complete it before drafting",
                             id=case_id, n=len(missing), fields=", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")))
        self.missing = missing


class StaleVersion(Conflict):
    """A save based on a version that is no longer the newest; nothing was written."""

    def __init__(self, letter_id: int, based_on: int, current: int, current_text: str, your_text: str):
        super().__init__(Msg("letter %(letter)s has changed: your edit is based on version %(based_on)s, "
                             "the newest is version %(current)s; nothing was saved",
                             letter=letter_id, based_on=based_on, current=current))
        self.letter_id, self.based_on, self.current = letter_id, based_on, current
        self.current_text, self.your_text = current_text, your_text


class Invalid(ServiceError):
    """Bad input: ``errors`` lists ``LINE: FIELD: problem`` (or ``FIELD: problem``), never a value."""

    status = 422

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors[:5]) + (f" … and {len(errors) - 5} more" if len(errors) > 5 else ""))
        self.errors = errors

    def texts(self, lang: str) -> list[str]:
        return [str(translate(e, lang)) for e in self.errors]
