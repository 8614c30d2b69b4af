"""The deployment's seed step: create the tables and the demo products, then exit.

``python -m labs.lesson16_production.seed`` runs once before the API starts (docker-compose's
``seed`` service). It may run again: it adds nothing that is already there.
"""

from .config import Settings
from .database import create_db_engine, create_tables


def main() -> None:
    settings = Settings()
    engine = create_db_engine(settings.database_url)
    try:
        create_tables(engine)
    finally:
        engine.dispose()
    print("seeded")


if __name__ == "__main__":
    main()
