"""Keeping passwords and tokens of Apprise URLs out of every line wirewatch writes.

Which parts of a URL are secret depends on the service (a Telegram bot token sits where a host
would be), so the service's own privacy rendering decides: every piece of the written URL that
Apprise does not show in that rendering, less its query string, is a secret. The query is left
out because Apprise shows header and parameter values there (`+X-Token=...`, `-token=...`).
A `Redactor` holds the secrets of every destination and replaces them wherever they appear: in
log records (`RedactingFilter`), error messages, `notify --test` output and the status in Redis.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

MASK = "****"
MIN_SECRET_LEN = 3  # shorter pieces ("no", "25") are options and ports, and would garble text
_PIECES = re.compile(r"[:/@?&=#,;+\s]+")


def pieces(url: str) -> set[str]:
    """The words of a URL after its scheme, split at its punctuation, decoded."""
    _, _, rest = url.partition("://")
    return {p for p in _PIECES.split(unquote(rest)) if p}


def _query_keys(url: str) -> set[str]:
    _, _, query = url.partition("?")
    keys = [unquote(part.partition("=")[0]) for part in query.split("&") if part]
    return {p for key in keys for p in _PIECES.split(key) if p}


def url_secrets(url: str, shown: str | None) -> set[str]:
    """The secret pieces of `url`: those its privacy rendering `shown` leaves out.

    Without a rendering (the URL did not parse), every piece after the scheme is a secret.
    """
    visible = pieces(shown) if shown is not None else set()
    hidden = pieces(url) - visible - _query_keys(url)
    return {p for p in hidden if len(p) >= MIN_SECRET_LEN}


def mask_unparsed(url: str) -> str:
    """A URL that did not parse, shown by its scheme only."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return MASK
    return f"{scheme}://{MASK}" if rest else f"{scheme}://"


class Redactor:
    """Replaces every known secret by `****`."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secrets: set[str]) -> None:
        forms = set()
        for secret in secrets:
            forms.update({secret, quote(secret, safe=""), quote(secret, safe="@:")})
        new = forms - self._secrets
        if new:
            self._secrets |= new
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in longest_first))

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message (and traceback) with every secret masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = self.redact(message), ()
        return True


def install(redact: Redactor) -> None:
    """Mask secrets in everything the root logger's handlers write; keep Apprise's own log quiet
    (its lines are collected per message by `sender.py` and redacted there)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redact))
    apprise_log = logging.getLogger("apprise")
    apprise_log.propagate = False
    apprise_log.handlers[:] = [logging.NullHandler()]
    apprise_log.setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
