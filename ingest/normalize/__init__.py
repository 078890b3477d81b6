"""Stage 3, normalize: a raw entry in, an `Article` out.

`article.py` turns one `RawEntry` into the `Article` every later stage reads: clean text
(`textnorm.py`), the dateline split off (`dateline.py`), the canonical URL (`urls.py`), the
language (`language.py`) and stable ids; `headings.py` tells the lines above a story's first
sentence (the headline again, a kicker, an update note) from the story. `simhash.py` holds the
SimHash the story stage used before its lede keys (kept for `bench/bench_dedup_cases.py`'s
baseline and `bench/dedup_threshold.py`). Pure functions, no I/O.
"""
