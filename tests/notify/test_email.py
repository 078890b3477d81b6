"""E-mail through a real SMTP server on loopback (aiosmtpd), sent by a real `wirewatch notify`:
the message arrives, its subject is the article title, its body says why and links the story."""

from __future__ import annotations

from email.message import Message
from pathlib import Path

import pytest

from tests.notify.helpers import Mailbox, Notifiers, make_alert, one_destination, publish, wait_for

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.usefixtures("real_redis_cleanup"),
]
USER, PASSWORD = "desk", "Sm7pPassw0rdXq"


def text_of(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(
        str(p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8"))
        for p in parts
        if not p.is_multipart()
    )


def test_an_alert_arrives_as_an_email_read_back_from_the_server(
    tmp_path: Path, make_settings, key_prefix: str, notifiers: Notifiers, channel_base: str
) -> None:
    channel = f"{channel_base}:mail"
    with Mailbox(USER, PASSWORD) as box:
        to = (f"mailto://${{SMTP_USER}}:${{SMTP_PASS}}@127.0.0.1:{box.port}"
              "?to=desk@example.org&from=wirewatch@example.org")  # fmt: skip
        env = one_destination(
            tmp_path, key_prefix, "desk-email", channel, to, SMTP_USER=USER, SMTP_PASS=PASSWORD
        )
        alert = make_alert(channel, 7, title="Leaders agree a ceasefire <at last> & talks")
        notifiers.start(env)
        publish(make_settings(), [alert])
        wait_for(lambda: len(box.messages) >= 1, 40, "the e-mail")
        notifiers.stop_all()
    mail = box.messages[0]
    assert mail["Subject"] == "Leaders agree a ceasefire <at last> & talks"
    assert "desk@example.org" in mail["To"]
    body = text_of(mail)
    for expected in ("test-rule", channel, "WASHINGTON", "Alliance News", "ceasefire",
                     "Vladimir Putin", "https://news.example.org/story/7",
                     "Putin spoke of a ceasefire in story 7.", "Other Wire"):  # fmt: skip
        assert expected in body, expected
    assert box.logins == ["ok"]
    assert len(box.messages) == 1
    assert PASSWORD not in notifiers.output()
