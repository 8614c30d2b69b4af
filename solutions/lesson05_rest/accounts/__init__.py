"""Accounts: who the operations belong to."""
