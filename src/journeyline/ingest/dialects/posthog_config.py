"""The documents posthog-js fetches at load, answered so that it runs with no feature flags and
sends only to journeyline (decision 66, pure): the remote config (`/array/{token}/config`, and
as a script `/array/{token}/config.js`) and the flags answer (`/flags`, `/decide`).

Everything journeyline does not do is off: no flags, no session recording, no surveys, no
heatmaps, no site apps, no toolbar. Events go to `/i/v0/e/`, gzip allowed.
"""

from __future__ import annotations

from typing import Any

import orjson

CAPTURE_ENDPOINT = "/i/v0/e/"
COMPRESSION = ["gzip", "gzip-js"]


def remote_config(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "supportedCompression": COMPRESSION,
        "hasFeatureFlags": False,
        "captureDeadClicks": False,
        "capturePerformance": False,
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "analytics": {"endpoint": CAPTURE_ENDPOINT},
        "elementsChainAsString": True,
        "sessionRecording": False,
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
    }


def remote_config_script(token: str) -> str:
    """The config as posthog-js's loader takes it from a script: set on `window`."""
    document = {"config": remote_config(token), "siteApps": []}
    # orjson escapes nothing HTML-special; `<` in a string would end a <script> early.
    literal = orjson.dumps(document).decode().replace("<", "\\u003c")
    key = orjson.dumps(token).decode().replace("<", "\\u003c")
    return (
        "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"window._POSTHOG_REMOTE_CONFIG[{key}]={literal};}})();\n"
    )


def flags() -> dict[str, Any]:
    """`/flags` and `/decide`: no flag for anyone, in both answer shapes (v1 and v2)."""
    return {
        "flags": {},
        "featureFlags": {},
        "featureFlagPayloads": {},
        "errorsWhileComputingFlags": False,
        "quotaLimited": [],
        "supportedCompression": COMPRESSION,
        "sessionRecording": False,
        "surveys": False,
        "heatmaps": False,
        "siteApps": [],
        "toolbarParams": {},
        "isAuthenticated": False,
        "capturePerformance": False,
        "autocapture_opt_out": False,
        "elementsChainAsString": True,
        "analytics": {"endpoint": CAPTURE_ENDPOINT},
    }
