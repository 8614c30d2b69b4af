"""Sending a finished report by e-mail, in the background, after the response.

``BackgroundTasks`` runs a function after the response is sent, in the API's own process.
The client already has its 202 by then, so an exception there reaches no one: the server
logs it, and the delivery would say "pending" forever. So the work runs through a guard
that hands any exception to an error callback, which records the failure where the
client can see it: ``GET /deliveries/{id}``.
"""

from fastapi import APIRouter, BackgroundTasks, Request, Response, status
from sqlalchemy import Engine
from sqlmodel import Session

from . import service
from .dependencies import CeleryDep, DeliveryId, EngineDep, MailerDep, ReportId, SessionDep
from .exceptions import DeliveryNotFound, error_responses
from .mail import Mailer, MailError
from .models import Delivery
from .schemas import DeliveryCreate, DeliveryRead

router = APIRouter(tags=["deliveries"])
UNEXPLAINED = "The e-mail could not be sent"


@router.post(
    "/reports/{report_id}/deliveries",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=error_responses(404, 409),
)
def deliver_report(
    report_id: ReportId,
    data: DeliveryCreate,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    celery: CeleryDep,
    engine: EngineDep,
    mailer: MailerDep,
) -> Delivery:
    """Send a finished report by e-mail. The answer comes at once; the e-mail goes after it."""
    report, text = service.report_result(session, celery, report_id)
    delivery = Delivery(report_id=report_id, to=str(data.to))
    session.add(delivery)
    session.flush()
    assert delivery.id is not None
    # Ids and text, never the session or its rows: the task runs after the session has closed.
    background.add_task(send_in_background, engine, mailer, delivery.id, (service.file_name(report), text))
    response.headers["Location"] = str(request.url_for("get_delivery", delivery_id=delivery.id))
    return delivery


@router.get("/deliveries/{delivery_id}", response_model=DeliveryRead, responses=error_responses(404))
def get_delivery(delivery_id: DeliveryId, session: SessionDep) -> Delivery:
    """The delivery: pending, sent, or failed with the reason."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    return delivery


def send_in_background(engine: Engine, mailer: Mailer, delivery_id: int, attachment: tuple[str, str]) -> None:
    """The background task: send the e-mail; if that raises, give the error to ``record_failure``."""
    # BEGIN SOLUTION 10.1: Send the e-mail; pass any exception to record_failure instead of letting it escape
    try:
        send_report(engine, mailer, delivery_id, attachment)
    except Exception as error:
        record_failure(engine, delivery_id, error)
    # END SOLUTION


def send_report(engine: Engine, mailer: Mailer, delivery_id: int, attachment: tuple[str, str]) -> None:
    """Send the e-mail, then mark the delivery sent, in a session of its own."""
    with Session(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return
        mailer.send(
            f"delivery-{delivery_id}.eml",
            to=delivery.to,
            subject=f"Your sales report, {attachment[0]}",
            body="The report you asked for is attached.",
            attachment=attachment,
        )
        delivery.status = "sent"
        session.commit()


def record_failure(engine: Engine, delivery_id: int, error: Exception) -> None:
    """The error callback: mark the delivery failed, with a reason the client may read."""
    # BEGIN SOLUTION 10.1: Mark the delivery failed, with the mail error's text as its error (others: UNEXPLAINED)
    with Session(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return
        delivery.status = "failed"
        delivery.error = str(error) if isinstance(error, MailError) else UNEXPLAINED
        session.commit()
    # END SOLUTION
