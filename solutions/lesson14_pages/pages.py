"""The desk's web pages: HTML rendered from templates, and a form that posts, then redirects.

The pages use the very dependencies the API uses (``SessionDep``) and the same service: a page
is another way to show the same data, not another copy of the logic.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from . import service
from .dependencies import SessionDep
from .schemas import MAX_ID, OperationCreate
from .templates import templates

pages = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

OperationId = Annotated[int, Path(ge=1, le=MAX_ID)]
FORM_FIELDS = ("symbol", "side", "quantity", "price", "note")
HTML_ERROR: dict[str, Any] = {"content": {"text/html": {}}}
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {404: {**HTML_ERROR, "description": "No such page"}}
FORM_ERRORS: dict[int | str, dict[str, Any]] = {
    303: {"description": "Saved: see the operation's page"},
    422: {**HTML_ERROR, "description": "The form again, with the errors and the values entered"},
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first message for each form field that failed, keyed by the field's name."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, item["msg"])
    return errors


@pages.get("/", name="operations_page", responses=PAGE_ERRORS)
def operations_page(request: Request, session: SessionDep) -> Response:
    """The desk's operations, as a table."""
    # BEGIN SOLUTION 14.1: Render operations.html with the desk's operations (TemplateResponse(request, ...))
    return templates.TemplateResponse(request, "operations.html", {"operations": service.list_operations(session)})
    # END SOLUTION


@pages.get("/operations/new", name="new_operation_page")
def new_operation_page(request: Request) -> Response:
    """A blank form for a new operation."""
    return templates.TemplateResponse(request, "form.html", {"values": {}, "errors": {}})


@pages.post("/operations/new", name="submit_operation", responses=FORM_ERRORS)
def submit_operation(
    request: Request,
    session: SessionDep,
    symbol: Annotated[str, Form()] = "",
    side: Annotated[str, Form()] = "",
    quantity: Annotated[str, Form()] = "",
    price: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Save a new operation, then redirect to its page; on errors, the form again with what was entered."""
    values = {"symbol": symbol, "side": side, "quantity": quantity, "price": price, "note": note}
    # BEGIN SOLUTION 14.2: Re-render the form with errors and values (422), or save and redirect with 303
    try:
        data = OperationCreate.model_validate(values)
    except ValidationError as error:
        context = {"values": values, "errors": field_errors(error)}
        return templates.TemplateResponse(
            request, "form.html", context, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    operation = service.create_operation(session, data)
    # 303 See Other: the browser follows with a GET, so reloading the next page never posts twice.
    target = request.url_for("operation_page", operation_id=operation.id)
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    # END SOLUTION


@pages.get("/operations/{operation_id}", name="operation_page", responses=PAGE_ERRORS)
def operation_page(request: Request, operation_id: OperationId, session: SessionDep) -> Response:
    """One operation."""
    # BEGIN SOLUTION 14.1: Render operation.html with the operation (a NotFound for an unknown id)
    operation = service.get_operation(session, operation_id)
    return templates.TemplateResponse(request, "operation.html", {"operation": operation})
    # END SOLUTION
