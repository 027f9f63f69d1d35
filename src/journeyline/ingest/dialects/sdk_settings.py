"""The settings documents the browser SDKs fetch when they load (pure): what Segment's
analytics.js 2.0 reads from `{cdnURL}/v1/projects/{writeKey}/settings` and what RudderStack's
JavaScript SDK v3 reads from `{configUrl}/sourceConfig`, built so that each SDK sends to
journeyline and loads nothing from any other host (decision 62).

Segment's document configures only the "Segment.io" integration (its own sender; any other
integration would make the SDK fetch device-mode code from Segment's CDN) with journeyline as its
`apiHost` and `protocol`, and no remote plugins, middleware or video plugins (each would be a
script from another host). Its remote metrics go to journeyline's `/v1/m` over https only: the
SDK takes the metrics' scheme from its load options, never from this document, so behind plain
http they are switched off (sample rate 0) rather than sent to an https port nobody listens on.

RudderStack's source config has no destinations (device-mode destinations are scripts from
RudderStack's CDN) and its own error and metrics reporting off (they would post to the data
plane's `/rsaMetrics`, which journeyline does not take).
"""

from __future__ import annotations

from typing import Any

# The version RudderStack's SDK reads to know the shape of the config (its own API says 1).
SOURCE_CONFIG_VERSION = 1
SEGMENT_METRICS_SAMPLE_RATE = 0.1


def api_host(base_url: str) -> tuple[str, str]:
    """`http://host:port/` → ("http", "host:port/v1"): Segment's `protocol` and `apiHost`."""
    scheme, _, rest = base_url.partition("://")
    return scheme, rest.rstrip("/") + "/v1"


def segment_settings(write_key: str, base_url: str) -> dict[str, Any]:
    protocol, host = api_host(base_url)
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": host,
                "protocol": protocol,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
            }
        },
        "plan": {},
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {
            "host": host,
            "sampleRate": SEGMENT_METRICS_SAMPLE_RATE if protocol == "https" else 0,
        },
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }


def rudderstack_source_config(write_key: str, tenant_id: str) -> dict[str, Any]:
    """The source is the tenant (its id names the source and the workspace)."""
    return {
        "isHosted": False,
        "source": {
            "id": tenant_id,
            "name": "journeyline",
            "writeKey": write_key,
            "workspaceId": tenant_id,
            "enabled": True,
            "config": {
                "statsCollection": {
                    "errors": {"enabled": False},
                    "metrics": {"enabled": False},
                }
            },
            "destinations": [],
        },
        "updatedAt": None,
        "version": SOURCE_CONFIG_VERSION,
    }
