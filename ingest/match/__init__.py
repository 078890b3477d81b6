"""Stage 5, match: articles and rules in, `Match`es out.

`matcher.py` builds one presearch index over every rule (`terms.py` folds terms into their
variants, `termindex.py` finds them in one pass, `casing.py` checks the case of the few hits of
terms written with capitals, `presearch.py` names the candidate rules), lets names written in
full settle what they can and names the sentences still in doubt (`reading.py`), runs spaCy NER
(`nlp.py`) on those sentences only, resolves names (`mentions.py`), decides (`evaluation.py`)
and explains hits and near misses (`explain.py`).
"""
