"""Salesforce: accounts, contacts, opportunities, their history and activities,
read through the REST API with SOQL (``kind: salesforce``)."""
