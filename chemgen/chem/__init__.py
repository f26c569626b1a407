"""Chemistry helpers: RDKit molecules, OPSIN, name casing, the known-compounds index."""
