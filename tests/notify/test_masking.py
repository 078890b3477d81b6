"""The masking helper: a secret of a URL never survives redaction, in any spelling a library
might print it (as written, percent-encoded), and the log filter applies it to every record."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.notify.secrets import RedactingFilter, Redactor, mask_unparsed, url_secrets
from ingest.notify.sender import parse

pytestmark = pytest.mark.timeout(60)
SECRET_CHARS = st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_.~!$*")
secrets = st.text(SECRET_CHARS, min_size=6, max_size=30).filter(lambda s: "." not in s)


@settings(deadline=None)  # the first call loads Apprise's plugins
@given(password=secrets, token=secrets)
def test_password_and_token_never_survive(password: str, token: str) -> None:
    url = f"json://desk:{quote(password, safe='')}@127.0.0.1:8080/hook?-token={quote(token)}"
    service = parse(url)
    assert service is not None
    redact = Redactor()
    redact.add(url_secrets(url, service.shown))
    said = f"POST {url} failed; password={password} token={token} shown={service.shown}"
    masked = redact(said)
    for secret in (password, token):
        assert secret not in masked and quote(secret, safe="") not in masked
    assert "127.0.0.1:8080" in masked  # where it went stays readable


def test_a_token_in_the_host_position_is_a_secret() -> None:
    url = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123456"
    service = parse(url)
    assert service is not None
    found = url_secrets(url, service.shown)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" in found


def test_unparsed_url_shows_the_scheme_only() -> None:
    assert mask_unparsed("bogus://admin:pw@host/x") == "bogus://****"
    assert mask_unparsed("no scheme at all") == "****"
    assert url_secrets("bogus://admin:pw123@mail.example.org/t0kenvalue", None) == {
        "pw123", "t0kenvalue"
    }  # fmt: skip


def test_log_filter_masks_message_arguments_and_tracebacks() -> None:
    redact = Redactor()
    redact.add({"hunter2secret"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(redact))
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    try:
        log.error("login %s refused", "hunter2secret")
        try:
            raise ValueError("bad password hunter2secret")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "hunter2secret" not in text
    assert "login **** refused" in text and "ValueError: bad password ****" in text
