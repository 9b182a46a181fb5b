"""Helpline's PostgreSQL backend: Django's, plus write-behind statements and a health check
without a round trip (see base.py)."""
