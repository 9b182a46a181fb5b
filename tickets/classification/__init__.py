"""Offline ticket classification: a local TF-IDF + linear model and a keyword fallback.

Nothing in this package imports Django, so it can be trained, benchmarked and tested on its own.
"""
