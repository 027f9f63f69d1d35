"""Real time (DESIGN §10): committed mutations fanned out to each tenant's live clients."""
