"""Rule files: `rules/*.yaml` in, `Rule` models and `path:line: message` errors out.

`files.py` loads a folder of rule files (a broken file never hides the others), `parse.py` checks
each rule and its terms and names, `model.py` holds the immutable `Rule`, `wordcase.py` advises
on capitalised terms that are common words (for `rules check`). Knows nothing of how
rules are matched.
"""
