"""`evalbot serve` and `evalbot hook`: webhooks in, durable queue, workers, status page (an entry point).

server    the ASGI app: routing and HTTP for webhook intake, the status page, metrics
status    the status page: the store's queue, jobs and PRs through templates/status.html.j2
metrics   the Prometheus text for /metrics, from plain counts (pure)
worker    leases jobs from the store and runs them through the pipeline
service   wires settings → store, Hub client, pipeline, workers, server
hook      one webhook event inside an HF Job (no server)
"""
