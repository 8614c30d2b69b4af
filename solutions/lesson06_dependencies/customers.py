"""Routes about the caller, mounted under ``/customers``."""

from fastapi import APIRouter, status

from .dependencies import CurrentCustomer
from .exceptions import error_responses
from .models import Customer
from .schemas import CustomerRead

router = APIRouter(
    prefix="/customers",
    tags=["customers"],
    responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_429_TOO_MANY_REQUESTS),
)


@router.get("/me", response_model=CustomerRead)
def read_me(customer: CurrentCustomer) -> Customer:
    """The caller: balance, and calls made so far (this one included)."""
    return customer
