"""Ingestion: dialect adapters, the canonical event, and the one pipeline."""
