"""Stage 1, fetch: sources in, bytes out.

Takes the sources file (`feeds.yaml` -> `Source` models, `sources.py`; appended to as text by
`feedsedit.py`) and each source's saved
state (`feedstate.py`, `schedule.py`: when it is due, how it backs off), and gives `FetchResult`s:
the documents an http(s) source served (`fetcher.py`, with the politeness and safety parts in
`httpparts.py` and `addressguard.py`) or the files a local feed or spool folder holds
(`localsource.py`). Knows nothing of what the bytes mean.
"""
