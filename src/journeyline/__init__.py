"""journeyline: a multi-tenant customer data platform."""

__version__ = "0.1.0"
