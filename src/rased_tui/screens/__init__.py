"""The screens of rased-tui: one Textual Screen (or ModalScreen dialog) per file."""
