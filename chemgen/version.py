"""The version of chemgen, declared once: the package, the command line and the wheel read it here."""

__version__ = "0.2.0.dev0"
