"""The model core: cells, network, vocabulary, optimisers, training, sampling, scoring, model file.

Nothing here imports the filter stage.
"""
