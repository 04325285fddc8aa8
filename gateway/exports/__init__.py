"""Exports an auditor can trust: the audit package, OSCAL documents and readable reports."""
