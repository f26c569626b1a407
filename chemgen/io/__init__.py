"""Input and output: names files, writers (table, CSV, JSON Lines, SDF, images), atomic files, progress."""
