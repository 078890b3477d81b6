"""Keeping passwords and tokens of Apprise URLs out of every line wirewatch writes.

Which parts of a URL are secret depends on the service (a Telegram bot token sits where a host
would be), so the service's own privacy rendering decides: every piece of the written URL that
Apprise does not show in that rendering is a secret. In the query, which Apprise shows as written
(`+X-Token=...`, `-token=...`), the values of headers, parameters and credential-like keys are.
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


# Query keys whose values are credentials; header (`+Name`) and parameter (`-name`) values
# passed through to the service count too, since an Authorization header is one of them.
SECRET_KEY = re.compile(r"^[+-]|pass|secret|token|key|auth|sig|bearer|cred|session", re.I)


def pieces(url: str) -> set[str]:
    """The words of a URL (or of the part of one) after its scheme, split at punctuation."""
    _, sep, rest = url.partition("://")
    return {p for p in _PIECES.split(unquote(rest if sep else url)) if p}


def _query_secrets(url: str) -> set[str]:
    _, _, query = url.partition("?")
    found: set[str] = set()
    for part in query.split("&"):
        key, _, value = (unquote(x) for x in part.partition("="))
        if value and SECRET_KEY.search(key):
            found |= {value} | {p for p in _PIECES.split(value) if p}
    return found


def url_secrets(url: str, shown: str | None) -> set[str]:
    """The secret pieces of `url`: in its scheme://...path part, what its privacy rendering
    `shown` leaves out; in its query, the values of credential-like keys.

    Without a rendering (the URL did not parse), every piece before the query is taken for a
    secret but the user name and host names (what any error message would name anyway).
    """
    base = url.partition("?")[0]
    visible = pieces(shown.partition("?")[0]) if shown is not None else _plain_parts(base)
    hidden = (pieces(base) - visible) | _query_secrets(url)
    return {p for p in hidden if len(p) >= MIN_SECRET_LEN}


def _plain_parts(base: str) -> set[str]:
    """Of a URL that did not parse: its user name and the pieces that look like host names."""
    rest = base.partition("://")[2]
    netloc = rest.partition("/")[0]
    user = netloc.rpartition("@")[0].partition(":")[0] if "@" in netloc else ""
    hosts = {p for p in pieces(base) if "." in p or p == "localhost"}
    return hosts | ({unquote(user)} if user else set())


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
