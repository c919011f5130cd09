"""The domain of rased-tui: models, enums with French labels, and the rules of a case.

Pure Python and pydantic: no I/O, no SQL, no Textual.
"""
