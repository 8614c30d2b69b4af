"""Reference solutions: the same packages as labs/, complete. labs/ is generated from here."""
