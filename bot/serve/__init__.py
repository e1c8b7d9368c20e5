"""`evalbot serve` and `evalbot hook`: webhooks in, durable queue, workers, status page (an entry point).

server    the ASGI app: webhook intake, status page, metrics
status    the status page: the store's queue, jobs and PRs through templates/status.html.j2
worker    leases jobs from the store and runs them through the pipeline
service   wires settings → store, Hub client, pipeline, workers, server
hook      one webhook event inside an HF Job (no server)
"""
