"""The lesson apps, one package per lesson. labs/ is generated from solutions/ by `course sync`."""
