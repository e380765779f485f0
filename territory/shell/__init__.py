"""The command-line shell: the one `territory` command that names every component, the
zero-setup demo that starts them all, and the demo's embedded broker.

The only part of the core that imports the services (`ingest`, `optimiser`,
`dashboard`, `devices`, `bridges`): it is where they are put together.
"""
