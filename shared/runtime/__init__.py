"""Process-level runtime: embedded engines, provisioning, migrations and signing keys.

Used by the ``aims`` CLI and by tests; the services themselves never import it at request time.
"""
