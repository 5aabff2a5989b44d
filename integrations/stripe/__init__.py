"""Stripe: customers, subscriptions and invoices of one Stripe account."""
