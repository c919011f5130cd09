"""The settings of a base: who it belongs to, its holiday zone, how long closed cases are kept,
and what the export form proposes by default.

Kept in the `settings` table (one key per field, text values); `Settings.from_stored` reads
them back, `Settings.stored` gives the key/value pairs to write. Validation is French.

Two export options have no default on purpose: a nominative export and the psychologists'
confidential notes must be chosen at each export, in so many words (DOMAIN.md, "Who may see
what"), never once and for all.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rased_tui.domain.enums import Zone

DEFAULT_RETENTION_YEARS = 3
MAX_RETENTION_YEARS = 10
EXPORT_FORMATS = ("excel", "rfc4180")

# field -> key in the settings table (the keys other parts of the program already read)
SETTING_KEYS = {
    "circonscription": "circonscription",
    "antenna": "antenne",
    "zone": "zone",
    "retention_years": "retention_years",
    "export_folder": "export_folder",
    "export_format": "export_format",
    "export_encrypted": "export_encrypted",
    "export_open_only": "export_open_only",
}
YES, NO = "1", "0"


class Settings(BaseModel):
    """Everything the settings screen (`8`) edits."""

    model_config = ConfigDict(str_strip_whitespace=True, validate_assignment=True)

    circonscription: str = Field("", max_length=120, title="Circonscription")
    antenna: str = Field("", max_length=120, title="Antenne")
    zone: Zone | None = Field(None, title="Zone de vacances")
    retention_years: int = Field(DEFAULT_RETENTION_YEARS, ge=1, le=MAX_RETENTION_YEARS,
                                 title="Durée de conservation")
    export_folder: str = Field("", max_length=1000, title="Dossier d'export")
    export_format: str = Field("excel", title="Format d'export")
    export_encrypted: bool = False
    export_open_only: bool = False

    @field_validator("export_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in EXPORT_FORMATS:
            raise ValueError(f"format d'export inconnu : {value} (excel ou rfc4180)")
        return value

    @classmethod
    def from_stored(cls, stored: dict[str, str]) -> "Settings":
        """The settings from the table's rows; a value that no longer reads (edited by hand,
        an older version) falls back to its default rather than stopping the program."""
        values = {}
        for field, key in SETTING_KEYS.items():
            if key not in stored:
                continue
            candidate = stored[key] == YES if cls.model_fields[field].annotation is bool else stored[key]
            try:
                cls.model_validate({field: candidate})
            except ValueError:
                continue
            values[field] = candidate
        return cls.model_validate(values)

    def stored(self) -> dict[str, str | None]:
        """Key/value pairs for the settings table; None for a key to remove (no zone chosen)."""
        values: dict[str, str | None] = {}
        for field, key in SETTING_KEYS.items():
            value = getattr(self, field)
            if isinstance(value, bool):
                values[key] = YES if value else NO
            else:
                values[key] = None if value is None else str(value)
        return values
