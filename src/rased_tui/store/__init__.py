"""The SQLite file: opening it safely, its schema and migrations, the audit chain, and every
query of the application (they return domain models)."""

from rased_tui.store.errors import StoreError
from rased_tui.store.migrations import SCHEMA_VERSION
from rased_tui.store.opening import resolve_database_path
from rased_tui.store.store import IntegrityReport, Store

__all__ = ["SCHEMA_VERSION", "IntegrityReport", "Store", "StoreError", "resolve_database_path"]
