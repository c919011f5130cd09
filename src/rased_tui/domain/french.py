"""Small helpers for writing French: numbers with their nouns, file system errors."""

from __future__ import annotations

import errno
from pathlib import Path


def count(number: int, singular: str, plural: str | None = None) -> str:
    """'1 dossier', '2 dossiers', '0 dossier' (French: 0 and 1 take the singular)."""
    return f"{number} {singular if number < 2 else plural or singular + 's'}"


# The file system errors people meet (a USB key locked, full or pulled out), in French: Python's
# own messages (`strerror`) are in English.
OS_ERRORS_IN_FRENCH = {
    errno.EROFS: "le support est en lecture seule (clé USB verrouillée ?)",
    errno.ENOSPC: "plus de place sur le disque ou la clé : rien n'a été gardé à moitié",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENOTDIR: "ce n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
    errno.EIO: "erreur d'entrée / sortie (clé retirée ?)",
    errno.EDQUOT: "quota de disque dépassé",
}


def os_reason(error: OSError) -> str:
    """Why a file operation failed, in French where the error is a usual one."""
    return OS_ERRORS_IN_FRENCH.get(error.errno, error.strerror or str(error))


def french_os_error(error: OSError) -> str:
    """One French sentence for a file system error, naming the visible file (not a hidden
    temporary one of an export)."""
    where = Path(error.filename) if error.filename else None
    if where is not None:
        hidden = next((index for index, part in enumerate(where.parts)
                       if part.startswith(".") and part not in (".", "..")), None)
        if hidden:
            where = Path(*where.parts[:hidden])
    return f"erreur du système de fichiers{f' ({where})' if where else ''} : {os_reason(error)}."
