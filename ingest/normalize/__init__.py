"""Stage 3, normalize: a raw entry in, an `Article` out.

`article.py` turns one `RawEntry` into the `Article` every later stage reads: clean text
(`textnorm.py`), the dateline split off (`dateline.py`), the canonical URL (`urls.py`), the
language (`language.py`), stable ids and the SimHash fingerprints (`simhash.py`) that the story
stage compares. Pure functions, no I/O.
"""
