"""The HTTP side of a node: Prometheus /metrics and the web dashboard (aiohttp)."""
