"""Outgoing webhooks: signing, URL safety, the transactional outbox and its relay."""
