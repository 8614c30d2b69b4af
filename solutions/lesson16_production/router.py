"""Routes: the catalogue, a slow sales report, health probes and metrics."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from . import legacy, service
from .dependencies import EngineDep, MetricsDep, RedisDep, SessionDep, SettingsDep, ViewsDep
from .exceptions import error_responses
from .health import OK, readiness
from .schemas import MAX_ID, Health, ProductCreate, ProductRead, SalesReport

products = APIRouter(prefix="/products", tags=["products"])
reports = APIRouter(prefix="/reports", tags=["reports"])
operations = APIRouter(tags=["operations"])

ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]


@products.get("", response_model=list[ProductRead])
async def list_products(session: SessionDep, views: ViewsDep) -> Sequence[ProductRead]:
    """The catalogue, oldest first, with each product's views."""
    return [service.as_read(product, await views.get(product.id or 0)) for product in service.list_products(session)]


@products.post("", status_code=status.HTTP_201_CREATED, response_model=ProductRead, responses=error_responses(409))
def create_product(data: ProductCreate, session: SessionDep) -> ProductRead:
    return service.as_read(service.create_product(session, data), 0)


@products.get("/{product_id}", response_model=ProductRead, responses=error_responses(404))
async def read_product(product_id: ProductId, session: SessionDep, views: ViewsDep) -> ProductRead:
    """One product; reading it counts a view, whichever worker answers."""
    product = service.get_product(session, product_id)
    return service.as_read(product, await views.add(product_id))


@reports.get("/sales", response_model=SalesReport)
async def sales_report(settings: SettingsDep) -> SalesReport:
    """The day's sales, from a legacy client that blocks for STORE_REPORT_SECONDS."""
    # BEGIN SOLUTION 16.1: Run the blocking client in the thread pool, not in the event loop
    report = await run_in_threadpool(legacy.fetch_sales_report, settings.report_seconds)
    # STUB
    # report = legacy.fetch_sales_report(settings.report_seconds)
    # END SOLUTION
    return SalesReport(**report)


@operations.get("/health/live", response_model=Health)
async def live() -> Health:
    """The process is up and its event loop answers. Checks no dependency."""
    return Health(status="ok")


@operations.get("/health/ready", response_model=Health, responses={503: {"model": Health}})
async def ready(engine: EngineDep, redis: RedisDep, settings: SettingsDep) -> Response:
    """200 when the database and Redis answer; 503 naming each one that does not."""
    checks = await readiness(engine, redis, settings.health_timeout_seconds)
    # BEGIN SOLUTION 16.2: 503 when any dependency failed
    healthy = all(result == OK for result in checks.values())
    # STUB
    # healthy = True
    # END SOLUTION
    body = Health(status="ready" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@operations.get("/metrics", response_class=Response)
def metrics(metrics: MetricsDep, request: Request) -> Response:
    """The metrics in Prometheus' text format: every worker's, in multiprocess mode."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
