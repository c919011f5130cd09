"""StoreError: what goes wrong with the database file, said in one French sentence."""

from __future__ import annotations

import sqlite3


class StoreError(Exception):
    """A problem with the database that a person can read and act on (message in French)."""


_UNIQUE_SENTENCES = {
    "schools.uai": "Une école porte déjà ce code UAI.",
    "cases.number": "Ce numéro de dossier existe déjà.",
    "one_ordinary_meeting_per_period": "Cette période a déjà sa réunion ordinaire.",
    "periods.school_year, periods.number": "Cette période existe déjà pour cette année scolaire.",
}


def translate_sqlite_error(error: sqlite3.Error) -> StoreError:
    """Turn an sqlite3 exception into a StoreError with a French message."""
    text = str(error).lower()
    if "readonly" in text or "read-only" in text:
        return StoreError("La base est ouverte en lecture seule : aucune modification n'est possible.")
    if "locked" in text or "busy" in text:
        return StoreError("La base est occupée par un autre programme : réessayez dans un instant.")
    if "disk is full" in text:
        return StoreError("Le disque est plein : rien n'a été enregistré. Libérez de la place et réessayez.")
    if "disk i/o" in text:
        return StoreError("Erreur d'écriture sur le disque : rien n'a été enregistré.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError("Le fichier de la base est endommagé (corrompu) : utilisez une sauvegarde.")
    if isinstance(error, sqlite3.IntegrityError):
        if "constraint failed" not in text:  # a rule of schema.sql, already said in French
            return StoreError(str(error))
        for constraint, sentence in _UNIQUE_SENTENCES.items():
            if constraint in text:
                return StoreError(sentence)
        if "foreign key" in text:
            return StoreError("Enregistrement refusé : il renvoie à une fiche qui n'existe pas (ou plus).")
        if "unique constraint" in text:
            return StoreError("Enregistrement refusé : cette fiche figure déjà (deux fois la même).")
        if "not null constraint" in text:
            column = str(error).rsplit(":", 1)[-1].strip()
            return StoreError(f"Enregistrement refusé : une valeur obligatoire manque ({column}).")
        if "check constraint" in text and "uai" in text:
            return StoreError("Code UAI invalide : sept chiffres et une lettre clé qui leur correspond.")
        rule = _first_line(str(error)).removeprefix("CHECK constraint failed: ")  # SQLite's English
        return StoreError(f"Enregistrement refusé : donnée incohérente (règle de la base : {rule}).")
    return StoreError(f"Erreur de la base de données : {error}.")


def _first_line(text: str, limit: int = 120) -> str:
    """SQLite quotes a whole CHECK constraint, over several lines: one line is enough to read."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + "…"
