"""drf-spectacular extensions: our Bearer tokens as HTTP bearer auth, and every error answer
declared as problem+json."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from core.fields import PY_WHITESPACE
from core.problems import PROBLEM_CONTENT_TYPE


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.BearerTokenAuthentication"
    match_subclasses = True  # accounts.authentication.ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/tokens, /api/v1/auth/signup or "
            "/api/v1/auth/token.",
        }


# The errors any operation may answer besides those its view declares, by what the operation
# has: a body can be malformed, too large or of another type; a path parameter can name
# nothing; credentials can be missing or wrong; a session request can lack its CSRF token; an
# unsafe request can meet the per-user write limit; an Idempotency-Key can be in use or
# reused; a runaway query is stopped.
_GENERIC_PROBLEMS = {
    "400": "Malformed or invalid request",
    "401": "Missing or invalid credentials",
    "403": "Not allowed (for a session: the CSRF token is missing or wrong)",
    "404": "No such object for this user",
    "409": "A request with this Idempotency-Key is still running",
    "413": "Request body too large",
    "415": "Unsupported Content-Type",
    "422": "This Idempotency-Key was used for another request",
    "429": "Too many requests: see Retry-After",
    "503": "The database did not answer in time",
}
_UNSAFE = {"post", "put", "patch", "delete"}


def _generic_problems(method: str, path: str, operation: dict) -> set[str]:
    codes = set()
    authenticated = bool(operation.get("security")) and {} not in operation["security"]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add("400")
    if operation.get("requestBody"):
        codes |= {"413", "415"}
    if "{" in path:
        codes.add("404")
    if any(param["name"] == "Idempotency-Key" for param in operation.get("parameters", [])):
        codes |= {"409", "422"}
    if authenticated:
        codes |= {"401", "503"}
        if method in _UNSAFE:
            codes |= {"403", "429"}
    return codes


# Postgres cannot store NUL, so every string the API takes refuses it (DRF's CharField does);
# the schema says so, for strings that have no pattern, enum or format of their own. A string
# that may not be blank is refused when only whitespace is left after DRF's strip(): the
# schema asks for one character that is not NUL and not whitespace in Python's sense.
_NO_NUL = "^[^\\x00]*$"
_NOT_BLANK = f"^[^\\x00]*[^\\x00{PY_WHITESPACE}][^\\x00]*$"


def _forbid_nul(schema: dict, components: dict) -> None:
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    for sub in schema.get("oneOf", []) + schema.get("allOf", []) + schema.get("anyOf", []):
        _forbid_nul(sub, components)
    if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
        schema["pattern"] = _NOT_BLANK if schema.get("minLength", 0) >= 1 else _NO_NUL
    for prop in schema.get("properties", {}).values():
        _forbid_nul(prop, components)
    if isinstance(schema.get("items"), dict):
        _forbid_nul(schema["items"], components)


def _empty_means_absent(parameter: dict) -> None:
    """An optional query filter given empty (`?tag=`) is no filter, as DRF reads a query
    string; the schema admits the empty value rather than calling it invalid."""
    schema = parameter.get("schema", {})
    if parameter.get("in") != "query" or parameter.get("required") or "type" not in schema:
        return
    if schema["type"] != "string" or parameter["name"] == "cursor":
        return
    parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def _request_schema(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def request_constraints(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the schema says what the server refuses, so a
    request valid by the schema is accepted and one it forbids is refused: no NUL in strings,
    and a PATCH names at least one field and only fields it may change."""
    components = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _forbid_nul(parameter.get("schema", {}), components)
                _empty_means_absent(parameter)
            body = _request_schema(operation)
            if body is None:
                continue
            _forbid_nul(body, components)
            if method == "patch" and "$ref" in body:
                operation["requestBody"]["required"] = True
                patched = components[body["$ref"].rsplit("/", 1)[-1]]
                patched.update(additionalProperties=False, minProperties=1)
    return result


def problem_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every error answer is declared, and declared as
    `application/problem+json` (what core.problems sends), so clients and schemathesis can
    trust the schema for errors too."""
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _generic_problems(method, path, operation):
                responses.setdefault(code, {"description": _GENERIC_PROBLEMS[code]})
            for code, response in responses.items():
                if int(code) < 400:
                    continue
                content = response.get("content") or {"application/json": {"schema": problem}}
                schema = content.get("application/json", {}).get("schema", problem)
                response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": schema}}
            operation["responses"] = dict(sorted(responses.items()))
    return result
