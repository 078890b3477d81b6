"""Notifications to people: alerts in (the channels' Redis Streams), messages out through Apprise
(e-mail, chat, push, webhooks), as `wirewatch notify` does it.

`config.py` reads notify.yaml into `Destination`s (Apprise URLs checked, `${NAME}` expanded);
`secrets.py` keeps every password and token of those URLs out of logs, errors and output;
`messages.py` renders an alert or a digest as a title and a body in the format a service wants;
`sender.py` is the one place that talks to Apprise; `runner.py` delivers to one destination
(consumer group, backoff, delivered marks, digests); `notifier.py` is the service that runs a
runner per destination and follows edits of notify.yaml; `probe.py` is `notify --test`.
"""
