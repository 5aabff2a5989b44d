"""The context store: accounts and everything known about them, from every source.

context/ stores, resolves and derives. It imports neither bot/ nor integrations/.
"""
