"""rased-tui: a keyboard-driven terminal application for RASED antennas and the IEN."""

__version__ = "0.1.0"
