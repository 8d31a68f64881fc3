"""Schemathesis hooks for api_fuzz.rs.

One upstream false positive is dropped, and only that one: in its coverage
phase, Schemathesis 4 counts every property of an all-optional body that
also says `additionalProperties: false` as required, then reports the server
for accepting a body without one. A failure is dropped only when the property
it says is missing is not in the `required` list of the operation's body.
"""

import schemathesis
from schemathesis.generation.meta import CoverageScenario


def _body_schema(case):
    body = (case.operation.definition.raw or {}).get("requestBody") or {}
    content = body.get("content") or {}
    schema = (content.get("application/json") or {}).get("schema") or {}
    ref = schema.get("$ref")
    if ref:
        schema = case.operation.schema.raw_schema
        for part in ref.lstrip("#/").split("/"):
            schema = schema.get(part, {})
    return schema


@schemathesis.hook
def filter_failure(context, failure, case, response):
    meta = case.meta
    data = getattr(getattr(meta, "phase", None), "data", None)
    if getattr(data, "scenario", None) != CoverageScenario.OBJECT_MISSING_REQUIRED_PROPERTY:
        return True
    missing = getattr(data, "parameter", None)
    return missing in (_body_schema(case).get("required") or [])
