"""How a line is written: `json` (one object per line: time, level, logger, message and what
the context knows, context.py) or `text` (the same facts for a person), both redacted whole
(redaction.py). `logging_config` is the dictConfig `serve` hands uvicorn, which applies it in
each of its processes, and `worker` applies itself."""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson

from journeyline.config import LogSettings
from journeyline.logs.context import current_job, current_request
from journeyline.logs.redaction import redact

ACCESS_LOGGER = "journeyline.access"
# What a caller may add to a line with `extra=`: the access line's facts. Anything else a call
# passes stays out (an allow-list: a line never carries a field nobody reviewed).
EXTRA_FIELDS = ("status", "duration_ms")


def context_fields(record: logging.LogRecord) -> dict[str, object]:
    """The request's or the job's facts, then the allowed extras."""
    fields: dict[str, object] = {}
    request = current_request()
    if request is not None:
        fields["request_id"] = request.request_id
        fields["method"] = request.method
        fields["route"] = request.route
        if request.tenant_id is not None:
            fields["tenant_id"] = request.tenant_id
    job = current_job()
    if job is not None:
        fields["job_id"] = job.job_id
        fields["tenant_id"] = job.tenant_id
    for name in EXTRA_FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line.update(context_fields(record))
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = context_fields(record)
        if fields:
            described = " ".join(f"{name}={value}" for name, value in fields.items())
            head, newline, trace = text.partition("\n")
            text = f"{head} [{described}]{newline}{trace}"
        return redact(text)


def logging_config(settings: LogSettings, *, access: bool | None = None) -> dict[str, Any]:
    """Every line to stderr in the chosen format at the chosen level; uvicorn's own access log
    off (the app writes its own, api/instrumentation.py), on when `access` (or the setting)."""
    formatter = JsonFormatter if settings.format == "json" else TextFormatter
    access_on = settings.access if access is None else access
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"journeyline": {"()": f"{formatter.__module__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "journeyline",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": settings.level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's lines reach the root's handler; its access log is replaced.
            "uvicorn": {"level": settings.level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            ACCESS_LOGGER: {"level": "INFO" if access_on else "WARNING"},
        },
    }


def configure(settings: LogSettings) -> None:
    """The process's logging, for a process uvicorn does not start (`journeyline worker`)."""
    logging.config.dictConfig(logging_config(settings))
