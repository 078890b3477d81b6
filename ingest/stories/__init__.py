"""Stage 4, stories: articles in, the story each belongs to out.

`registry.py` assigns each `Article` to a `Story` in Redis (LSH bands over SimHash, one Lua
script), so syndicated copies of one wire story alert once and list the other outlets;
`content.py` decides what of an article is the story's own and verifies a candidate copy (so
different stories that share a footer never merge); `copies.py` prepares an article for that and
assigns stories in memory for `wirewatch rules test`. The client is passed in; this package does
not import redis.
"""
