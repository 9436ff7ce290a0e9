"""Pseudonymisation of detected patient information: consistent surrogates, per-patient date shift.

Detection (:mod:`medletter.privacy.detect`) finds spans; the modules below replace them. Modes:

* ``pseudonymize`` (default): fluent surrogates. The same name always gets the same surrogate
  (gender-matched first names; inflected forms such as "Albers'" and initials follow), dates are
  shifted by an offset that is fixed per patient, so intervals and order stay right, and every date
  keeps its textual format ("04.04.2029" stays DD.MM.YYYY, "März 2029" becomes another month name).
  IDs, phone numbers and postcodes get format-preserving fakes; streets, cities and hospitals
  plausible fakes. Titles ("Dr. med.") and ages under 90 stay.
* ``mask``: ``[NAME_PATIENT]`` style placeholders.
* ``redact``: the span is removed.

Everything is deterministic from a secret key (HMAC-SHA256), kept outside the data: a key file
named by ``MEDLETTER_DEID_KEY_FILE`` or passed explicitly; :func:`create_key_file` writes one with
mode 0600. Optionally an encrypted mapping (Fernet, keyed from the secret) of surrogate -> original
is returned per document, so that a draft can be re-identified inside the hospital with
:func:`reidentify`.

This module is the public face of pseudonymisation; the work is done, by concern, in

* :mod:`medletter.privacy.keys`: the key file, the encrypted mapping, re-identification;
* :mod:`medletter.privacy.surrogates`: the surrogate generator and its pools;
* :mod:`medletter.privacy.dateshift`: dates shifted in their textual formats;
* :mod:`medletter.privacy.operators`: replacing spans in a text (the modes, presidio-anonymizer);
* :mod:`medletter.privacy.records`: whole records, the case and its letter consistently.

Errors and logs never contain text: only counts, labels and offsets.
"""

from __future__ import annotations

from medletter.privacy.dateshift import parse_date_text, shift_date_text
from medletter.privacy.keys import (
    KEY_ENV,
    KeyError_,
    create_key_file,
    decrypt_mapping,
    default_key,
    encrypt_mapping,
    load_key,
    reidentify,
)
from medletter.privacy.operators import KEEP_LABELS, MODES, DeidResult, Mode, apply, pseudonymize_text
from medletter.privacy.records import deidentify_record, deidentify_record_with_mapping
from medletter.privacy.surrogates import MAX_SHIFT_DAYS, MIN_SHIFT_DAYS, NAME_LABELS, Surrogates

__all__ = [
    "KEEP_LABELS", "KEY_ENV", "MAX_SHIFT_DAYS", "MIN_SHIFT_DAYS", "MODES", "NAME_LABELS", "DeidResult", "KeyError_",
    "Mode", "Surrogates", "apply", "create_key_file", "decrypt_mapping", "default_key", "deidentify_record",
    "deidentify_record_with_mapping", "encrypt_mapping", "load_key", "parse_date_text", "pseudonymize_text",
    "reidentify", "shift_date_text",
]
