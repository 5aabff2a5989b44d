"""A SQL warehouse as a live source (``kind: warehouse``): usage, subscriptions,
invoices, accounts, people and activities from admin-written queries, incrementally
by a cursor column."""
