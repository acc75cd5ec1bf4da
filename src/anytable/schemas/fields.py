"""Field types, field and table descriptions: the provider-neutral schema of a table."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from anytable.errors import NotFoundError


class FieldType(StrEnum):
    text = "text"
    number = "number"
    checkbox = "checkbox"
    single_select = "single_select"
    multi_select = "multi_select"
    date = "date"
    user = "user"
    url = "url"
    email = "email"
    phone = "phone"
    link = "link"
    attachment = "attachment"
    location = "location"
    formula = "formula"
    created_time = "created_time"
    modified_time = "modified_time"
    created_by = "created_by"
    modified_by = "modified_by"
    auto_number = "auto_number"
    other = "other"  # a provider type with no contract equivalent: read as the provider gives it


COMPUTED_TYPES = frozenset(
    {
        FieldType.formula,
        FieldType.created_time,
        FieldType.modified_time,
        FieldType.created_by,
        FieldType.modified_by,
        FieldType.auto_number,
    }
)
SELECT_TYPES = frozenset({FieldType.single_select, FieldType.multi_select})
TEXT_TYPES = frozenset({FieldType.text, FieldType.email, FieldType.phone})
DATE_TYPES = frozenset({FieldType.date, FieldType.created_time, FieldType.modified_time})
USER_TYPES = frozenset({FieldType.user, FieldType.created_by, FieldType.modified_by})


class FieldInfo(BaseModel):
    """One field as describe_table shows it.

    ``options`` is the list of option names of a select field. ``extra`` carries what a provider
    needs to keep (its native type, property, option ids...) and is never shown.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    type: FieldType
    options: list[str] | None = None
    primary: bool = False
    read_only: bool = False
    required: bool = False  # the provider refuses a record without a value here (GPTBots)
    unique: bool = False  # the provider refuses a value another record already has (GPTBots)
    native_type: str | None = None
    extra: dict[str, object] = {}

    @property
    def computed(self) -> bool:
        return self.type in COMPUTED_TYPES or self.read_only

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "name": self.name, "type": self.type.value}
        if self.options is not None:
            out["options"] = list(self.options)
        out["primary"] = self.primary
        if self.required:
            out["required"] = True
        if self.unique:
            out["unique"] = True
        return out


class FieldSpec(BaseModel):
    """A field to create (create_table, create_field)."""

    name: str
    type: FieldType
    options: list[str] | None = None


class ViewInfo(BaseModel):
    id: str
    name: str
    type: str | None = None


class TableInfo(BaseModel):
    id: str
    name: str


class TableSchema(BaseModel):
    """A table with its fields (and views, where the provider has them)."""

    id: str
    name: str
    fields: list[FieldInfo]
    views: list[ViewInfo] | None = None

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "fields": [f.public() for f in self.fields],
        }
        if self.views is not None:
            out["views"] = [{"id": v.id, "name": v.name} for v in self.views]
        return out

    def field_by_name(self) -> dict[str, FieldInfo]:
        return {f.name: f for f in self.fields}

    def find_view(self, key: str) -> ViewInfo | None:
        """A view by id or name (None: no such view, or the provider has no views)."""
        return next((v for v in self.views or [] if key in (v.id, v.name)), None)

    def view_id(self, key: str) -> str:
        """The id of the view named ``key`` (by id or name); NotFoundError lists the views."""
        view = self.find_view(key)
        if view is None:
            names = ", ".join(repr(v.name) for v in self.views or []) or "none"
            raise NotFoundError(f"No view {key!r} in table {self.name!r}; views are {names}.")
        return view.id

    def find_field(self, key: str) -> FieldInfo | None:
        """A field by name, else by id (fields are named by name or id everywhere)."""
        return self.field_index().get(key)

    def field_index(self) -> dict[str, FieldInfo]:
        """Fields by id and by name (a name wins over an equal id)."""
        index = {f.id: f for f in self.fields}
        index.update({f.name: f for f in self.fields})
        return index
