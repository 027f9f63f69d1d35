"""Running asynchronous jobs: on Arq workers (Redis) or on the embedded in-process worker."""
