"""Lesson 12: a trading desk API behind middleware: request ids, an access log, CORS, hosts, GZip, security headers."""
