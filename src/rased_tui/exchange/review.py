"""An export bundle opened for review, read-only, without writing anything to disk.

`open_bundle_for_review(path)` reads a bundle folder or an encrypted `.rased` file (decrypted
in memory), merges it into an empty base held in memory (store/opening.open_in_memory) the way
an import does (exchange/importer.py checks it whole: manifest, checksums, every cell; the
files are read one at a time and the rows written in batches), then seals that base
read-only. The IEN reviews what an antenna sent with every screen of the application, and no
file is created, not even a temporary one; closing the application forgets it all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rased_tui.domain.calendar import format_french_date
from rased_tui.exchange.importer import ImportRefused, check_bundle, merge_checked, read_bundle_or_refuse
from rased_tui.store import Store, StoreError


@dataclass(frozen=True)
class ReviewedBundle:
    """The base in memory, and what the manifest says of the bundle."""

    store: Store
    site: str
    created_at: str
    pseudonymised: bool

    def describe(self) -> str:
        """'export de « RASED de Maromme » du 21/11/2026, pseudonymisé', for the title bar."""
        try:
            day = format_french_date(self.created_at[:10])
        except ValueError:  # the manifest's date is not checked by the import: it may be anything
            day = ""
        kind = "pseudonymisé" if self.pseudonymised else "nominatif"
        return f"export de « {self.site} » {f'du {day}' if day else '(date inconnue)'}, {kind}"


def open_bundle_for_review(bundle: Path, *, passphrase: Callable[[], str] | None = None,
                           progress: Callable[[str, int, int, int], None] | None = None) -> ReviewedBundle:
    """The bundle at `bundle` as a read-only base in memory. ImportRefused (in French) when
    the bundle cannot be read or does not check out."""
    checked = check_bundle(read_bundle_or_refuse(Path(bundle), passphrase))
    store = Store.in_memory(bundle)
    try:
        merge_checked(store, checked, progress=progress)
        for key, value in checked.settings.items():
            store.set_setting(key, value)
        store.make_read_only()
    except StoreError as error:
        store.close()
        raise ImportRefused(f"{error} L'export ne peut pas être ouvert.") from None
    except BaseException:
        store.close()
        raise
    sender = checked.settings.get("antenne") or checked.settings.get("circonscription") or checked.site
    return ReviewedBundle(store, sender, str(checked.manifest.get("created_at") or ""), checked.pseudonymised)
