"""Provider webhooks: verify each provider's signature, map its payloads to canonical events."""
