"""Stage 4, stories: articles in, the story each belongs to out.

`registry.py` assigns each `Article` to a `Story` in Redis (lede min-hash keys, one Lua script,
a bounded number of candidates per article whatever the window holds), so syndicated copies of
one wire story alert once and list the other outlets; `content.py` decides what of an article is
the story's own and verifies a candidate copy (so different stories that share a footer or a
template never merge); `sketch.py` is what is kept of an article for that (a few hundred bytes,
no text) and its lede keys; `flashes.py` keys short items by their words; `copies.py` prepares
an article for all that and assigns stories in memory for `wirewatch rules test`. The client is
passed in; this package does not import redis.
"""
