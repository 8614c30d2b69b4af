"""The routers, one per part of the API."""
