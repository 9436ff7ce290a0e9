"""Errors of the service layer; pages and the API map each to one HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400


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
        super().__init__(f"case {case_id} is incomplete: {len(missing)} field(s) missing ({', '.join(missing[:6])}"
                         f"{' …' if len(missing) > 6 else ''}); complete it before drafting")
        self.missing = missing


class StaleVersion(Conflict):
    """A save based on a version that is no longer the newest; nothing was written."""

    def __init__(self, letter_id: int, based_on: int, current: int, current_text: str, your_text: str):
        super().__init__(f"letter {letter_id} has changed: your edit is based on version {based_on}, "
                         f"the newest is version {current}; nothing was saved")
        self.letter_id, self.based_on, self.current = letter_id, based_on, current
        self.current_text, self.your_text = current_text, your_text


class Invalid(ServiceError):
    """Bad input: ``errors`` lists ``LINE: FIELD: problem`` (or ``FIELD: problem``), never a value."""

    status = 422

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors[:5]) + (f" … and {len(errors) - 5} more" if len(errors) > 5 else ""))
        self.errors = errors
