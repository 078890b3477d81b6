"""Stage 2, parse: documents in, raw entries out.

Takes the `Document`s of a `FetchResult` and gives `RawEntry`s (`documents.py` picks the format):
RSS/Atom/RDF through feedparser (`xmlfeed.py`), JSON Feed (`jsonfeed.py`), or a plain wire-story
text file (`wirestory.py`). `sniff.py` decodes bytes and refuses entity declarations before any XML
parser sees them. A broken document is a `ParseError`, never a crash. Beside the feeds: `opml.py`
reads and writes readers' subscription lists, `feedlinks.py` finds the feeds a web page names.
"""
