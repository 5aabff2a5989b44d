"""Gong as a live source (``kind: gong``): users, recorded calls with their parties
and transcripts, incrementally by call start time."""
