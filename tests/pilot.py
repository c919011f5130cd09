"""What the screen tests share to drive the application through Textual's Pilot."""

from __future__ import annotations

from rased_tui.app import RasedApp
from rased_tui.store import Store


def new_app(store: Store) -> RasedApp:
    """The app, its notifications kept for the whole test (not 5 s: a slow run stays green)."""
    app = RasedApp(store)
    app.NOTIFICATION_TIMEOUT = 3600
    return app
