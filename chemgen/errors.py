"""Exceptions a user of chemgen can catch; each message is one line meant for a person."""


class ChemgenError(Exception):
    """Base of every error chemgen raises on purpose (the CLI prints it and exits 2)."""


class VocabularyError(ChemgenError, ValueError):
    """A name holds a character the model's vocabulary does not have."""


class ModelFileError(ChemgenError):
    """A model file is missing, truncated, pickled, foreign or inconsistent."""


class ConfigError(ChemgenError, ValueError):
    """A setting (hyperparameter, CLI flag, filter option) is out of range or malformed."""


class FilterError(ChemgenError):
    """A filter is unknown, failed to load, or got bad options."""


class ChemgenWarning(UserWarning):
    """Something works but is probably not what was meant (the CLI prints it as one line)."""
