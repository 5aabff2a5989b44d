"""HubSpot CRM v3 as a live source (``kind: hubspot``): owners, companies,
contacts, deals with their stage history, and engagements, incrementally by
last-modified time, with archived and merged records marked."""
