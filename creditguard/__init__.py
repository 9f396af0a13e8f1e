"""The application: command line, source wiring, demo.  The core lives in ``connector``."""

__version__ = "0.1.0"
