"""``python -m chemgen.cli``: the same as the ``chemgen`` command."""
import sys

from chemgen.cli import main

sys.exit(main())
