"""Sources: read each system's data and normalise it into ``context.records.Record``.

integrations/ fetches and normalises; context/ stores and derives. A source kind is
registered in ``integrations.registry``; ``integrations.sync`` runs the sources a
config names and reports what changed.
"""
