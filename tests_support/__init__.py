"""Helpers shared by every app's tests: factories, live processes, protocol clients."""
