"""Lesson 07: Bookly users: Argon2 passwords, OAuth2 password login, JWT access tokens, bearer and cookie transports."""
