"""The web console (`wirewatch web`): read-only pages and an HTTP API over the same Redis.

Takes what the other stages keep: the alert streams (delivery), each source's state (fetch,
through the service's feeds report), the rule files (rules, with the same loader and errors as
the service) and the matcher (match, through the service's trial), and gives HTML pages, JSON,
and a Server-Sent Events stream that resumes after a disconnect without a gap or a double.
Nothing in it changes rules, feeds or alerts.
"""
