"""Lesson 08: Bookly's token lifecycle and authorization: refresh rotation, revocation, scopes, roles, email links."""
