"""chemgen: generate candidate chemical compound names with a NumPy char-RNN and plausibility filters."""
from chemgen.errors import ChemgenError, ConfigError, FilterError, ModelFileError, VocabularyError
from chemgen.filters import Candidate, Verdict

__version__ = "0.1.0"
