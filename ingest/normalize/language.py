"""Language of an article: the feed's declaration when it gives one, else detected offline.

py3langid is imported on first use, so commands that never detect a language do not pay for
loading its model; the model is then kept for the life of the process. Its model file is LZMA
inside: unpacking 68 MB costs ~1 s of every process start (more than reading 1,500 articles
by keyword), so the unpacked arrays are kept in a cache folder and read from there next time.
"""

from __future__ import annotations

import functools
import logging
import lzma
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ingest.cachedir import cache_dir

log = logging.getLogger(__name__)
_DONE = "complete"  # written last: a folder without it is a crashed unpacking

UNDETERMINED = "und"
# Below this many letters the classifier's guess is noise (it will call "OK" Polish).
MIN_LETTERS = 12
# Detection reads this much of the text, cut back to a word end: the classifier's cost grows
# with the text, its answer does not change past a few sentences. bench/language_prefix.py,
# 1,300 documents of 65 languages (~1,500 chars each): 600 chars give the whole text's answer
# for 99.6% of them and are right exactly as often (86.2%: langid lacks or confuses some).
PREFIX_CHARS = 600
_PRIMARY_SUBTAG = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*\s*$")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    unpacked = unpacked_model(Path(MODEL_DIR) / MODEL_FILE, cache_dir())
    if unpacked is not None:
        try:
            return _from_unpacked(LanguageIdentifier, unpacked)
        except (ImportError, KeyError, ValueError, OSError) as exc:  # another py3langid layout
            log.debug("unpacked language model %s not usable: %s", unpacked, exc)
    return LanguageIdentifier.from_model_file(MODEL_FILE)


def unpacked_model(packed: Path, folder: Path) -> Path | None:
    """A folder of the model's arrays as .npy files, unpacked once into `folder`; None when
    that cannot be written."""
    stat = packed.stat()
    target = folder / f"langid-{stat.st_size}-{stat.st_mtime_ns}"  # a new model, a new folder
    if (target / _DONE).is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part = Path(tempfile.mkdtemp(dir=folder, suffix=".part"))
    except OSError as exc:  # read-only home, no home: unpack in memory as before
        log.debug("cannot keep the unpacked language model in %s: %s", folder, exc)
        return None
    try:
        archive = part / "model.npz"  # a file: reading an npz seeks, an LZMA stream cannot
        with lzma.open(packed) as source, archive.open("wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
        with np.load(archive, allow_pickle=False) as data:
            for name in data.files:
                np.save(part / f"{name}.npy", data[name], allow_pickle=False)
        archive.unlink()
        (part / _DONE).touch()
        os.replace(part, target)  # whole or not at all
    except OSError as exc:  # a full disk, or another process was first (then use its copy)
        shutil.rmtree(part, ignore_errors=True)
        if (target / _DONE).is_file():
            return target
        log.debug("cannot keep the unpacked language model in %s: %s", folder, exc)
        return None
    return target


def _from_unpacked(identifier: Any, folder: Path) -> Any:
    # The same arrays, in the same form, as py3langid's own loader gives from the LZMA file;
    # the big per-feature table is mapped, not read: a text touches only its features' rows.
    from py3langid.modelio import _to_array

    def array(name: str, mapped: bool = False) -> Any:
        return np.load(folder / f"{name}.npy", mmap_mode="r" if mapped else None)

    return identifier(
        np.asarray(array("ptc", mapped=True)),
        np.asarray(array("pc")),
        array("classes").tolist(),
        _to_array(array("nextmove")),
        array("out_feat").tolist(),
        tk_row=_to_array(array("nextmove_row")),
    )


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or "und" when there is too little text to tell."""
    prefix = _prefix(text)
    if sum(map(str.isalpha, prefix)) < MIN_LETTERS:  # mostly figures up front: read it all
        if sum(map(str.isalpha, text)) < MIN_LETTERS:
            return UNDETERMINED
        prefix = text
    code, _score = _identifier().classify(prefix)
    return str(code)


def _prefix(text: str) -> str:
    if len(text) <= PREFIX_CHARS:
        return text
    cut = text.rfind(" ", PREFIX_CHARS // 2, PREFIX_CHARS)
    return text[: cut if cut > 0 else PREFIX_CHARS]


def language_code(declared: str | None) -> str | None:
    """The two-letter code of a declared language tag ("en-US" -> "en"), or None if unusable."""
    if not declared:
        return None
    match = _PRIMARY_SUBTAG.match(declared)
    return match.group(1).lower() if match else None
