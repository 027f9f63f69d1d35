"""Repositories: the only place that builds SQL. Every statement is scoped by tenant."""
