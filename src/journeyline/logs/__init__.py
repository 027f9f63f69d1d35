"""The process's log lines: what a line says about the request or job it was written for
(context.py), what it may never say (redaction.py), and how it is written (formatting.py)."""
