"""Lesson 09: a trading API made fast with Redis and HTTP caching, and kept fair with rate limits."""
