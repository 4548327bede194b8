"""What every area's schemas use: the base class, problems, pages, cursors, names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from offload.core.forms import CONTROL_MESSAGE, ID_MAX, has_control_characters


class Schema(ma.Schema):
    class Meta:
        ordered = True

    @ma.pre_load
    def _refuse_control_characters(self, data: Any, **_kwargs: Any) -> Any:
        """Text with a control character (a NUL byte...) is refused field by field, as the
        forms refuse it: PostgreSQL can't store a NUL, and no member means one."""
        if isinstance(data, Mapping):
            read = {field.data_key or name for name, field in self.load_fields.items()}
            refused = {key: [CONTROL_MESSAGE] for key in read
                       if key in data and _holds_control(data[key])}
            if refused:
                raise ma.ValidationError(refused)
        return data


def _holds_control(value: Any) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, Mapping):
        return any(_holds_control(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_control(v) for v in value)
    return False


# --- errors -----------------------------------------------------------------------------

class FieldErrorSchema(Schema):
    in_ = fields.String(data_key="in", required=True,
                        metadata={"description": "query, path or body"})
    field = fields.String(required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """An error, as RFC 9457 problem details."""

    type = fields.String(required=True, metadata={
        "description": "A stable URI naming the kind of problem: urn:offload:problem:<slug>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={
        "description": "For invalid input: each field and what was wrong with it"})


# --- members ----------------------------------------------------------------------------

class MemberNameSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    name = fields.String(required=True)


class RatingSchema(Schema):
    """A member's rating, as the site shows it beside their name."""

    value = fields.Float(allow_none=True, required=True, metadata={
        "description": "Stars, 1–5, a Bayesian average (the prior counted in); null "
                       "without a published review"})
    reviews = fields.Integer(required=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A page of ``item``s: the items and the URL of the next page (null on the last)."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "next": fields.String(allow_none=True, required=True, metadata={
            "description": "The next page (also in the Link header, rel=next); null on "
                           "the last page"}),
    }, name=name)


# --- query strings ----------------------------------------------------------------------

def choice(enum, description: str) -> fields.String:
    return fields.String(validate=validate.OneOf([m.value for m in enum]),
                         metadata={"description": description})


PAGE_SIZE_MAX = 100


def _page_size() -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1, max=PAGE_SIZE_MAX), metadata={
        "description": "Items per page (default: the site's page size)"})


class CursorQuery(Schema):
    cursor = fields.String(metadata={"description": "From a previous page's `next`"})
    limit = _page_size()


class SinceQuery(Schema):
    """A feed read oldest first and polled: what came after ``since``."""

    since = fields.Integer(load_default=0, validate=validate.Range(min=0, max=ID_MAX),
                           metadata={"description": "From a previous answer's `next`: "
                                                    "only what came after it (0: from the "
                                                    "start)"})
    limit = _page_size()
