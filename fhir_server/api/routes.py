"""The FHIR REST routes (http.html): thin handlers over the repository and search."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Response, request

from fhir_server import patch as patches
from fhir_server import search
from fhir_server.api.bulk import register_bulk_routes
from fhir_server.api.bundle import process_bundle
from fhir_server.api.capability import capability_statement, openapi_json, terminology_capabilities
from fhir_server.api.context import base_url, check_type, ctx, query_pairs
from fhir_server.api.history import history_bundle
from fhir_server.api.http import (
    check_accept,
    fhir_response,
    media_type,
    prefer_return,
    prefer_strict,
    read_json_body,
)
from fhir_server.api.operations import register_operation_routes
from fhir_server.api.operations import server as operations_server
from fhir_server.api.responses import resource_response, write_response
from fhir_server.outcome import FhirError, information, operation_outcome
from fhir_server.patch import PATCH_MEDIA_TYPES, Patch
from fhir_server.repository.meta import parse_etag

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
register_operation_routes(bp)  # $name at every level
register_bulk_routes(bp)  # Bulk Data status and files


@bp.before_request
def _negotiate() -> None:
    check_accept()


def _if_match() -> int | None:
    value = request.headers.get("If-Match")
    if value is None:
        return None
    version = parse_etag(value)
    if version is None:
        raise FhirError.of(400, "invalid", f'If-Match must be a version ETag like W/"1", got {value!r}')
    return version


def _read_patch() -> Patch:
    """JSON Patch or FHIRPath Patch, by Content-Type (415 naming both for anything else)."""
    media = media_type(request.headers.get("Content-Type", ""))
    if media not in PATCH_MEDIA_TYPES:
        raise patches.unsupported(media)
    return patches.from_http(media, read_json_body(PATCH_MEDIA_TYPES))


def _conditional_query() -> list[tuple[str, str]]:
    pairs = [(k, v) for k, v in request.args.items(multi=True) if not k.startswith("_format")]
    pairs = [(k, v) for k, v in pairs if k != "_pretty"]
    if not pairs:
        raise FhirError.of(400, "invalid", "This interaction needs an id or search criteria")
    return pairs


def _search(type_: str | None, compartment: tuple[str, str] | None = None) -> Response:
    interaction = "search-compartment" if compartment else "search-type" if type_ else "search-system"
    base = base_url()
    plan = search.parse_search(
        type_, query_pairs(), compartment=compartment, strict=prefer_strict(), base_url=base
    )
    with ctx().store.session() as s:
        result = ctx().repo.search(s, plan, interaction)
    # Links are GET URLs whatever the request was: `POST [type]/_search` pages on `[type]?...`
    # (a GET of `[type]/_search` is no FHIR interaction).
    path = request.path.removeprefix(bp.url_prefix or "").removesuffix("/_search")
    return fhir_response(search.search_bundle(plan, result, base, path))


# -- system level ----------------------------------------------------------------------


@bp.get("/metadata")
def metadata() -> Response:
    mode = request.args.get("mode", "full")
    if mode == "terminology":
        return fhir_response(terminology_capabilities(base_url(), operations_server().terminology))
    if mode not in ("full", "normative"):
        raise FhirError.of(400, "invalid", "mode is full, normative or terminology")
    return fhir_response(capability_statement(base_url()))


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document (public, like /metadata: it describes, it holds no data);
    `_type=Patient,MedicationRequest` keeps the part about those types."""
    only = None
    if "_type" in request.args:
        only = frozenset(t for t in request.args["_type"].split(",") if t)
        unknown = sorted(only - ctx().resource_types) or ([] if only else [""])
        if unknown:
            raise FhirError.of(400, "invalid", f"_type names no resource type: {unknown[0]!r}")
    return Response(openapi_json(base_url(), only), content_type="application/json")


@bp.route("/metadata", methods=["POST", "PUT", "PATCH", "DELETE"])
def metadata_other() -> Response:
    raise FhirError.of(405, "not-supported", f"{request.method} is not allowed on /metadata")


@bp.post("")
@bp.post("/")
def bundle() -> Response:
    return fhir_response(process_bundle(read_json_body()))


@bp.get("")
@bp.get("/")
@bp.post("/_search")
def system_search() -> Response:
    return _search(None)


@bp.get("/_history")
def system_history() -> Response:
    return fhir_response(history_bundle(None, None))


# -- type level ------------------------------------------------------------------------


@bp.get("/<type_>")
def type_search(type_: str) -> Response:
    return _search(check_type(type_))


@bp.post("/<type_>/_search")
def type_search_post(type_: str) -> Response:
    return _search(check_type(type_))


@bp.post("/<type_>")
def create(type_: str) -> Response:
    check_type(type_)
    resource = read_json_body()
    repo, condition = ctx().repo, request.headers.get("If-None-Exist")
    # Checked (and, without workflow rules, indexed; with them, their reads done) before
    # the write lock is taken; a conditional create decides in the session.
    prepared = None
    if not condition:
        with ctx().store.session() as reads:
            prepared = repo.prepare_create(type_, _without_id(resource), reads=reads)
    with ctx().store.session(write=True) as s:
        if condition:
            result = repo.create_if_none_exist(s, type_, resource, _parse_query(condition))
        else:
            result = repo.create(s, type_, _without_id(resource), prepared=prepared)
    return write_response(result)


@bp.put("/<type_>")
def conditional_update(type_: str) -> Response:
    check_type(type_)
    resource, query = read_json_body(), _conditional_query()
    with ctx().store.session(write=True) as s:
        result = ctx().repo.conditional_update(s, type_, query, resource, _if_match())
    return write_response(result)


@bp.patch("/<type_>")
def conditional_patch(type_: str) -> Response:
    check_type(type_)
    patch, query = _read_patch(), _conditional_query()
    with ctx().store.session(write=True) as s:
        result = ctx().repo.conditional_patch(s, type_, query, patch, _if_match())
    return write_response(result)


@bp.delete("/<type_>")
def conditional_delete(type_: str) -> Response:
    check_type(type_)
    query = _conditional_query()
    with ctx().store.session(write=True) as s:
        deleted = ctx().repo.conditional_delete(s, type_, query)
    return _delete_response(f"Deleted {len(deleted)} resource(s)", {})


@bp.get("/<type_>/_history")
def type_history(type_: str) -> Response:
    return fhir_response(history_bundle(check_type(type_), None))


# -- instance level --------------------------------------------------------------------


@bp.get("/<type_>/<id_>")
def read(type_: str, id_: str) -> Response:
    check_type(type_)
    with ctx().store.session() as s:
        rv = ctx().repo.read(s, type_, id_)
    return resource_response(rv, *_subsetting())


@bp.post("/<type_>/<id_>")
def post_instance(type_: str, id_: str) -> Response:
    check_type(type_)
    raise FhirError.of(405, "not-supported", "POST is not allowed on a resource instance")


@bp.put("/<type_>/<id_>")
def update(type_: str, id_: str) -> Response:
    check_type(type_)
    resource, repo, if_match = read_json_body(), ctx().repo, _if_match()
    # Validated (and, for types without workflow rules, indexed) before the write lock.
    prepared = repo.prepare_update(type_, id_, resource)
    with ctx().store.session(write=True) as s:
        result = repo.update(s, type_, id_, resource, if_match, prepared=prepared)
    return write_response(result)


@bp.patch("/<type_>/<id_>")
def patch(type_: str, id_: str) -> Response:
    check_type(type_)
    patch = _read_patch()
    with ctx().store.session(write=True) as s:
        result = ctx().repo.patch(s, type_, id_, patch, _if_match())
    return write_response(result)


@bp.delete("/<type_>/<id_>")
def delete(type_: str, id_: str) -> Response:
    check_type(type_)
    with ctx().store.session(write=True) as s:
        rv = ctx().repo.delete(s, type_, id_)
    if rv is None:
        return _delete_response(f"{type_}/{id_} did not exist or was already deleted", {})
    return _delete_response(f"Deleted {type_}/{id_}", {"ETag": f'W/"{rv.version}"'})


@bp.get("/<type_>/<id_>/_history")
def instance_history(type_: str, id_: str) -> Response:
    return fhir_response(history_bundle(check_type(type_), id_))


@bp.get("/<type_>/<id_>/_history/<vid>")
def vread(type_: str, id_: str, vid: str) -> Response:
    check_type(type_)
    if not vid.isdigit():
        raise FhirError.of(404, "not-found", f"{type_}/{id_} has no version {vid!r}")
    with ctx().store.session() as s:
        rv = ctx().repo.vread(s, type_, id_, int(vid))
    return resource_response(rv)


@bp.route("/<type_>/<id_>/<name>", methods=["GET", "POST"])
def compartment_search(type_: str, id_: str, name: str) -> Response:
    check_type(type_)
    if request.method != "GET":
        raise FhirError.of(405, "not-supported", "Compartment search is GET only")
    return _search(check_type(name), compartment=(type_, id_))


# -- helpers ---------------------------------------------------------------------------


def _subsetting() -> tuple[str | None, list[str] | None]:
    """_summary and _elements on read, as on search."""
    elements = request.args.get("_elements")
    names = [e.strip() for e in elements.split(",") if e.strip()] if elements else None
    return request.args.get("_summary"), names


def _parse_query(condition: str) -> list[tuple[str, str]]:
    query = condition.split("?", 1)[1] if "?" in condition else condition
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        raise FhirError.of(400, "invalid", f"Cannot read the search criteria {condition!r}")
    return pairs


def _without_id(resource: object) -> object:
    """On create the server assigns the id: a client-sent id is ignored, as the spec says."""
    if isinstance(resource, dict) and "id" in resource:
        return {k: v for k, v in resource.items() if k != "id"}
    return resource


def _delete_response(text: str, headers: dict[str, str]) -> Response:
    """200 with an OperationOutcome, or 204 when the client prefers a minimal answer."""
    if prefer_return() == "minimal":
        return fhir_response(None, 204, headers)
    return fhir_response(operation_outcome([information("informational", text)]), 200, headers)
