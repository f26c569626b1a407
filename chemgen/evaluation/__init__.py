"""Measuring a model: evaluate (sampling, checking, the figures), the MOSES/GuacaMol metrics, HTML reports."""
