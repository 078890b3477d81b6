"""Stage 4, stories: articles in, the story each belongs to out.

`registry.py` assigns each `Article` to a `Story` in Redis by its SimHash fingerprints (LSH bands,
one Lua call), so syndicated copies of one wire story alert once and list the other outlets. The
client is passed in; this package does not import redis.
"""
