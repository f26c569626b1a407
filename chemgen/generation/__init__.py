"""From a model to ranked candidates: the pipeline (the one front door, local or on a Dask cluster),
the per-batch core both paths share, the collector and its stores, and the cluster code."""
