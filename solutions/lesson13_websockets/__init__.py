"""Lesson 13: a chat over WebSockets: rooms, history, JWT authentication, Redis pub/sub across instances, and SSE."""
