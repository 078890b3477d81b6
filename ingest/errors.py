"""Every error wirewatch raises on purpose.

WirewatchError
├── ConfigError          settings or feeds.yaml are unusable; the message names the place
│   └── OpmlError        an OPML file cannot be imported (one `path:line: message` per problem)
├── RuleError            one problem in one rule file (path, line, rule id, what is wrong)
│   └── RuleFileErrors   all problems found in a set of rule files, raised by `rules check`
├── FetchError           a source could not be fetched; recorded on the source, never fatal
│   ├── BlockedAddress   http(s) to a private/loopback address while that is not allowed
│   ├── TooLarge         body over the size cap (also after decompression)
│   ├── NotHtml          an entry's linked page is not HTML/XHTML (full_text)
│   ├── HttpStatusError  a 4xx/5xx answer (status and Retry-After kept)
│   └── FeedNotFound     a source's address answers a web page that names no feed
├── ParseError           a document is neither a feed nor a wire story
├── ModelError           the spaCy pipeline is missing or cannot do what a rule asks
└── StoreError           Redis is unreachable or answered an error (the outbox keeps alerts)
    └── NotReplicated    fewer replicas than WIREWATCH_REDIS_MIN_REPLICAS acknowledged in time
"""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of every error raised on purpose by wirewatch."""


class ConfigError(WirewatchError):
    """Settings or feeds.yaml are unusable."""


class OpmlError(ConfigError):
    """An OPML file that cannot be imported; nothing of it is taken."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems  # each `path:line: message`
        super().__init__("\n".join(problems))


class RuleError(WirewatchError):
    """One problem in one rule file, printed as `path:line: rule 'id': message`."""

    def __init__(self, path: str, line: int, message: str, rule_id: str | None = None) -> None:
        self.path = path
        self.line = line
        self.rule_id = rule_id
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.line > 0 else f"{self.path}: "
        who = f"rule '{self.rule_id}': " if self.rule_id else ""
        return f"{where}{who}{self.message}"


class RuleFileErrors(WirewatchError):
    """All the problems found in a set of rule files."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class FetchError(WirewatchError):
    """A source could not be fetched; the reason is recorded on the source."""


class BlockedAddress(FetchError):
    """An http(s) fetch would reach a private, loopback or link-local address."""


class TooLarge(FetchError):
    """The body is over the configured size cap."""


class NotHtml(FetchError):
    """An entry's linked page answered with something other than HTML or XHTML."""


class HttpStatusError(FetchError):
    """The server answered 4xx or 5xx."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(message)


class FeedNotFound(FetchError):
    """The address answers a web page whose `<link rel="alternate">` names no feed."""


class ParseError(WirewatchError):
    """A document is neither a feed nor a wire story."""


class ModelError(WirewatchError):
    """The spaCy pipeline is missing or cannot serve a rule."""


class StoreError(WirewatchError):
    """Redis is unreachable or answered an error."""


class NotReplicated(StoreError):
    """Fewer replicas than WIREWATCH_REDIS_MIN_REPLICAS acknowledged a write in time: the alerts
    stay in the outbox and are published again (their claims make that idempotent)."""
