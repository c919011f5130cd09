"""The directory of the pôle ressource in the store: members and schools (being built).

A mixin of `Store`: its methods use the store's transaction, audit and query helpers.
"""

from __future__ import annotations


class DirectoryQueries:
    """Members and schools: deactivation, deletion of unused records, handover of aids."""
