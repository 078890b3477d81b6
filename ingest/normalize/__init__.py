"""Stage 3, normalize: a raw entry in, an `Article` out.

`article.py` turns one `RawEntry` into the `Article` every later stage reads: clean text
(`textnorm.py`), the dateline split off (`dateline.py`), the canonical URL (`urls.py`), the
language (`language.py`) and stable ids. `simhash.py` holds the SimHash that the story stage
computes on an article's own content. Pure functions, no I/O.
"""
