"""The service on top: the only package that knows every stage.

`pipeline.py` wires fetch -> parse -> normalize -> stories -> match -> delivery for a batch of
sources; `worker.py` runs it on schedule (APScheduler), with leases, signals and draining;
`rulebook.py` keeps the live rules and reloads them on edits; `metrics.py` and `logs.py` are what an
operator sees; `report.py` (`wirewatch feeds`), `trial.py` (`wirewatch rules test`) and
`localredis.py` (a Redis for the quick start) serve the CLI, as does `subscriptions.py` (`wirewatch
feeds import/export/add`); `discovery.py` turns a site's page into the feed it names.
"""
