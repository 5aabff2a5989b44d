"""HubSpot CRM v3 as a live source (``kind: hubspot``): owners, companies,
contacts and deals, incrementally by last-modified time."""
