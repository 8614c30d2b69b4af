"""Where the pages' templates and static files are: beside this file, wherever the app is started from.

A relative ``directory="templates"`` would be looked up in the *working directory*: the pages
would work when the server is started from this folder and fail from anywhere else.
"""

from pathlib import Path

from fastapi.templating import Jinja2Templates

PACKAGE = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE / "templates"
STATIC_DIR = PACKAGE / "static"

# Autoescaping is on for .html templates: `{{ note }}` turns `<` into `&lt;`, so stored text stays text.
templates = Jinja2Templates(directory=TEMPLATES_DIR)
