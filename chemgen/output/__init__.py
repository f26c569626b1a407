"""Everything that renders candidates: writers (table, CSV, JSON Lines, SDF, images), HTML pages, DataFrames."""
