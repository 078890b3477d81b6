"""Stage 6, delivery: alerts in, Redis channels, streams and state out.

`store.py` is the one Redis client (the atomic claim + XADD + PUBLISH, seen entries and articles,
leases); `publisher.py` publishes an alert now or keeps it in the on-disk `outbox.py` while Redis is
away; `subscribe.py` reads channels and streams for `wirewatch subscribe`; `handoff.py` is the
article stream between `--role fetch` and `--role match` workers; `notifystate.py` is the Redis
side of `wirewatch notify` (consumer groups per destination, delivered marks, digest timing).
"""
